import * as assert from "node:assert/strict";
import { CONNECTION_KEYS } from "../components/data/connections";
import { rabbitPasswordHash } from "../components/data/definitions";
import { totalRequests } from "../components/lib/cluster";
import { readStackFile } from "../components/config/load";
import { validateConfig } from "../components/config/validate";
import { ManifestChecksumError, sha256Of, verifyManifest } from "../components/lib/manifest";
import { PROJECT_DIR, PlatformRun, revealSecrets, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const CR = (group: string, kind: string) => `kubernetes:${group}:${kind}`;
const inputs = (run: PlatformRun, type: string, name: string): Any => run.get(type, name).inputs;

describe("data tier", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
    });

    it("runs everything in the cluster in dev (no AWS account) and uses managed AWS stores in prod", () => {
        assert.equal(dev.resources.filter((r) => r.type.startsWith("aws:")).length, 0);
        assert.equal(dev.ofType(CR("postgresql.cnpg.io/v1", "Cluster")).length, 1);
        assert.equal(dev.ofType("kubernetes:apps/v1:StatefulSet").length, 1, "in-cluster Redis");
        assert.equal(prod.ofType(CR("postgresql.cnpg.io/v1", "Cluster")).length, 0);
        assert.equal(prod.ofType("aws:rds/instance:Instance").length, 3);
        assert.equal(prod.ofType("aws:elasticache/replicationGroup:ReplicationGroup").length, 1);
        for (const run of [dev, prod])
            assert.equal(run.ofType(CR("rabbitmq.com/v1beta1", "RabbitmqCluster")).length, 1, "RabbitMQ in the cluster in both");
    });

    it("lets only its clients' namespaces reach the data stores: FinBot's apps, Prometheus, KEDA, the RabbitMQ operator", () => {
        for (const run of [dev, prod]) {
            const policy = inputs(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "finbot-data-ingress");
            const ns = run.config.namespaces;
            assert.equal(policy.metadata.namespace, ns.data);
            assert.deepEqual(policy.spec.podSelector, {});
            assert.deepEqual(policy.spec.ingress, [
                {
                    from: [
                        {
                            namespaceSelector: {
                                matchExpressions: [
                                    {
                                        key: "kubernetes.io/metadata.name",
                                        operator: "In",
                                        values: [ns.apps, ns.data, ns.monitoring, ns.autoscaling, "rabbitmq-system"],
                                    },
                                ],
                            },
                        },
                    ],
                },
            ]);
        }
    });

    describe("dev (in-cluster)", () => {
        it("CloudNativePG: a primary and one replica, pooled through PgBouncer in transaction mode", () => {
            const release = inputs(dev, "kubernetes:helm.sh/v3:Release", "finbot-database-operator");
            assert.deepEqual([release.chart, release.version], ["cloudnative-pg", "0.29.0"]);
            const cluster = inputs(dev, CR("postgresql.cnpg.io/v1", "Cluster"), "finbot-database-cluster");
            assert.equal(cluster.spec.instances, 2);
            assert.equal(cluster.spec.storage.size, "2Gi");
            assert.equal(cluster.spec.postgresql.parameters.log_min_duration_statement, "500");
            assert.equal(cluster.spec.postgresql.parameters["pg_stat_statements.track"], "all");
            assert.equal(cluster.spec.enableSuperuserAccess, false);
            for (const type of ["rw", "ro"]) {
                const pooler = inputs(dev, CR("postgresql.cnpg.io/v1", "Pooler"), `finbot-database-pooler-${type}`);
                assert.equal(pooler.spec.type, type);
                assert.equal(pooler.spec.pgbouncer.poolMode, "transaction");
            }
            const operator = dev.get("kubernetes:helm.sh/v3:Release", "finbot-database-operator").urn;
            assert.ok(
                dev.get(CR("postgresql.cnpg.io/v1", "Cluster"), "finbot-database-cluster").dependsOn.includes(operator),
                "CRDs first",
            );
        });

        it("Redis: authenticated, memory-capped, non-root, with a redis_exporter sidecar", () => {
            const statefulSet = inputs(dev, "kubernetes:apps/v1:StatefulSet", "finbot-cache-redis");
            const pod = statefulSet.spec.template.spec;
            assert.equal(pod.securityContext.runAsNonRoot, true);
            assert.deepEqual(
                pod.containers.map((c: Any) => c.name),
                ["redis", "redis-exporter"],
            );
            assert.equal(pod.containers[0].image, "docker.io/library/redis:8.2.2");
            const conf = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-cache-conf").inputs) as Any).stringData["redis.conf"];
            assert.match(conf, /^requirepass \S{32}$/m);
            assert.match(conf, /^maxmemory 64mb$/m);
            assert.match(conf, /^maxmemory-policy volatile-lru$/m);
            assert.ok(
                JSON.stringify(dev.get("kubernetes:core/v1:Secret", "finbot-cache-conf").inputs).includes(
                    "1b47061264138c4ac30d75fd1eb44270",
                ),
                "secret",
            );
        });

        it("RabbitMQ: one node, quorum queues with dead-letter queues and length limits, scraped on 15692", () => {
            const cluster = inputs(dev, CR("rabbitmq.com/v1beta1", "RabbitmqCluster"), "finbot-queue-cluster");
            assert.equal(cluster.spec.replicas, 1);
            assert.match(cluster.spec.rabbitmq.additionalConfig, /default_queue_type = quorum/);
            const definitionsSecret = dev.get("kubernetes:core/v1:Secret", "finbot-queue-definitions");
            const definitions = JSON.parse((revealSecrets(definitionsSecret.inputs) as Any).stringData["definitions.json"]);
            // Loading definitions at boot skips the default user: FinBot's user must be in them, with
            // the hash of the password in AMQP_URL.
            const connections = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-api-connections").inputs) as Any).stringData;
            const password = decodeURIComponent(new URL(connections.AMQP_URL).password);
            const [user] = definitions.users;
            assert.equal(user.name, "finbot");
            assert.equal(user.password_hash, rabbitPasswordHash(password, Buffer.from(user.password_hash, "base64").subarray(0, 4)));
            assert.deepEqual(definitions.permissions, [{ user: "finbot", vhost: "/", configure: ".*", write: ".*", read: ".*" }]);
            assert.ok(JSON.stringify(definitionsSecret.inputs).includes("1b47061264138c4ac30d75fd1eb44270"), "the hash stays secret");
            assert.deepEqual(
                definitions.queues.map((q: Any) => `${q.name}:${q.arguments["x-queue-type"]}`),
                ["payments.settle:quorum", "payments.settle.dlq:quorum", "notifications.send:quorum", "notifications.send.dlq:quorum"],
            );
            const policy = definitions.policies.find((p: Any) => p.name === "finbot-payments.settle");
            assert.deepEqual(
                [policy.pattern, policy.definition["max-length"], policy.definition["dead-letter-routing-key"]],
                ["^payments\\.settle$", 10000, "payments.settle.dlq"],
            );
            const monitor = inputs(dev, CR("monitoring.coreos.com/v1", "ServiceMonitor"), "finbot-queue-service-monitor");
            assert.equal(monitor.spec.endpoints[0].port, "prometheus");
            // The operator's manifest is applied from the bytes checked against its pin (the plan stands in for the download).
            const operator = inputs(dev, "kubernetes:yaml/v2:ConfigGroup", "finbot-queue-operator");
            assert.match(
                operator.yaml,
                /verified .* https:\/\/github\.com\/rabbitmq\/cluster-operator\/releases\/download\/v2\.22\.3\/cluster-operator\.yml/,
            );
        });

        it("the data tier's requests fit a laptop: at most 1 vCPU and 2 GiB", () => {
            const total = totalRequests(dev.platform.dataTier?.footprint.requests ?? []);
            assert.ok(total.millicores <= 1000, `${total.millicores}m`);
            assert.ok(total.bytes <= 2 * 2 ** 30, `${total.bytes / 2 ** 20}Mi`);
        });

        it("workers scale on their queue with KEDA, down to zero in dev", () => {
            const scaled = inputs(dev, CR("keda.sh/v1alpha1", "ScaledObject"), "finbot-settlement-worker");
            assert.deepEqual([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount], [0, 3]);
            assert.deepEqual(scaled.spec.triggers[0].metadata, {
                protocol: "amqp",
                queueName: "payments.settle",
                mode: "QueueLength",
                value: "20",
            });
            const auth = inputs(dev, CR("keda.sh/v1alpha1", "TriggerAuthentication"), "finbot-settlement-worker-auth");
            assert.deepEqual(auth.spec.secretTargetRef, [{ parameter: "host", name: "settlement-worker-connections", key: "AMQP_URL" }]);
            const keda = inputs(dev, "kubernetes:helm.sh/v3:Release", "finbot-autoscaling-keda");
            assert.deepEqual([keda.chart, keda.version], ["keda", "2.20.2"]);
            assert.equal(inputs(dev, "kubernetes:apps/v1:Deployment", "finbot-settlement-worker").spec.replicas, undefined);
        });
    });

    describe("prod (AWS)", () => {
        it("RDS: encrypted Multi-AZ primary with backups, deletion protection, final snapshot, Performance Insights, protect", () => {
            const primary = prod.get("aws:rds/instance:Instance", "finbot-database-primary");
            const p = primary.inputs as Any;
            assert.equal(p.storageEncrypted, true);
            assert.equal(p.multiAz, true);
            assert.ok(p.backupRetentionPeriod >= 7);
            assert.equal(p.deletionProtection, true);
            assert.equal(p.skipFinalSnapshot, false);
            assert.equal(p.finalSnapshotIdentifier, "finbot-finbot-primary-final");
            assert.equal(p.performanceInsightsEnabled, true);
            assert.equal(p.monitoringInterval, 60);
            assert.equal(p.publiclyAccessible, false);
            assert.deepEqual([p.allocatedStorage, p.maxAllocatedStorage], [100, 1000]);
            assert.equal(p.password, "[secret]".length ? (primary.inputs as Any).password : undefined);
            assert.ok(JSON.stringify(p.password).includes("1b47061264138c4ac30d75fd1eb44270"), "the master password is a secret");
            assert.equal(primary.protect, true);
        });

        it("two read replicas of the primary, spread over the other zones", () => {
            const replicas = prod.ofType("aws:rds/instance:Instance").filter((r) => r.name.includes("replica"));
            assert.equal(replicas.length, 2);
            assert.deepEqual(
                replicas.map((r) => [(r.inputs as Any).replicateSourceDb, (r.inputs as Any).availabilityZone, r.protect]),
                [
                    ["finbot-finbot-primary", "eu-central-1b", true],
                    ["finbot-finbot-primary", "eu-central-1c", true],
                ],
            );
        });

        it("RDS Proxy pools connections with credentials from Secrets Manager, TLS required", () => {
            const proxy = inputs(prod, "aws:rds/proxy:Proxy", "finbot-database-proxy");
            assert.equal(proxy.engineFamily, "POSTGRESQL");
            assert.equal(proxy.requireTls, true);
            assert.equal(proxy.auths[0].authScheme, "SECRETS");
            const version = inputs(prod, "aws:secretsmanager/secretVersion:SecretVersion", "finbot-database-proxy-credentials");
            assert.equal(JSON.stringify(version.secretString).includes("1b47061264138c4ac30d75fd1eb44270"), true, "credentials are secret");
            assert.equal(
                inputs(prod, "aws:rds/proxyTarget:ProxyTarget", "finbot-database-proxy-target").dbInstanceIdentifier,
                "finbot-finbot-primary",
            );
        });

        it("creates the pg_stat_statements extension on RDS with an idempotent Job", () => {
            const job = prod.get("kubernetes:batch/v1:Job", "finbot-database-pg-stat-statements");
            const container = (job.inputs as Any).spec.template.spec.containers[0];
            assert.deepEqual(container.command, [
                "psql",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
            ]);
            assert.equal(
                container.env.find((e: Any) => e.name === "PGHOST").value,
                "finbot-finbot-primary.c0ffee0c0ffee.eu-central-1.rds.amazonaws.com",
            );
            assert.deepEqual(container.env.find((e: Any) => e.name === "PGPASSWORD").valueFrom, {
                secretKeyRef: { name: "postgres-admin-credentials", key: "password" },
            });
        });

        it("a parameter group with pg_stat_statements and the slow-query log", () => {
            const params = Object.fromEntries(
                inputs(prod, "aws:rds/parameterGroup:ParameterGroup", "finbot-database-params").parameters.map((p: Any) => [
                    p.name,
                    p.value,
                ]),
            );
            assert.equal(params.shared_preload_libraries, "pg_stat_statements");
            assert.equal(params.log_min_duration_statement, "250");
            assert.equal(params["rds.force_ssl"], "1");
        });

        it("databases and caches admit only the cluster's nodes", () => {
            for (const name of ["finbot-database-sg", "finbot-database-proxy-sg", "finbot-cache-sg"]) {
                const sg = inputs(prod, "aws:ec2/securityGroup:SecurityGroup", name);
                assert.equal(sg.ingress.length, 1);
                assert.deepEqual(sg.ingress[0].securityGroups, ["sg-REPLACE_ME"]);
                assert.equal(sg.ingress[0].cidrBlocks, undefined);
            }
        });

        it("ElastiCache: a node per zone, failover, Multi-AZ, encrypted in transit and at rest, auth token, eviction policy", () => {
            const group = prod.get("aws:elasticache/replicationGroup:ReplicationGroup", "finbot-cache-group");
            const g = group.inputs as Any;
            assert.equal(g.numCacheClusters, 3);
            assert.equal(g.automaticFailoverEnabled, true);
            assert.equal(g.multiAzEnabled, true);
            assert.equal(g.transitEncryptionEnabled, true);
            assert.equal(g.atRestEncryptionEnabled, true);
            assert.equal(g.engine, "valkey");
            assert.ok(JSON.stringify(g.authToken).includes("1b47061264138c4ac30d75fd1eb44270"), "auth token is secret");
            assert.equal(group.protect, true);
            const params = inputs(prod, "aws:elasticache/parameterGroup:ParameterGroup", "finbot-cache-params");
            assert.deepEqual(params.parameters, [{ name: "maxmemory-policy", value: "volatile-lru" }]);
            assert.equal(params.family, "valkey8");
        });

        it("RabbitMQ: three nodes spread over zones, a PodDisruptionBudget, sizes from config", () => {
            const cluster = inputs(prod, CR("rabbitmq.com/v1beta1", "RabbitmqCluster"), "finbot-queue-cluster");
            assert.equal(cluster.spec.replicas, 3);
            assert.equal(cluster.spec.persistence.storage, "20Gi");
            assert.deepEqual(cluster.spec.resources, { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "2Gi" } });
            assert.equal(
                cluster.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey,
                "topology.kubernetes.io/zone",
            );
            assert.equal(inputs(prod, "kubernetes:policy/v1:PodDisruptionBudget", "finbot-queue-pdb").spec.maxUnavailable, 1);
        });

        it("workers never scale to zero in prod", () => {
            const scaled = inputs(prod, CR("keda.sh/v1alpha1", "ScaledObject"), "finbot-settlement-worker");
            assert.deepEqual([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount], [2, 40]);
        });
    });

    it("hashes RabbitMQ passwords as rabbit_password_hashing_sha256 does (RabbitMQ's documented example)", () => {
        assert.equal(rabbitPasswordHash("test12", Buffer.from("908DC60A", "hex")), "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
        assert.equal(rabbitPasswordHash("same"), rabbitPasswordHash("same"), "stable across runs");
    });

    it("services see the same connection contract in both stacks: same Secret keys, right hosts", () => {
        const contract = (run: PlatformRun) =>
            (revealSecrets(run.get("kubernetes:core/v1:Secret", "finbot-api-connections").inputs) as Any).stringData;
        const d = contract(dev);
        const p = contract(prod);
        const keys = Object.values(CONNECTION_KEYS).flat().sort();
        assert.deepEqual(Object.keys(d).sort(), keys);
        assert.deepEqual(Object.keys(p).sort(), keys);
        assert.match(
            d.DATABASE_POOLED_URL,
            /^postgresql:\/\/finbot:\S+@finbot-db-pooler-rw\.finbot-data\.svc\.cluster\.local:5432\/finbot\?sslmode=require$/,
        );
        assert.match(d.DATABASE_READER_URL, /@finbot-db-ro\.finbot-data/);
        assert.match(p.DATABASE_POOLED_URL, /@finbot-finbot-proxy\.proxy-\w+\.eu-central-1\.rds\.amazonaws\.com:5432\//);
        assert.match(p.DATABASE_READER_URL, /@finbot-finbot-replica-1\./);
        assert.match(d.REDIS_URL, /^redis:\/\/:\S+@redis\.finbot-data\.svc\.cluster\.local:6379\/0$/);
        assert.match(p.REDIS_URL, /^rediss:\/\/:\S+@master\./);
        assert.match(d.AMQP_URL, /^amqp:\/\/finbot:\S+@finbot-queue\.finbot-data\.svc\.cluster\.local:5672\/%2F$/);
        const deployment = inputs(dev, "kubernetes:apps/v1:Deployment", "finbot-api");
        assert.ok(deployment.spec.template.spec.containers[0].envFrom.some((e: Any) => e.secretRef.name === "api-connections"));
        assert.equal(
            JSON.stringify(dev.get("kubernetes:core/v1:Secret", "finbot-api-connections").inputs).includes(
                "1b47061264138c4ac30d75fd1eb44270",
            ),
            true,
        );
    });
});

