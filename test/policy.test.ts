// The policy pack: each rule against a passing and a failing resource, then every rule over the
// real plan of both stacks (no mandatory violation may remain).
import * as assert from "node:assert/strict";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { allPolicies, aws, kubernetes } from "../policy/rules";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { EvaluatedResource, evaluate } from "../policy/evaluate";
import { planDocument } from "../scripts/plan";
import { main as policyMain } from "../scripts/policy";
import { runMain, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;
type Policy = ResourceValidationPolicy | StackValidationPolicy;

function resource(type: string, props: Props, name = "r"): PolicyResource {
    return { type, props, urn: `urn:pulumi:test::finbot::${type}::${name}`, name } as unknown as PolicyResource;
}

/** Violations of one policy over resources, in an environment (as the engine would report them). */
async function violations(policy: Policy, resources: PolicyResource[], environment = "production"): Promise<string[]> {
    const found = await evaluate([policy], resources as unknown as EvaluatedResource[], environment);
    return found.map((v) => v.message);
}

const pod = (container: Props, podSecurity: Props = { runAsNonRoot: true }) => ({
    metadata: { name: "api", namespace: "apps", labels: { "app.kubernetes.io/part-of": "finbot", "app.kubernetes.io/version": "1" } },
    spec: {
        selector: { matchLabels: { app: "api" } },
        template: { metadata: { labels: { app: "api" } }, spec: { securityContext: podSecurity, containers: [container] } },
    },
});
const goodContainer = {
    name: "api",
    image: "ghcr.io/x/api:1.2.3",
    ports: [{ containerPort: 8080 }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    readinessProbe: {},
    livenessProbe: {},
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
    env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
};
const deployment = (container: Props, podSecurity?: Props) => resource("kubernetes:apps/v1:Deployment", pod(container, podSecurity));
const hpa = (max: number) =>
    resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {
        metadata: { namespace: "apps" },
        spec: { scaleTargetRef: { name: "api" }, maxReplicas: max },
    });
const pdb = resource("kubernetes:policy/v1:PodDisruptionBudget", {
    metadata: { namespace: "apps" },
    spec: { selector: { matchLabels: { app: "api" } } },
});
const rds = (props: Props) =>
    resource("aws:rds/instance:Instance", {
        storageEncrypted: true,
        publiclyAccessible: false,
        multiAz: true,
        backupRetentionPeriod: 14,
        deletionProtection: true,
        skipFinalSnapshot: false,
        performanceInsightsEnabled: true,
        monitoringInterval: 60,
        ...props,
    });
const cache = (props: Props) =>
    resource("aws:elasticache/replicationGroup:ReplicationGroup", {
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        userGroupIds: ["finbot-cache-users"],
        multiAzEnabled: true,
        automaticFailoverEnabled: true,
        ...props,
    });
const bucketSet = (block: boolean, versioned: boolean) => [
    resource("aws:s3/bucket:Bucket", { bucket: "assets" }),
    resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {
        bucket: "assets",
        blockPublicAcls: true,
        blockPublicPolicy: block,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
    }),
    resource("aws:s3/bucketVersioning:BucketVersioning", {
        bucket: "assets",
        versioningConfiguration: { status: versioned ? "Enabled" : "Suspended" },
    }),
    resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", { bucket: "assets" }),
];

