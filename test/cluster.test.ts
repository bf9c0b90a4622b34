// The cluster prod creates (VPC, EKS, system nodes, add-ons) and the nodes that follow the pods
// (Karpenter's pools), the node-level 10x check, and live cost (OpenCost).
import * as assert from "node:assert/strict";
import { karpenterControllerStatements } from "../components/cluster/karpenterPolicy";
import { loadBalancerControllerStatements } from "../components/cluster/loadBalancerControllerPolicy";
import { renderSummary } from "../components/platform/summary";
import {
    auroraMaxConnections,
    databaseAtTenTimes,
    ASSUMED_NODE,
    perNodeRequests,
    poolFit,
    servicesAtTenTimes,
} from "../components/config/capacity";
import { PlatformRun, loadStackConfig, revealSecrets, runStack, runStackFile } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const inputs = (run: PlatformRun, type: string, name: string): Any => revealSecrets(run.get(type, name).inputs);
const RELEASE = "kubernetes:helm.sh/v3:Release";
const NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool";

describe("cluster and nodes", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    let existing: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
        existing = await runStackFile("test/stacks/everything.yaml");
    });

    it("prod creates a VPC over three zones with a NAT gateway in each, and a private, encrypted, fully logged EKS cluster", () => {
        const vpc = inputs(prod, "awsx:ec2:Vpc", "finbot-cluster-vpc");
        assert.deepEqual(vpc.availabilityZoneNames, ["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
        assert.equal(vpc.natGateways.strategy, "OnePerAz");
        const eks = inputs(prod, "eks:index:Cluster", "finbot-cluster-eks");
        assert.equal(eks.name, "finbot-prod");
        assert.equal(eks.version, "1.34");
        assert.equal(eks.authenticationMode, "API");
        assert.equal(eks.endpointPrivateAccess, true);
        assert.equal(eks.endpointPublicAccess, false);
        assert.deepEqual(eks.enabledClusterLogTypes, ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
        assert.match(eks.encryptionConfigKeyArn, /^arn:aws:kms:/);
        assert.equal(eks.skipDefaultNodeGroup, true);
        // Security groups for pods (Aurora and ElastiCache admit only their clients): pod ENIs and the VPC resource controller.
        assert.equal(eks.vpcCniOptions.enablePodEni, true);
        // ...and the VPC CNI's network policy agent, or every NetworkPolicy of the stack is inert.
        assert.equal(eks.vpcCniOptions.enableNetworkPolicy, true);
        const controlPlane = prod
            .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .filter((a) => a.name.startsWith("finbot-cluster-control-plane-"));
        assert.deepEqual(
            controlPlane.map((a) => a.inputs.policyArn),
            ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController"],
        );
        assert.ok(prod.ofType("eks:index:Cluster").every((r) => prod.resources.find((x) => x.urn === r.urn)?.protect));
    });

    it("prod's system node group is small, on-demand and tainted for critical add-ons; Pod Identity and the EBS CSI driver are installed", () => {
        const system = inputs(prod, "eks:index:ManagedNodeGroup", "finbot-cluster-system");
        assert.deepEqual(system.scalingConfig, { minSize: 2, desiredSize: 2, maxSize: 3 });
        assert.deepEqual(system.taints, [{ key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" }]);
        const addons = prod.ofType("aws:eks/addon:Addon").map((a) => a.inputs.addonName);
        assert.deepEqual(addons.sort(), ["aws-ebs-csi-driver", "eks-pod-identity-agent"]);
        const csi = inputs(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "finbot-cluster-ebs-csi");
        assert.deepEqual([csi.namespace, csi.serviceAccount], ["kube-system", "ebs-csi-controller-sa"]);
    });

    it("a created cluster gets the AWS Load Balancer Controller for the gateways' NLBs, managing only what it tags", () => {
        const chart = inputs(prod, RELEASE, "finbot-load-balancer-controller");
        assert.deepEqual([chart.chart, chart.namespace], ["aws-load-balancer-controller", "kube-system"]);
        assert.equal(chart.values.clusterName, "finbot-prod");
        assert.equal(chart.values.enableServiceMutatorWebhook, false);
        assert.equal(chart.values.nodeSelector["finbot.io/node-group"], "system");
        const identity = inputs(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "finbot-load-balancer-controller");
        assert.deepEqual([identity.namespace, identity.serviceAccount], ["kube-system", "aws-load-balancer-controller"]);
        const statements = loadBalancerControllerStatements({ region: "r", account: "1", vpcId: "vpc-1", nodeSecurityGroupId: "sg-nodes" });
        // It opens only the groups it created (its tag) and the nodes' group: never Aurora's or the cache's.
        const policy = JSON.parse(inputs(prod, "aws:iam/rolePolicy:RolePolicy", "finbot-load-balancer-controller").policy);
        const opens = policy.Statement.filter((st: Any) => st.Action.includes("ec2:AuthorizeSecurityGroupIngress"));
        const nodes = inputs(
            prod,
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "finbot-deploy-runner-cluster-api",
        ).securityGroupId;
        assert.deepEqual(
            opens.map((st: Any) => [st.Resource, JSON.stringify(st.Condition ?? {}).includes("elbv2.k8s.aws/cluster")]),
            [
                ["arn:aws:ec2:eu-central-1:123456789012:security-group/*", true],
                [`arn:aws:ec2:eu-central-1:123456789012:security-group/${nodes}`, false],
            ],
        );
        for (const s of statements.filter((st) => st.Action.some((a) => /Delete|Modify|Set|RemoveTags/.test(a) && !/Listener/.test(a))))
            assert.ok(JSON.stringify(s.Condition ?? {}).includes("elbv2.k8s.aws/cluster"), s.Sid);
        assert.deepEqual(
            existing.ofType(RELEASE).filter((r) => r.name === "finbot-load-balancer-controller"),
            [],
            "an existing cluster brings its own",
        );
    });

    it("prod's deploys run on a CodeBuild-hosted runner in the VPC that only leaves on 443 and holds no right on what it deploys", () => {
        const project = inputs(prod, "aws:codebuild/project:Project", "finbot-deploy-runner-project");
        assert.equal(project.name, "finbot-prod-deploy");
        assert.deepEqual(project.source, {
            type: "GITHUB",
            location: "https://github.com/finbot/finbot-platform.git",
            auth: { type: "CODECONNECTIONS", resource: "arn:aws:codeconnections:eu-central-1:REPLACE_ME:connection/REPLACE_ME" },
        });
        assert.equal(project.environment.privilegedMode, false);
        const vpc = inputs(prod, "awsx:ec2:Vpc", "finbot-cluster-vpc");
        assert.ok(project.vpcConfig.vpcId && project.vpcConfig.subnets.length === 3, "in the VPC's private subnets");
        assert.ok(vpc);
        const webhook = inputs(prod, "aws:codebuild/webhook:Webhook", "finbot-deploy-runner-webhook");
        assert.deepEqual(webhook.filterGroups, [{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }]);
        const group = prod.get("aws:ec2/securityGroup:SecurityGroup", "finbot-deploy-runner-sg");
        const rules = prod
            .ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
            .concat(prod.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"))
            .filter((r) => r.name.startsWith("finbot-deploy-runner-"));
        assert.deepEqual(
            rules.map((r) => [r.name, r.inputs.fromPort, r.inputs.toPort]),
            [
                ["finbot-deploy-runner-https-out", 443, 443],
                ["finbot-deploy-runner-cluster-api", 443, 443],
            ],
        );
        assert.equal(
            rules[1].inputs.referencedSecurityGroupId,
            rules[0].inputs.securityGroupId,
            "the cluster admits the runners' group alone",
        );
        assert.ok(group);
        const role = inputs(prod, "aws:iam/role:Role", "finbot-deploy-runner-role");
        assert.deepEqual(JSON.parse(role.assumeRolePolicy).Statement[0].Condition, {
            StringEquals: { "aws:SourceAccount": "123456789012" },
        });
        const actions = JSON.parse(inputs(prod, "aws:iam/rolePolicy:RolePolicy", "finbot-deploy-runner-policy").policy).Statement.flatMap(
            (st: { Action: string[] }) => st.Action,
        );
        assert.ok(
            actions.every((a: string) =>
                /^(logs:(CreateLogStream|PutLogEvents)|ec2:[A-Za-z]+NetworkInterface[A-Za-z]*|ec2:Describe[A-Za-z]+|codeconnections:(GetConnection|GetConnectionToken))$/.test(
                    a,
                ),
            ),
            actions.join(", "),
        );
        const policies = prod
            .ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
            .filter((a) => a.name.startsWith("finbot-deploy-runner-"))
            .map((a) => [String(a.inputs.principalArn).split("/").pop(), String(a.inputs.policyArn).split("/").pop()]);
        assert.deepEqual(policies, [
            ["finbot-prod-deploy", "AmazonEKSClusterAdminPolicy"],
            ["finbot-prod-preview", "AmazonEKSAdminViewPolicy"],
        ]);
        assert.equal(dev.ofType("aws:codebuild/project:Project").length, 0, "a laptop cluster needs no runner");
    });

    it("dev stays a laptop cluster: no VPC, no EKS, no Karpenter", () => {
        for (const type of ["awsx:ec2:Vpc", "eks:index:Cluster", NODE_POOL]) assert.deepEqual(dev.ofType(type), [], type);
    });

    it("Karpenter runs on the system nodes with its interruption queue, its CRDs at the same pin, and a pod identity", () => {
        const chart = inputs(prod, RELEASE, "finbot-karpenter-controller");
        assert.deepEqual(
            [chart.chart, chart.version, chart.namespace, chart.skipCrds],
            ["oci://public.ecr.aws/karpenter/karpenter", "1.14.1", "finbot-autoscaling", true],
        );
        assert.equal(chart.values.settings.clusterName, "finbot-prod");
        assert.ok(chart.values.settings.interruptionQueue, "interruption queue");
        assert.equal(chart.values.nodeSelector["finbot.io/node-group"], "system");
        assert.equal(chart.values.replicas, 2);
        const crds = inputs(prod, "kubernetes:helm.sh/v4:Chart", "finbot-karpenter-crds");
        assert.deepEqual([crds.chart, crds.version], ["oci://public.ecr.aws/karpenter/karpenter-crd", "1.14.1"]);
        const identity = inputs(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "finbot-karpenter-controller");
        assert.deepEqual([identity.namespace, identity.serviceAccount], ["finbot-autoscaling", "karpenter"]);
        const events = prod.ofType("aws:cloudwatch/eventTarget:EventTarget").filter((t) => t.name.startsWith("finbot-karpenter-"));
        assert.equal(events.length, 4);
        assert.equal(inputs(prod, "aws:eks/accessEntry:AccessEntry", "finbot-karpenter-nodes").type, "EC2_LINUX");
    });

    it("the platform pool is on-demand and stable; the services pool buys spot first and is tainted for FinBot's pods; both are bounded and span three zones", () => {
        const platform = inputs(prod, NODE_POOL, "finbot-karpenter-platform").spec;
        const services = inputs(prod, NODE_POOL, "finbot-karpenter-services").spec;
        const requirement = (spec: Any, key: string) => spec.template.spec.requirements.find((r: Any) => r.key === key).values;
        assert.deepEqual(requirement(platform, "karpenter.sh/capacity-type"), ["on-demand"]);
        assert.deepEqual(requirement(services, "karpenter.sh/capacity-type"), ["spot", "on-demand"]);
        for (const spec of [platform, services])
            assert.deepEqual(requirement(spec, "topology.kubernetes.io/zone"), ["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
        assert.equal(platform.disruption.consolidationPolicy, "WhenEmpty");
        assert.ok(
            platform.disruption.budgets.some((b: Any) => b.nodes === "0" && b.schedule),
            "no disruption in business hours",
        );
        assert.equal(services.disruption.consolidationPolicy, "WhenEmptyOrUnderutilized");
        assert.deepEqual(platform.limits, { cpu: "96", memory: "384Gi" });
        assert.deepEqual(services.limits, { cpu: "64", memory: "256Gi" });
        assert.deepEqual(services.template.spec.taints, [{ key: "finbot.io/pool", value: "services", effect: "NoSchedule" }]);
        assert.equal(platform.template.spec.taints, undefined);
        const nodeClass = inputs(prod, "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "finbot-karpenter-node-class").spec;
        assert.equal(nodeClass.metadataOptions.httpTokens, "required");
        assert.equal(nodeClass.subnetSelectorTerms.length, 3);
        assert.match(nodeClass.securityGroupSelectorTerms[0].id, /^sg-/);
    });

    it("FinBot's services and workers land on the services pool where Karpenter runs, anywhere on a laptop", () => {
        const podSpec = (run: PlatformRun, name: string) => inputs(run, "kubernetes:apps/v1:Deployment", name).spec.template.spec;
        for (const name of ["finbot-api", "finbot-settlement-worker"]) {
            assert.deepEqual(podSpec(prod, name).nodeSelector, { "finbot.io/pool": "services" }, name);
            assert.deepEqual(podSpec(prod, name).tolerations, [
                { key: "finbot.io/pool", operator: "Equal", value: "services", effect: "NoSchedule" },
            ]);
            assert.equal(podSpec(dev, name).nodeSelector, undefined);
        }
    });

    it("on an existing cluster Karpenter is optional; when chosen it uses the given network and runs on the cluster's own nodes", () => {
        assert.deepEqual(prod.ofType("awsx:ec2:Vpc").length, 1);
        assert.deepEqual(existing.ofType("awsx:ec2:Vpc"), []);
        const chart = inputs(existing, RELEASE, "finbot-karpenter-controller");
        assert.equal(chart.values.nodeSelector, undefined);
        const nodeClass = inputs(existing, "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "finbot-karpenter-node-class").spec;
        assert.ok(nodeClass.subnetSelectorTerms.every((t: Any) => /^subnet-/.test(t.id)));
    });

    it("Karpenter may terminate, tag and launch only what carries the cluster's ownership tag", () => {
        const statements = karpenterControllerStatements({ clusterName: "c", region: "r", account: "1", queueArn: "q", nodeRoleArn: "n" });
        const mutating = statements.filter((s) =>
            s.Action.some((a) => /^(ec2|iam):(Terminate|Delete|CreateTags|RemoveRole|AddRole)/.test(a)),
        );
        assert.ok(mutating.length >= 4);
        for (const s of mutating) assert.match(JSON.stringify(s.Condition), /kubernetes\.io\/cluster\/c/, s.Sid);
        assert.deepEqual(statements.find((s) => s.Sid === "PassNodeRole")?.Resource, "n");
    });

    it("counts nodes at 10x: prod fits its pools, and a pool too small says by how much", () => {
        const { config } = loadStackConfig("prod");
        const fit = poolFit("services", config.cluster.servicesPool, servicesAtTenTimes(config), perNodeRequests(config));
        assert.ok(fit.fits);
        // api: 25 replicas for 10x (of max 30); settlement-worker: its maximum of 40.
        assert.equal(fit.pods, 25 + 40);
        const small = poolFit(
            "services",
            { ...config.cluster.servicesPool, cpuLimit: fit.nodes * 8 - 1 },
            servicesAtTenTimes(config),
            perNodeRequests(config),
        );
        assert.equal(small.fits, false);
        assert.equal(ASSUMED_NODE.millicores, 8000);
        const summary = renderSummary({
            stack: "prod",
            config: prod.config,
            platform: prod.platform,
            resources: prod.resources,
            placeholders: [],
        });
        assert.match(summary, /\| services \| 65 \| .* \| ✅ \|/);
        assert.match(summary, /\| platform \| \d+ \| .* \| ✅ \|/);
    });

    it("counts the database at 10x: connections through RDS Proxy and reads against the readers at their maximum", () => {
        const { config } = loadStackConfig("prod");
        const db = databaseAtTenTimes(config);
        assert.ok(db);
        assert.equal(auroraMaxConnections("db.r6g.large"), 1802);
        // api (25 pods at 10x) and settlement-worker (40 at its maximum) use the database, 10 connections each.
        assert.equal(db.clientConnections, 650);
        // 500 req/s × 10 × 2 reads per request, against 8 readers × 10,000 q/s.
        assert.deepEqual([db.readQueriesPerSecond, db.readerQueriesPerSecond, db.readersNeeded], [10000, 80000, 1]);
        const dev = loadStackConfig("dev").config;
        assert.equal(databaseAtTenTimes(dev), undefined, "in-cluster PostgreSQL has no Aurora rows");
    });

    it("OpenCost prices what runs from this Prometheus, and Grafana shows cost per namespace and service", () => {
        for (const run of [dev, prod]) {
            const chart = inputs(run, RELEASE, "finbot-monitoring-opencost");
            assert.deepEqual([chart.chart, chart.version], ["opencost", "2.5.17"]);
            assert.equal(chart.values.opencost.prometheus.internal.serviceName, "kube-prometheus-stack-prometheus");
            assert.equal(chart.values.opencost.ui.enabled, false);
            const board = run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.name.endsWith("dashboard-finbot-cost"));
            assert.ok(board, "cost dashboard");
            assert.match(JSON.stringify(board.inputs.data), /node_total_hourly_cost/);
        }
        // On AWS it reads prices and instances through its own read-only pod identity; on a laptop it has none.
        const identity = inputs(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "finbot-monitoring-opencost");
        assert.deepEqual([identity.namespace, identity.serviceAccount], ["finbot-monitoring", "opencost"]);
        const policy = JSON.parse(inputs(prod, "aws:iam/rolePolicy:RolePolicy", "finbot-monitoring-opencost").policy);
        assert.ok(policy.Statement.every((st: Any) => st.Action.every((a: string) => /^(pricing:GetProducts|ec2:Describe\w+)$/.test(a))));
        assert.deepEqual(dev.ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation"), []);
    });
});
