// Each cross-field check of the stack config on a config it accepts and one it refuses.
import * as assert from "node:assert/strict";
import { readStackFile } from "../components/config/load";
import * as checks from "../components/config/checks";
import { CONFIG_CHECKS, ConfigCheck } from "../components/config/checks";

// A stack file's values as read, to edit: any field may be set to anything.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LooseConfig = Record<string, any>;
import { validateConfig } from "../components/config/validate";
import { PROJECT_DIR, loadStackConfig } from "./harness";

const committedValues = new Map<string, LooseConfig>();

/** A committed stack's values as read (the file read once), a copy of its own to edit. */
function stackValues(stack: "dev" | "prod"): LooseConfig {
    if (!committedValues.has(stack)) {
        const read = readStackFile(stack, PROJECT_DIR);
        if (!read.ok) throw new Error(read.errors.join("\n"));
        committedValues.set(stack, read.raw.values);
    }
    return structuredClone(committedValues.get(stack)!);
}

/** prod's config as validated (defaults applied), which the capacity check reads; the checks never change a config. */
const prodConfig: LooseConfig = loadStackConfig("prod").config;

/** A committed stack's values with an edit. */
const edited = (stack: "dev" | "prod", edit: (c: LooseConfig) => void) => {
    const values = stackValues(stack);
    edit(values);
    return values;
};

