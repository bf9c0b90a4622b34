// npm run preflight: each problem it exists to catch, against stand-ins for kubectl, pulumi and
// node that answer as a cluster and a machine would; nothing it must not touch is touched.
import * as assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isLoopbackServer, main as preflightMain } from "../scripts/preflight";
import { PROJECT_DIR, runMain } from "./harness";

const FAKE_KUBECTL = String.raw`#!/usr/bin/env bash
echo "kubectl $*" >> "$FAKE/calls"
answer() { if [ -e "$FAKE/$1" ]; then cat "$FAKE/$1"; else echo "$2"; fi; }
case " $* " in
  *" config current-context "*) answer context kind-finbot ;;
  *"context.cluster}"*) answer cluster kind-finbot ;;
  *"cluster.server}"*) answer server https://127.0.0.1:6443 ;;
  *" get nodes "*) cat "$FAKE/nodes.json" ;;
  *" apply -f - "*) if grep -q NetworkPolicy; then touch "$FAKE/policy"; fi ;;
  *" wait "*) ;;
  *" get pod server "*) echo 10.244.1.5 ;;
  *" exec "*) if [ -e "$FAKE/policy" ] && [ -e "$FAKE/enforced" ]; then exit 1; fi ;;
  *" delete namespace "*) echo "$3" >> "$FAKE/deleted" ;;
  *) echo "kubectl stand-in: unexpected $*" >&2; exit 1 ;;
esac
`;

const node = (name: string, cpu: string, memory: string, zone?: string) => ({
    metadata: { name, labels: zone ? { "topology.kubernetes.io/zone": zone } : {} },
    status: { allocatable: { cpu, memory } },
});
const ROOMY = { items: ["a", "b", "c"].map((z) => node(`worker-${z}`, "2", "4Gi", `zone-${z}`)) };

/** A project copy and stand-ins; `scenario` names the cluster's answers. */
function setUp(scenario: {
    enforced?: boolean;
    nodes?: object;
    context?: string;
    server?: string;
    pulumi?: string;
    node?: string;
    stackEdit?: (text: string) => string;
}) {
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-preflight-"));
    const project = path.join(dir, "project");
    const fake = path.join(dir, "fake");
    const bin = path.join(dir, "bin");
    for (const d of [project, fake, bin]) mkdirSync(d);
    for (const f of ["Pulumi.yaml", "package.json", "Pulumi.prod.yaml"]) copyFileSync(path.join(PROJECT_DIR, f), path.join(project, f));
    const dev = readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");
    writeFileSync(path.join(project, "Pulumi.dev.yaml"), scenario.stackEdit ? scenario.stackEdit(dev) : dev);
    writeFileSync(path.join(bin, "kubectl"), FAKE_KUBECTL, { mode: 0o755 });
    writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho ${scenario.pulumi ?? "v3.276.0"}\n`, { mode: 0o755 });
    writeFileSync(path.join(bin, "node"), `#!/bin/sh\necho ${scenario.node ?? "v22.12.0"}\n`, { mode: 0o755 });
    writeFileSync(path.join(fake, "nodes.json"), JSON.stringify(scenario.nodes ?? ROOMY));
    if (scenario.enforced !== false) writeFileSync(path.join(fake, "enforced"), "");
    if (scenario.context) writeFileSync(path.join(fake, "context"), scenario.context);
    if (scenario.server) writeFileSync(path.join(fake, "server"), scenario.server);
    const run = async (stack = "dev") => {
        const saved = { PATH: process.env.PATH, FAKE: process.env.FAKE, WAIT: process.env.FINBOT_PREFLIGHT_POLICY_WAIT_MS };
        Object.assign(process.env, { PATH: `${bin}:${saved.PATH}`, FAKE: fake, FINBOT_PREFLIGHT_POLICY_WAIT_MS: "10" });
        try {
            return await runMain(preflightMain, ["--stack", stack], project);
        } finally {
            process.env.PATH = saved.PATH;
            if (saved.FAKE === undefined) delete process.env.FAKE;
            else process.env.FAKE = saved.FAKE;
            if (saved.WAIT === undefined) delete process.env.FINBOT_PREFLIGHT_POLICY_WAIT_MS;
            else process.env.FINBOT_PREFLIGHT_POLICY_WAIT_MS = saved.WAIT;
        }
    };
    const calls = () => (existsSync(path.join(fake, "calls")) ? readFileSync(path.join(fake, "calls"), "utf8") : "");
    return { run, calls, fake };
}

