// Default-deny networking and Pod Security on every namespace, in both stacks and the stack with
// everything on; and docs/network.md is the table the cluster gets.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { NETWORK_DOCS, renderNetworkDocs } from "../scripts/networkDocs";
import { PlatformRun, runStack, runStackFile } from "./harness";
import { apiServerCidrs } from "../components/lib/flowContext";
import { createdPrivateSubnets } from "../components/lib/awsNetwork";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const policiesIn = (run: PlatformRun, namespace: string): Any[] =>
    run
        .ofType(POLICY)
        .map((p) => p.inputs as Any)
        .filter((p) => p.metadata.namespace === namespace);

describe("network isolation and pod security", () => {
    const runs: Record<string, PlatformRun> = {};
    before(async () => {
        runs.dev = await runStack("dev");
        runs.prod = await runStack("prod");
        runs.everything = await runStackFile(path.join("test", "stacks", "everything.yaml"));
    });

    it("every namespace the platform creates (and rabbitmq-system) denies all ingress and egress by default", () => {
        for (const [stack, run] of Object.entries(runs)) {
            const namespaces = [
                ...run.ofType("kubernetes:core/v1:Namespace").map((n) => (n.inputs as Any).metadata.name),
                "rabbitmq-system",
            ];
            for (const ns of namespaces) {
                const deny = policiesIn(run, ns).find((p) => p.metadata.name === "default-deny");
                assert.ok(deny, `${stack}: ${ns} has no default-deny`);
                assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, `${stack}: ${ns}`);
            }
        }
    });

    it("every namespace enforces a Pod Security Standard; apps and data are restricted, only node-agents privileged", () => {
        for (const run of Object.values(runs)) {
            const levels = Object.fromEntries(
                run.ofType("kubernetes:core/v1:Namespace").map((n) => {
                    const meta = (n.inputs as Any).metadata;
                    return [meta.name, meta.labels["pod-security.kubernetes.io/enforce"]];
                }),
            );
            const ns = run.config.namespaces;
            assert.equal(levels[ns.apps], "restricted");
            assert.equal(levels[ns.data], "restricted");
            assert.deepEqual(
                Object.entries(levels)
                    .filter(([, level]) => level === "privileged")
                    .map(([name]) => name),
                [ns.nodeAgents],
            );
            for (const [name, level] of Object.entries(levels)) assert.ok(level, `${name} enforces nothing`);
            // node-exporter moved to the node agents.
            const kps = run.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack").inputs as Any;
            assert.equal(kps.values["prometheus-node-exporter"].namespaceOverride, ns.nodeAgents);
        }
    });

    it("makes every namespace in the platform itself, never inside an area's component", () => {
        for (const run of Object.values(runs)) {
            const parents = run.ofType("kubernetes:core/v1:Namespace").map((n) => `${n.name} ${n.parent ?? ""}`);
            assert.ok(parents.length >= 5, parents.join(", "));
            assert.deepEqual(
                parents.filter((p) => !p.endsWith("finbot:platform:Platform::finbot")),
                [],
            );
        }
    });

    it("opens the internet only to the pods that need it, on 443, never to the data tier", () => {
        for (const run of Object.values(runs)) {
            for (const p of run.ofType(POLICY).map((x) => x.inputs as Any)) {
                const peers = [...(p.spec.egress?.[0]?.to ?? []), ...(p.spec.ingress?.[0]?.from ?? [])];
                const internet = peers.filter((peer: Any) => peer.ipBlock?.cidr === "0.0.0.0/0" && peer.ipBlock.except);
                if (internet.length === 0 || !p.spec.egress) continue;
                // The data tier's pods never reach the internet, except the one Job that reads AWS's secret.
                if (p.metadata.namespace === run.config.namespaces.data)
                    assert.deepEqual(p.spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "postgres-roles" } }, p.metadata.name);
                assert.ok(
                    p.spec.egress[0].ports.every((port: Any) => [80, 443].includes(port.port)),
                    `${p.metadata.namespace}/${p.metadata.name} opens ${JSON.stringify(p.spec.egress[0].ports)}`,
                );
            }
        }
        // No pod of FinBot's namespace reaches the internet itself: third parties are called through the egress gateway.
        for (const run of Object.values(runs))
            for (const p of policiesIn(run, "finbot-apps").filter((x) => x.spec.egress))
                if (!p.spec.podSelector.matchLabels?.["app.kubernetes.io/name"]?.startsWith("page-check"))
                    assert.ok(
                        p.spec.egress.every((rule: Any) => (rule.to ?? []).every((peer: Any) => peer.ipBlock?.cidr !== "0.0.0.0/0")),
                        `${p.metadata.name} reaches the internet`,
                    );
        const toProviders = policiesIn(runs.prod, "finbot-apps").find((p) => p.metadata.name === "allow-settlement-worker-to-providers");
        assert.deepEqual(toProviders.spec.egress[0].ports, [
            { protocol: "TCP", port: 11000 },
            { protocol: "TCP", port: 11001 },
        ]);
        const declared = policiesIn(runs.everything, "finbot-apps").find((p) => p.metadata.name === "allow-api-egress");
        assert.deepEqual(declared.spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "api" } });
        assert.deepEqual(declared.spec.egress[0].to, [{ ipBlock: { cidr: "10.30.0.0/24" } }]);
    });

    it("each gateway's proxies reach only what it routes: in prod the public one never the operator UIs, the internal one only them", () => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const egressOf = (run: PlatformRun, gateway: string): any[] =>
            run
                .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                // eslint-disable-next-line @typescript-eslint/no-explicit-any
                .map((p) => p.inputs as any)
                .filter((p) => p.metadata.namespace === "finbot-traffic" && p.spec.policyTypes.includes("Egress"))
                .filter((p) => p.spec.podSelector.matchLabels?.["gateway.envoyproxy.io/owning-gateway-name"] === gateway);
        const ports = (policies: Array<{ spec: { egress: Array<{ ports?: Array<{ port: number }> }> } }>) =>
            policies.flatMap((p) => p.spec.egress.flatMap((rule) => (rule.ports ?? []).map((x) => x.port))).sort((a, b) => a - b);
        assert.deepEqual(ports(egressOf(runs.prod, "finbot")), [8200, 8443], "the public proxies: the api's TLS front and the RUM intake");
        assert.deepEqual(
            ports(egressOf(runs.prod, "finbot-internal")),
            [443, 5601, 8443],
            "the UIs (Kibana, the others' TLS fronts) and the identity provider",
        );
        // On a laptop cluster one gateway routes everything (8443 twice: the services' TLS fronts and the UIs'), and with basic auth it calls no identity provider.
        assert.deepEqual(ports(egressOf(runs.dev, "finbot")), [5601, 8200, 8443, 8443]);
        // The egress gateway reaches the providers' HTTPS ports only.
        assert.deepEqual(ports(egressOf(runs.prod, "finbot-egress")), [443]);
    });

    it("the API server peer is where the control plane and the nodes answer, never wider: the created cluster's private subnets", () => {
        // awsx 3.9's Auto allocation of [Private, Public] over three zones of 10.0.0.0/16: a /18 per zone, the private /19 first.
        const prodPrivateSubnets = ["10.0.0.0/19", "10.0.64.0/19", "10.0.128.0/19"];
        assert.deepEqual(createdPrivateSubnets("10.0.0.0/16", 3), prodPrivateSubnets);
        assert.deepEqual(createdPrivateSubnets("10.20.0.0/16", 2), ["10.20.0.0/18", "10.20.128.0/18"]);
        assert.deepEqual(apiServerCidrs(runs.prod.config), prodPrivateSubnets);
        assert.deepEqual(apiServerCidrs(runs.dev.config), ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
        // An existing cluster's subnets are not known here: its VPC, unless the stack names the addresses.
        const existing = { ...runs.prod.config, cluster: { ...runs.prod.config.cluster, mode: "existing" as const } };
        const network = {
            vpcId: "vpc-0abc",
            privateSubnetIds: ["subnet-0a", "subnet-0b"],
            vpcCidr: "10.9.0.0/16",
            nodeSecurityGroupId: "sg-0abc",
            availabilityZones: runs.prod.config.cluster.availabilityZones ?? ["eu-central-1a", "eu-central-1b"],
        };
        assert.deepEqual(apiServerCidrs({ ...existing, network }), ["10.9.0.0/16"]);
        const named = { ...runs.prod.config, kubernetes: { ...runs.prod.config.kubernetes, apiServerCidrs: ["10.0.0.0/24"] } };
        assert.deepEqual(apiServerCidrs(named), ["10.0.0.0/24"]);
        const policies = runs.prod
            .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            .map((p) => p.inputs as any);
        // No policy of prod's lets a pod reach the public subnets (load balancers, NAT) as if they were the API server.
        const apiPolicies = policies.filter((p) => /api-server$/.test(p.metadata.name));
        assert.ok(apiPolicies.length > 5);
        // The apps reach the managed stores (RDS Proxy, ElastiCache) in the same private subnets, not the whole VPC.
        const stores = policies.find((p) => p.metadata.name === "allow-to-managed-stores");
        assert.deepEqual(
            stores.spec.egress[0].to.map((peer: { ipBlock: { cidr: string } }) => peer.ipBlock.cidr),
            prodPrivateSubnets,
        );
        for (const p of apiPolicies)
            for (const rule of p.spec.egress ?? [])
                assert.deepEqual(
                    // eslint-disable-next-line @typescript-eslint/no-explicit-any
                    rule.to.map((peer: any) => peer.ipBlock.cidr),
                    prodPrivateSubnets,
                    p.metadata.name,
                );
    });

    it("docs/network.md is the table the cluster gets (run `npm run docs:network`)", () => {
        assert.equal(readFileSync(NETWORK_DOCS, "utf8"), renderNetworkDocs());
    });
});