const CASES: Array<[ConfigCheck, LooseConfig, LooseConfig, RegExp]> = [
    [
        checks.uniqueServiceNames,
        stackValues("dev"),
        edited("dev", (c) => c.services.push({ ...c.services[0] })),
        /a unique service name \(services\[0\] has it already\)/,
    ],
    [checks.imageKeysExist, stackValues("dev"), edited("dev", (c) => (c.workers[0].image = "api-v9")), /a key of finbot:releases\.images/],
    [
        checks.productionServiceReplicas,
        stackValues("prod"),
        edited("prod", (c) => (c.services[0].replicas.min = 1)),
        /at least 2 replicas in production/,
    ],
    [
        checks.productionMonitoring,
        stackValues("prod"),
        edited("prod", (c) => delete c.monitoring.alerting.pagerduty),
        /a PagerDuty routing key/,
    ],
    [
        checks.grafanaStateInDatabase,
        stackValues("prod"),
        edited("dev", (c) => (c.monitoring.grafana = { replicas: 2 })),
        /1 replica, or finbot:database enabled in aurora mode/,
    ],
    [checks.runbooksLinked, stackValues("dev"), edited("dev", (c) => delete c.monitoring.runbookBaseUrl), /the https URL of the runbooks/],
    [checks.workerScaling, stackValues("prod"), edited("prod", (c) => (c.workers[0].replicas.min = 0)), /scale to zero is for staging/],
    [
        checks.workerQueueExists,
        stackValues("dev"),
        edited("dev", (c) => (c.workers[0].queue = "payments.refund")),
        /a queue of finbot:queue\.queues/,
    ],
    [
        checks.awsNetworkKnown,
        stackValues("prod"),
        edited("prod", (c) => (c.cluster.mode = "existing")),
        /the AWS network ids \(needed by finbot:database\.mode aurora/,
    ],
    [
        checks.auroraResilience,
        stackValues("prod"),
        edited("prod", (c) => delete c.database.aurora.backupCopyRegion),
        /a second region for backup copies in production/,
    ],
    [checks.eksForAws, stackValues("prod"), edited("prod", (c) => (c.cluster.mode = "local")), /an EKS cluster/],
    [
        checks.clusterCreated,
        stackValues("prod"),
        edited("prod", (c) => (c.network = { vpcId: "vpc-0abc", vpcCidr: "10.0.0.0/16" })),
        /nothing in create mode \(finbot:cluster\.mode create makes the VPC; remove finbot:network\)/,
    ],
    [
        checks.deployRunnerReachesCluster,
        stackValues("prod"),
        edited("prod", (c) => delete c.delivery),
        /a runner in the VPC \(the created cluster's API is private: no hosted runner can reach it\)/,
    ],
    [
        checks.networkPolicyEnforced,
        stackValues("dev"),
        edited("dev", (c) => (c.cluster.cni = "bridge")),
        /a CNI that enforces NetworkPolicy \(vpc-cni, kindnet, k3s, calico, cilium\): bridge ignores them/,
    ],
    [
        checks.apiServerPrivate,
        edited("dev", (c) => (c.kubernetes = { ...c.kubernetes, apiServerCidrs: ["172.18.0.0/16"] })),
        edited("dev", (c) => (c.kubernetes = { ...c.kubernetes, apiServerCidrs: ["172.18.0.0/16", "0.0.0.0/0"] })),
        /a private range where the control plane and the nodes answer/,
    ],
    [
        checks.tenTimesReads,
        stackValues("prod"),
        edited("prod", (c) => (c.database.aurora.readQueriesPerSecondPerReader = 100)),
        /readers for 10x peak's 10000 read queries\/s: 8 readers × 100 q\/s = 800 q\/s; 100 readers are needed/,
    ],
    [
        checks.tenTimesFitsNodes,
        prodConfig,
        { ...prodConfig, cluster: { ...prodConfig.cluster, servicesPool: { cpuLimit: 8, memoryLimitGi: 256 } } },
        /65 pods requesting 10\.5 vCPU \/ 12 GiB need 2 nodes .* over the services pool's limits of 8 vCPU \/ 256 GiB/,
    ],
    [
        checks.usesWhatExists,
        stackValues("dev"),
        edited("dev", (c) => (c.services[0].uses = { publishes: ["payments.nowhere"] })),
        /a queue of finbot:queue\.queues/,
    ],
    [
        checks.productionQuorums,
        stackValues("prod"),
        edited("prod", (c) => (c.logging.elasticsearch.nodes = 2)),
        /at least 3 nodes in production/,
    ],
    [checks.gatewayReady, stackValues("prod"), edited("prod", (c) => delete c.traffic.tls.acmeEmail), /an email for the ACME account/],
    [
        checks.operatorUisPrivate,
        stackValues("prod"),
        edited("prod", (c) => (c.traffic.operatorAccess = { mode: "basic-auth" })),
        /oidc in production/,
    ],
    [checks.edgeReady, stackValues("prod"), edited("prod", (c) => delete c.traffic.cdn.hostedZoneId), /the Route 53 zone/],
    [
        checks.snapshotsStored,
        stackValues("dev"),
        edited("dev", (c) => (c.logging.elasticsearch = { ...c.logging.elasticsearch, nodes: 3 })),
        /1 without an S3 snapshot repository/,
    ],
    [
        checks.pagesServed,
        stackValues("dev"),
        edited(
            "dev",
            (c) => (c.traffic.pages = [{ name: "home", service: "settlement-worker", path: "/", lcpBudgetMs: 2500, ttfbBudgetMs: 800 }]),
        ),
        /a public service \(api\)/,
    ],
    [
        checks.tenTimesPeak,
        stackValues("prod"),
        edited("prod", (c) => delete c.services[0].capacity),
        /measured capacity .* for the 10x check/,
    ],
    [
        checks.thirdPartiesMetered,
        stackValues("prod"),
        edited("prod", (c) => c.thirdParties[2].callers.push("billing")),
        /a service or worker of this stack \(api, settlement-worker\)/,
    ],
];

describe("stack config checks", () => {
    it("every check has a name, a description and its own accepted and refused case", () => {
        assert.deepEqual(CASES.map(([r]) => r.name).sort(), CONFIG_CHECKS.map((r) => r.name).sort());
        for (const rule of CONFIG_CHECKS) assert.ok(rule.name && rule.description, rule.name);
    });
    for (const [rule, accepted, refused, expected] of CASES) {
        it(`${rule.name}: ${rule.description}`, () => {
            assert.deepEqual(rule.check(accepted), []);
            const issues = rule.check(refused);
            assert.equal(issues.length, 1, JSON.stringify(issues));
            assert.match(issues[0].message, expected);
        });
    }
    it("production-monitoring: one Grafana in production is refused (a zone's loss would take the dashboards away), with the full line", () => {
        const issues = checks.productionMonitoring.check(edited("prod", (c) => (c.monitoring.grafana.replicas = 1)));
        assert.deepEqual(
            issues.map((i) => [i.path.join("."), i.message]),
            [["monitoring.grafana.replicas", "at least 2 replicas in production"]],
        );
    });
    it("worker-scaling: a worker's minimum above its maximum is refused, in every stack, with the full line", () => {
        const messages = checks.workerScaling
            .check(edited("dev", (c) => (c.workers[0].replicas = { min: 3, max: 2 })))
            .map((i) => i.message);
        assert.deepEqual(messages, ["a value <= replicas.max (2)"]);
        const read = readStackFile("dev", PROJECT_DIR);
        if (!read.ok) throw new Error(read.errors.join("\n"));
        (read.raw.values as LooseConfig).workers[0].replicas = { min: 3, max: 2 };
        const result = validateConfig(read.raw, "allow");
        assert.ok(
            !result.ok &&
                result.errors.includes("Pulumi.dev.yaml: finbot:workers[0].replicas.min: expected a value <= replicas.max (2), given 3"),
        );
    });

    it("third-parties-metered: Sentry listed while errors go to it, no service egress to a public address, unique names, traffic on", () => {
        const messages = (stack: "dev" | "prod", edit: (c: LooseConfig) => void) =>
            checks.thirdPartiesMetered.check(edited(stack, edit)).map((i) => `${i.path.join(".")}: ${i.message}`);
        assert.deepEqual(
            messages("prod", (c) => (c.thirdParties = c.thirdParties.slice(1))),
            ['thirdParties: an entry named "sentry" (its host, callers, price and budget) while finbot:errorTracking is on'],
        );
        assert.deepEqual(
            messages(
                "dev",
                (c) =>
                    (c.services[0].egress = [
                        { cidr: "198.51.100.0/24", ports: [443] },
                        { cidr: "10.8.0.0/16", ports: [443] },
                    ]),
            ),
            [
                "services.0.egress.0.cidr: a private range (VPN, peering): an API on the internet is a finbot:thirdParties entry, reached through the metered egress gateway",
            ],
        );
        assert.deepEqual(
            messages("dev", (c) => c.thirdParties.push({ ...c.thirdParties[0] })),
            ["thirdParties.1.name: a unique provider name"],
        );
        assert.deepEqual(
            messages("dev", (c) => {
                c.traffic.enabled = false;
            }),
            ["traffic.enabled: true while finbot:thirdParties lists providers (the egress gateway is part of traffic)"],
        );
        assert.deepEqual(
            checks.gatewayReady.check(edited("prod", (c) => (c.traffic.egressGateway.replicas = 1))).map((i) => i.message),
            ["at least 2 in production"],
        );
    });

    it("operator-uis-private: a Grafana role group the gateway does not admit is refused (nobody in it would reach Grafana)", () => {
        const messages = checks.operatorUisPrivate
            .check(edited("prod", (c) => (c.traffic.operatorAccess.oidc.grafanaRoles.admin = ["finbot-platform-admins", "sre"])))
            .map((i) => `${i.path.join(".")}: ${i.message}`);
        assert.deepEqual(messages, [
            "traffic.operatorAccess.oidc.grafanaRoles.admin.1: one of allowedGroups (finbot-platform-oncall, finbot-platform-admins): the gateway lets no one else reach Grafana",
        ]);
    });

    it("network-policy-enforced: a local or existing cluster names its CNI; a created one runs the VPC CNI", () => {
        const messages = (stack: "dev" | "prod", edit: (c: LooseConfig) => void) =>
            checks.networkPolicyEnforced.check(edited(stack, edit)).map((i) => i.message);
        assert.deepEqual(
            messages("prod", () => {}),
            [],
        );
        assert.match(messages("dev", (c) => delete c.cluster)[0], /the cluster's CNI, one that enforces NetworkPolicy/);
        assert.match(messages("dev", (c) => (c.cluster = { mode: "existing", name: "x" }))[0], /the cluster's CNI/);
        assert.match(messages("prod", (c) => (c.cluster.cni = "calico"))[0], /vpc-cni in create mode/);
        assert.deepEqual(
            messages("dev", (c) => (c.cluster.cni = "k3s")),
            [],
        );
    });

    it("deploy-runner-reaches-cluster: a public endpoint needs no runner; a laptop cluster has no VPC for one", () => {
        const messages = (stack: "dev" | "prod", edit: (c: LooseConfig) => void) =>
            checks.deployRunnerReachesCluster.check(edited(stack, edit)).map((i) => i.message);
        assert.deepEqual(
            messages("prod", (c) => {
                delete c.delivery;
                c.cluster.publicAccessCidrs = ["203.0.113.0/24"];
            }),
            [],
        );
        const prod = stackValues("prod");
        assert.match(messages("dev", (c) => (c.delivery = prod.delivery))[0], /nothing on a laptop cluster/);
    });

    it("cluster-created: zones are required, three in production, and production pins the nodes' AMI", () => {
        const messages = (edit: (c: LooseConfig) => void) => checks.clusterCreated.check(edited("prod", edit)).map((i) => i.message);
        assert.deepEqual(
            messages((c) => delete c.cluster.availabilityZones),
            ["the zones of the VPC's subnets"],
        );
        assert.deepEqual(
            messages((c) => c.cluster.availabilityZones.pop()),
            ["three zones in production"],
        );
        assert.match(messages((c) => (c.cluster.amiAlias = "al2023@latest")).join(), /a pinned AMI version in production/);
        assert.deepEqual(
            checks.clusterCreated.check(edited("dev", (c) => (c.cluster = { nodeAutoscaler: "karpenter" }))).map((i) => i.message),
            ["none on a laptop cluster (Karpenter needs EKS)"],
        );
    });
    it("names a missing cluster name once, and asks Karpenter on an existing cluster for its name and network", () => {
        const problems = (stack: "dev" | "prod", edit: (c: LooseConfig) => void) =>
            CONFIG_CHECKS.flatMap((rule) => rule.check(edited(stack, edit)).map((i) => `${i.path.join(".")}: ${i.message}`));
        assert.deepEqual(
            problems("prod", (c) => delete c.cluster.name).filter((p) => p.startsWith("cluster.name")),
            ["cluster.name: the EKS cluster's name"],
        );
        const karpenter = problems("dev", (c) => (c.cluster = { mode: "existing", nodeAutoscaler: "karpenter" }));
        assert.ok(karpenter.includes("cluster.name: the EKS cluster's name"), karpenter.join("\n"));
        assert.ok(
            karpenter.some((p) => p.startsWith("network: ") && p.includes("finbot:cluster.nodeAutoscaler karpenter")),
            karpenter.join("\n"),
        );
    });
    it("look only at well-formed fields: a config of the wrong shape gives no crash", () => {
        // Fields that failed their own checks reach the checks as they were given, whatever their type says.
        const malformed = { services: "nope", workers: [null, 3], monitoring: 7, queue: { queues: "x" }, environment: "production" };
        for (const check of CONFIG_CHECKS) check.check(malformed as never);
    });
});