describe("preflight (npm run preflight)", function () {
    it("takes a kind or k3d API server on IPv4 or IPv6 loopback for a laptop cluster, as scripts/e2e.sh does, and nothing else", () => {
        for (const server of ["https://127.0.0.1:6443", "https://[::1]:6443", "https://localhost:44321", "https://0.0.0.0:6550"])
            assert.ok(isLoopbackServer(server), server);
        for (const server of [
            "https://10.0.0.5:6443",
            "https://[2001:db8::1]:6443",
            "https://ABC.gr7.eu-central-1.eks.amazonaws.com",
            "https://127.example.com",
        ])
            assert.ok(!isLoopbackServer(server), server);
    });

    this.timeout(60_000);

    it("passes on an enforcing laptop cluster with room, probing in a namespace of its own that it deletes", async () => {
        const { run, calls, fake } = setUp({});
        const result = await run();
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /preflight: the CNI enforces NetworkPolicy \(probe in finbot-preflight-[0-9a-f]{6}\)/);
        assert.match(result.stdout, /preflight: ok, stack dev can be deployed to this cluster/);
        const deleted = readFileSync(path.join(fake, "deleted"), "utf8").trim();
        assert.match(deleted, /^finbot-preflight-[0-9a-f]{6}$/);
        const writes = calls()
            .split("\n")
            .filter((c) => / (apply|delete|exec|create|patch|scale) /.test(c));
        assert.ok(
            writes.every((c) => c.includes(deleted) || c.startsWith("kubectl apply -f -")),
            writes.join("\n"),
        );
    });

    it("fails, one line, when the CNI does not enforce NetworkPolicy, and still deletes its probe", async () => {
        const { run, fake } = setUp({ enforced: false });
        const result = await run();
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /^preflight: the cluster's CNI does not enforce NetworkPolicy: a denied pod stayed reachable \(finbot:cluster\.cni says kindnet;/m,
        );
        assert.ok(existsSync(path.join(fake, "deleted")));
    });

    it("refuses a context that is not the stack's before asking the cluster anything", async () => {
        const { run, calls } = setUp({
            context: "arn:aws:eks:eu-central-1:123456789012:cluster/finbot-prod",
            server: "https://ABC.gr7.eu-central-1.eks.amazonaws.com",
        });
        const result = await run();
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr.trim(),
            "preflight: context arn:aws:eks:eu-central-1:123456789012:cluster/finbot-prod (https://ABC.gr7.eu-central-1.eks.amazonaws.com) is not a laptop cluster (kind, k3d, minikube), which the staging stack expects",
        );
        assert.ok(!calls().includes("get nodes") && !calls().includes("apply"), "nothing asked of that cluster");
    });

    it("fails when the nodes have no room for the stack's requests, or lack zones where pods must spread by zone", async () => {
        const small = setUp({ nodes: { items: [node("one", "1", "2Gi", "zone-a")] } });
        const cramped = await small.run();
        assert.equal(cramped.status, 1);
        assert.match(
            cramped.stderr,
            /^preflight: the stack requests \d+\.\d+ vCPU and \d+\.\d GiB; the nodes have room for 0\.90 vCPU and 1\.8 GiB \(90% of allocatable\)$/m,
        );
        const strict = setUp({
            nodes: { items: [node("a", "4", "8Gi"), node("b", "4", "8Gi", "zone-b")] },
            stackEdit: (text) => text.replace("config:\n", "config:\n  finbot:kubernetes: { zoneSpread: required }\n"),
        });
        const unzoned = await strict.run();
        assert.equal(unzoned.status, 1);
        assert.match(
            unzoned.stderr,
            /^preflight: nodes without topology\.kubernetes\.io\/zone \(pods must spread by zone and would not schedule\): a$/m,
        );
        assert.match(unzoned.stderr, /^preflight: the nodes span 1 zone\(s\): strict zone spreading needs at least 2$/m);
    });

    it("fails on an old Pulumi CLI or Node.js, and on prod's placeholders, one line each", async () => {
        const old = setUp({ pulumi: "v3.100.0", node: "v20.20.2" });
        const tools = await old.run();
        assert.equal(tools.status, 1);
        assert.match(
            tools.stderr,
            /^preflight: the Pulumi CLI is v3\.100\.0: the program's SDK is 3\.276\.0, use a CLI at least that new$/m,
        );
        assert.match(tools.stderr, /^preflight: node on PATH is v20\.20\.2: the program needs Node\.js 22 or newer$/m);
        const prod = await setUp({}).run("prod");
        assert.equal(prod.status, 1);
        assert.match(
            prod.stderr,
            /^preflight: Pulumi\.prod\.yaml: finbot:delivery\.runner\.deployRoleArn: expected a real value in place of the placeholder/m,
        );
        assert.ok(
            prod.stderr
                .trim()
                .split("\n")
                .every((line) => line.startsWith("preflight: ")),
            "one line per problem",
        );
    });

    it("answers a bad command line with exit 2", async () => {
        const result = await runMain(preflightMain, ["--stack", "../etc"]);
        assert.equal(result.status, 2);
        assert.match(result.stderr, /^preflight: --stack: expected a stack name, given "\.\.\/etc"$/m);
    });
});