describe("release manifests", () => {
    const manifest = "apiVersion: v1\nkind: Namespace\nmetadata: { name: rabbitmq-system }\n";
    const url = "https://github.com/rabbitmq/cluster-operator/releases/download/v2.22.3/cluster-operator.yml";

    it("are applied only when their bytes match the pinned SHA-256", () => {
        assert.equal(verifyManifest({ url, sha256: sha256Of(manifest) }, manifest), manifest);
        assert.throws(
            () => verifyManifest({ url, sha256: sha256Of(manifest) }, `${manifest}# tampered\n`),
            (e: Error) => e instanceof ManifestChecksumError && e.message.startsWith(`${url}: SHA-256 is `),
        );
    });

    it("are refused by a production deployment until their checksum is recorded, and listed by the plan", () => {
        const read = readStackFile("prod", PROJECT_DIR);
        assert.ok(read.ok);
        const planned = validateConfig(read.raw, "allow");
        assert.ok(planned.ok && planned.placeholders.includes("finbot:releases.manifests.rabbitmq-cluster-operator.sha256"));
        const deployed = validateConfig(read.raw, "reject");
        assert.ok(
            !deployed.ok &&
                deployed.errors.some((e) => e.includes("finbot:releases.manifests.rabbitmq-cluster-operator.sha256: expected the SHA-256")),
        );
    });
});