/** Each rule: resources that pass, resources that fail. */
const CASES: Array<[Policy, PolicyResource[], PolicyResource[]]> = [
    [kubernetes.containerResources, [deployment(goodContainer)], [deployment({ ...goodContainer, resources: { requests: { cpu: "1" } } })]],
    [kubernetes.probes, [deployment(goodContainer)], [deployment({ ...goodContainer, readinessProbe: undefined })]],
    [kubernetes.nonRoot, [deployment(goodContainer)], [deployment(goodContainer, {})]],
    [
        kubernetes.noPrivilegeEscalation,
        [deployment(goodContainer)],
        [deployment({ ...goodContainer, securityContext: { allowPrivilegeEscalation: true } })],
    ],
    [
        kubernetes.readOnlyRootFilesystem,
        [deployment(goodContainer)],
        [deployment({ ...goodContainer, securityContext: { allowPrivilegeEscalation: false } })],
    ],
    [
        kubernetes.noLatestImages,
        [deployment(goodContainer), resource("kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster", { spec: { image: "rabbitmq:4.1.4" } })],
        [deployment({ ...goodContainer, image: "ghcr.io/x/api:latest" })],
    ],
    [
        kubernetes.noSecretsInConfigMaps,
        [resource("kubernetes:core/v1:ConfigMap", { metadata: { name: "c" }, data: { "redis.conf": "maxmemory 64mb" } })],
        [resource("kubernetes:core/v1:ConfigMap", { metadata: { name: "c" }, data: { "redis.conf": "requirepass hunter2" } })],
    ],
    [
        kubernetes.noSecretsInPlainEnv,
        [deployment({ ...goodContainer, env: [{ name: "MASTER_SECRET_ARN", value: "arn:aws:secretsmanager:eu-central-1:1:secret:x" }] })],
        [deployment({ ...goodContainer, env: [{ name: "API_TOKEN", value: "abc" }] })],
    ],
    [
        kubernetes.elasticsearchSecurity,
        [resource("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", { spec: { nodeSets: [{ name: "default", config: {} }] } })],
        [
            resource("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", {
                spec: { nodeSets: [{ name: "default", config: { "xpack.security.enabled": false } }] },
            }),
        ],
    ],
    [
        kubernetes.helmPinned,
        [resource("kubernetes:helm.sh/v3:Release", { chart: "keda", version: "2.20.2" })],
        [resource("kubernetes:helm.sh/v3:Release", { chart: "keda", version: "^2.20" })],
    ],
    [kubernetes.autoscaledDeployments, [deployment(goodContainer), hpa(4)], [deployment(goodContainer)]],
    [kubernetes.disruptionBudgets, [deployment(goodContainer), hpa(4), pdb], [deployment(goodContainer), hpa(4)]],
    [
        kubernetes.dataNetworkPolicies,
        [
            resource("kubernetes:postgresql.cnpg.io/v1:Cluster", { metadata: { namespace: "data" } }),
            resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", { metadata: { namespace: "data" } }),
        ],
        [resource("kubernetes:postgresql.cnpg.io/v1:Cluster", { metadata: { namespace: "data" } })],
    ],
    [aws.rdsEncrypted, [rds({})], [rds({ storageEncrypted: false })]],
    [aws.rdsNotPublic, [rds({})], [rds({ publiclyAccessible: true })]],
    [aws.rdsMultiAz, [rds({}), rds({ multiAz: false, replicateSourceDb: "primary" })], [rds({ multiAz: false })]],
    [aws.rdsBackups, [rds({})], [rds({ backupRetentionPeriod: 1 })]],
    [aws.rdsDeletionProtection, [rds({})], [rds({ deletionProtection: false })]],
    [aws.rdsMonitoring, [rds({})], [rds({ performanceInsightsEnabled: false })]],
    [aws.rdsProxyTls, [resource("aws:rds/proxy:Proxy", { requireTls: true })], [resource("aws:rds/proxy:Proxy", { requireTls: false })]],
    [aws.elasticacheEncryption, [cache({}), cache({ userGroupIds: undefined, authToken: "t" })], [cache({ userGroupIds: [] })]],
    [aws.elasticacheHighAvailability, [cache({})], [cache({ automaticFailoverEnabled: false })]],
    [
        aws.noPublicIngress,
        [resource("aws:ec2/securityGroup:SecurityGroup", { ingress: [{ fromPort: 5432, toPort: 5432, securityGroups: ["sg-1"] }] })],
        [resource("aws:ec2/securityGroup:SecurityGroup", { ingress: [{ fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }] })],
    ],
    [
        aws.iamNoWildcards,
        [
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["arn:x"] }],
                }),
            }),
        ],
        [
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }),
            }),
        ],
    ],
    [
        aws.secretsRecoveryWindow,
        [resource("aws:secretsmanager/secret:Secret", { recoveryWindowInDays: 7 })],
        [resource("aws:secretsmanager/secret:Secret", { recoveryWindowInDays: 0 })],
    ],
    [
        aws.cloudfrontHttps,
        [
            resource("aws:cloudfront/distribution:Distribution", {
                defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
                viewerCertificate: { minimumProtocolVersion: "TLSv1.2_2021" },
            }),
        ],
        [
            resource("aws:cloudfront/distribution:Distribution", {
                defaultCacheBehavior: { viewerProtocolPolicy: "allow-all" },
                viewerCertificate: { minimumProtocolVersion: "TLSv1" },
            }),
        ],
    ],
    [aws.s3Private, bucketSet(true, true), bucketSet(false, false)],
];

describe("policy pack", () => {
    it("has at least 20 rules, each with a description and an enforcement level", () => {
        assert.ok(allPolicies.length >= 20, `${allPolicies.length} rules`);
        assert.deepEqual(
            CASES.map(([p]) => p.name).sort(),
            allPolicies.map((p) => p.name).sort(),
            "every rule has a passing and a failing case",
        );
        for (const p of allPolicies) assert.ok(p.description && p.enforcementLevel, p.name);
    });

    for (const [policy, passing, failing] of CASES) {
        it(`${policy.name}: passes a compliant resource, reports a violating one`, async () => {
            assert.deepEqual(await violations(policy, passing), []);
            assert.notDeepEqual(await violations(policy, failing), []);
        });
    }

    for (const stack of ["dev", "prod"] as const) {
        it(`the real ${stack} plan has no mandatory violation (npm run policy)`, async () => {
            const run = await runStack(stack);
            const dir = mkdtempSync(path.join(tmpdir(), `finbot-policy-${stack}-`));
            writeFileSync(path.join(dir, "plan.json"), JSON.stringify(planDocument(run)));
            const result = await runMain(policyMain, [dir]);
            assert.match(result.stdout, new RegExp(`### ${stack} \\((staging|production)\\): ✅ 0 mandatory`));
            assert.equal(result.status, 0, result.stdout);
        });
    }

    it("npm run policy fails on a plan with a mandatory violation, naming rule and resource", async () => {
        const run = await runStack("dev");
        const doc = planDocument(run) as { stack: string; resources: Array<{ type: string; inputs: Props }> };
        const deploymentInPlan = doc.resources.find(
            (r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata?.name === "api",
        )!;
        deploymentInPlan.inputs.spec.template.spec.containers[0].image = "ghcr.io/stefanprodan/podinfo:latest";
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-policy-bad-"));
        writeFileSync(path.join(dir, "plan.json"), JSON.stringify(doc));
        const result = await runMain(policyMain, [dir]);
        assert.equal(result.status, 1);
        assert.match(
            result.stdout,
            /\| k8s-pinned-images \| mandatory \| finbot-api \| image "ghcr\.io\/stefanprodan\/podinfo:latest" of api is not pinned \|/,
        );
    });
});
