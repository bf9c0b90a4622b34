// Default-deny networking and Pod Security on every namespace, in both stacks and the stack with
// everything on; and docs/network.md is the table the cluster gets.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { NETWORK_DOCS, renderNetworkDocs } from "../scripts/network-docs";
import { PlatformRun, runStack, runStackFile } from "./harness";

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
        const sentry = policiesIn(runs.prod, "finbot-apps").find((p) => p.metadata.name === "allow-to-sentry");
        assert.ok(sentry, "prod's services reach Sentry");
        assert.equal(
            policiesIn(runs.dev, "finbot-apps").find((p) => p.metadata.name === "allow-to-sentry"),
            undefined,
            "dev has no Sentry",
        );
        const declared = policiesIn(runs.everything, "finbot-apps").find((p) => p.metadata.name === "allow-api-egress");
        assert.deepEqual(declared.spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "api" } });
        assert.deepEqual(declared.spec.egress[0].to, [{ ipBlock: { cidr: "198.51.100.0/24" } }]);
    });

    it("docs/network.md is the table the cluster gets (run `npm run docs:network`)", () => {
        assert.equal(readFileSync(NETWORK_DOCS, "utf8"), renderNetworkDocs());
    });
});
