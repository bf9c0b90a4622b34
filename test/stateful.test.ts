// Everything in prod that holds data survives a mistaken `pulumi up` or `destroy`: protected, or
// retained when its owner goes. One test for every stateful kind, so the next one is covered too.
import * as assert from "node:assert/strict";
import { PlatformRun, runStack } from "./harness";

/** Resource types whose deletion loses data (or the keys to it), and that prod must protect. */
const STATEFUL = [
    "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:backup/vault:Vault",
    "aws:secretsmanager/secret:Secret",
    "eks:index:Cluster",
    "awsx:ec2:Vpc",
    "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster",
    "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch",
    "kubernetes:postgresql.cnpg.io/v1:Cluster",
    "kubernetes:core/v1:PersistentVolumeClaim",
];
/** Kept when deleted: logs are evidence (audit, access, database), retained even where not protected. */
const RETAINED = ["aws:cloudwatch/logGroup:LogGroup"];

describe("stateful resources", () => {
    let prod: PlatformRun;
    before(async () => {
        prod = await runStack("prod");
    });

    it("every stateful resource of prod is protected, every log group retained on delete", () => {
        const exposed = [
            ...prod.resources.filter((r) => STATEFUL.includes(r.type) && !r.protect).map((r) => `${r.type} ${r.name} is not protected`),
            ...prod.resources
                .filter((r) => RETAINED.includes(r.type) && !r.retainOnDelete)
                .map((r) => `${r.type} ${r.name} is not retained`),
        ];
        assert.deepEqual(exposed, []);
        const kinds = new Set(prod.resources.map((r) => r.type));
        assert.ok(STATEFUL.filter((t) => kinds.has(t)).length >= 10, "the check sees prod's stateful kinds");
        assert.ok(prod.get("kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster", "finbot-queue-cluster").protect, "the broker among them");
    });
});
