// npm run preflight -- --stack <dev|prod>
// Before a `pulumi up` (the first above all): is this the cluster the stack expects, and can it run
// the stack as planned? Read-only, but for a short-lived probe in a namespace of its own (two pods
// and a NetworkPolicy, deleted afterwards) that shows whether the CNI enforces NetworkPolicy. One
// line per problem on stderr and exit 1; exit 0 with "preflight: ok".
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { STACK_NAME, readStackFile } from "../components/config/load";
import { stackDefaults } from "../components/config/resolve";
import { PlatformConfig } from "../components/config/schema";
import { validateConfig } from "../components/config/validate";
import { totalRequests } from "../components/lib/footprint";
import { Io, argumentError, runCli } from "./lib/cli";
import { runPlatform, stackFileKey } from "./lib/offline";
import { compareVersions, versionParts } from "./lib/promotion";

const USAGE = "usage: npm run preflight -- --stack <stack>";
const ZONE = "topology.kubernetes.io/zone";
/** Share of the nodes' allocatable capacity the stack may plan to fill (the rest: daemons, rollouts). */
const ROOM_SHARE = 0.9;

type Run = (args: string[], input?: string) => { status: number | null; stdout: string; stderr: string };
const command =
    (name: string): Run =>
    (args, input) => {
        const r = spawnSync(name, args, { encoding: "utf8", input, timeout: 120_000 });
        return { status: r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") || (r.error?.message ?? "") };
    };
const firstLine = (text: string) => text.trim().split("\n")[0] ?? "";
const major = (version: string) => Number(/(\d+)\./.exec(version)?.[1] ?? NaN);

/** The Pulumi CLI and Node.js on PATH run the program: at least the SDK's version and package.json's engines. */
function toolProblems(projectDir: string): string[] {
    const problems: string[] = [];
    const pkg = JSON.parse(readFileSync(path.join(projectDir, "package.json"), "utf8"));
    const sdk = pkg.dependencies["@pulumi/pulumi"] as string;
    const nodeMajor = Number(/\d+/.exec(pkg.engines.node)?.[0]);
    const pulumi = command("pulumi")(["version"]);
    if (pulumi.status !== 0) problems.push("the Pulumi CLI is not installed (https://www.pulumi.com/docs/iac/download-install/)");
    else if (compareVersions(versionParts(firstLine(pulumi.stdout)) ?? [], versionParts(sdk) ?? []) < 0)
        problems.push(`the Pulumi CLI is ${firstLine(pulumi.stdout)}: the program's SDK is ${sdk}, use a CLI at least that new`);
    const node = command("node")(["--version"]);
    if (node.status !== 0 || !(major(node.stdout) >= nodeMajor))
        problems.push(`node on PATH is ${firstLine(node.stdout) || "missing"}: the program needs Node.js ${nodeMajor} or newer`);
    return problems;
}

/**
 * Whether an API server URL answers on this machine (kind's and k3d's, on IPv4 or IPv6 loopback), as
 * scripts/e2e.sh decides it: https://127.0.0.1:6443, https://[::1]:6443, https://localhost:6443.
 */
export function isLoopbackServer(server: string): boolean {
    const authority = server.replace(/^\w+:\/\//, "").replace(/\/.*$/, "");
    const host = authority.startsWith("[") ? authority.slice(1, authority.indexOf("]")) : authority.replace(/:\d+$/, "");
    return /^(127\.\d+\.\d+\.\d+|localhost|0\.0\.0\.0|::1|host\.docker\.internal)$/.test(host);
}

/** The context must be the stack's: a laptop cluster for a local one, the named EKS cluster otherwise. */
function contextProblems(config: PlatformConfig, kubectl: Run): string[] {
    const context = firstLine(kubectl(["config", "current-context"]).stdout);
    if (!context) return ["no kube context: set the stack's cluster as the current context"];
    const cluster = firstLine(kubectl(["config", "view", "--minify", "-o", "jsonpath={.contexts[0].context.cluster}"]).stdout);
    const server = firstLine(kubectl(["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"]).stdout);
    if (config.cluster.mode === "local") {
        const laptop = (/^(kind|k3d)-/.test(context) && isLoopbackServer(server)) || context === "minikube";
        return laptop
            ? []
            : [
                  `context ${context} (${server}) is not a laptop cluster (kind, k3d, minikube), which the ${config.environment} stack expects`,
              ];
    }
    const name = config.cluster.name ?? "";
    const eks = new RegExp(`(^|:cluster/)${name.replace(/[.-]/g, "\\$&")}$`);
    if (!eks.test(cluster) && !eks.test(context) && !context.endsWith(`/${name}`))
        return [`context ${context} is not EKS cluster ${name}'s (aws eks update-kubeconfig --name ${name})`];
    return [];
}

interface NodeList {
    items: Array<{
        metadata: { name: string; labels?: Record<string, string> };
        spec?: { unschedulable?: boolean };
        status: { allocatable: Record<string, string> };
    }>;
}

/** Nodes carry zones where pods must spread by zone, and have room for what the stack requests. */
async function nodeProblems(stack: string, config: PlatformConfig, runKey: string, kubectl: Run, io: Io): Promise<string[]> {
    const got = kubectl(["get", "nodes", "-o", "json", "--request-timeout=20s"]);
    if (got.status !== 0) return [`cannot list the cluster's nodes: ${firstLine(got.stderr)}`];
    const nodes = (JSON.parse(got.stdout) as NodeList).items.filter((n) => !n.spec?.unschedulable);
    const problems: string[] = [];
    const { zoneSpread, nodeAutoscaler } = stackDefaults(config);
    if (zoneSpread === "required") {
        const unzoned = nodes.filter((n) => !n.metadata.labels?.[ZONE]).map((n) => n.metadata.name);
        if (unzoned.length) problems.push(`nodes without ${ZONE} (pods must spread by zone and would not schedule): ${unzoned.join(", ")}`);
        const zones = new Set(nodes.map((n) => n.metadata.labels?.[ZONE]).filter(Boolean));
        if (zones.size < 2) problems.push(`the nodes span ${zones.size} zone(s): strict zone spreading needs at least 2`);
    }
    if (nodeAutoscaler === "karpenter") {
        io.out("preflight: room not checked: Karpenter adds the nodes the stack needs");
        return problems;
    }
    // The stack's requests, from the footprint its components declare (the plan's summary counts the same).
    const run = await runPlatform(config, stack, { key: runKey });
    const needed = totalRequests(run.platform.footprint(config).requests);
    const allocatable = totalRequests(
        nodes.map((n) => ({
            part: n.metadata.name,
            pods: 1,
            cpu: n.status.allocatable.cpu ?? "0",
            memory: n.status.allocatable.memory ?? "0",
        })),
    );
    const room = { millicores: allocatable.millicores * ROOM_SHARE, bytes: allocatable.bytes * ROOM_SHARE };
    const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
    if (needed.millicores > room.millicores || needed.bytes > room.bytes)
        problems.push(
            `the stack requests ${(needed.millicores / 1000).toFixed(2)} vCPU and ${gib(needed.bytes)} GiB; the nodes have room for ${(room.millicores / 1000).toFixed(2)} vCPU and ${gib(room.bytes)} GiB (${ROOM_SHARE * 100}% of allocatable)`,
        );
    return problems;
}

/** A client, a server, and a NetworkPolicy denying the server's ingress: the client must reach it before the policy and not after. */
function probeManifest(namespace: string, image: string): string {
    const hardened = {
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    };
    const pod = (name: string, script: string) => ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, labels: { "finbot.io/preflight": name } },
        spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 0,
            activeDeadlineSeconds: 600,
            containers: [{ name, image, command: ["sh", "-c", script], ...hardened }],
            volumes: [{ name: "tmp", emptyDir: {} }],
        },
    });
    const items = [
        {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: {
                name: namespace,
                labels: { "pod-security.kubernetes.io/enforce": "restricted", "app.kubernetes.io/part-of": "finbot-preflight" },
            },
        },
        pod("server", "mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"),
        pod("client", "exec sleep 600"),
    ];
    return JSON.stringify({ apiVersion: "v1", kind: "List", items });
}

const DENY_SERVER_INGRESS = (namespace: string) =>
    JSON.stringify({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "deny-server-ingress", namespace },
        spec: { podSelector: { matchLabels: { "finbot.io/preflight": "server" } }, policyTypes: ["Ingress"] },
    });

/** Whether the CNI enforces NetworkPolicy, shown by the probe; the namespace is deleted whatever happens. */
async function enforcementProblems(config: PlatformConfig, kubectl: Run, io: Io): Promise<string[]> {
    const namespace = `finbot-preflight-${randomBytes(3).toString("hex")}`;
    const image = config.releases.images.busybox;
    try {
        const applied = kubectl(["apply", "-f", "-"], probeManifest(namespace, image));
        if (applied.status !== 0) return [`the NetworkPolicy probe could not start: ${firstLine(applied.stderr)}`];
        const ready = kubectl(["-n", namespace, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"]);
        if (ready.status !== 0) return [`the NetworkPolicy probe's pods did not start: ${firstLine(ready.stderr)}`];
        const ip = firstLine(kubectl(["-n", namespace, "get", "pod", "server", "-o", "jsonpath={.status.podIP}"]).stdout);
        const reach = () =>
            kubectl(["-n", namespace, "exec", "client", "--", "wget", "-q", "-T", "3", "-O", "/dev/null", `http://${ip}:8080/`]).status ===
            0;
        if (!reach()) return ["the NetworkPolicy probe is inconclusive: its client could not reach its server before any policy"];
        const denied = kubectl(["apply", "-f", "-"], DENY_SERVER_INGRESS(namespace));
        if (denied.status !== 0) return [`the NetworkPolicy probe could not apply its policy: ${firstLine(denied.stderr)}`];
        // A policy takes effect within seconds (the VPC CNI's agent, kindnet, calico): try for about 20.
        for (let attempt = 0; attempt < 5; attempt++) {
            if (!reach()) {
                io.out(`preflight: the CNI enforces NetworkPolicy (probe in ${namespace})`);
                return [];
            }
            await new Promise((r) => setTimeout(r, Number(process.env.FINBOT_PREFLIGHT_POLICY_WAIT_MS ?? 4000)));
        }
        return [
            `the cluster's CNI does not enforce NetworkPolicy: a denied pod stayed reachable (finbot:cluster.cni says ${stackDefaults(config).cni ?? "nothing: the cluster's own CNI"}; every default-deny of the stack would be inert)`,
        ];
    } finally {
        kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
    }
}

export async function main(argv: string[], io: Io): Promise<number> {
    let stack: string | undefined;
    try {
        ({ stack } = parseArgs({ args: argv, options: { stack: { type: "string" } } }).values);
    } catch (error) {
        io.err(`preflight: ${argumentError(error)}`);
        io.err(USAGE);
        return 2;
    }
    if (!stack || !STACK_NAME.test(stack)) {
        io.err(stack ? `preflight: --stack: expected a stack name, given "${stack}"` : "preflight: --stack is required");
        io.err(USAGE);
        return 2;
    }
    const read = readStackFile(stack, io.cwd);
    if (!read.ok) {
        for (const e of read.errors) io.err(`preflight: ${e}`);
        return 1;
    }
    // What `pulumi up` refuses, refused here first: placeholders above all.
    const valid = validateConfig(read.raw);
    const problems = [...toolProblems(io.cwd)];
    if (!valid.ok) problems.push(...valid.errors);
    else {
        const kubectl = command("kubectl");
        const context = contextProblems(valid.config, kubectl);
        problems.push(...context);
        // Nothing more is asked of a cluster that is not the stack's.
        if (context.length === 0) {
            problems.push(...(await nodeProblems(stack, valid.config, stackFileKey(read.raw), kubectl, io)));
            problems.push(...(await enforcementProblems(valid.config, kubectl, io)));
        }
    }
    for (const p of problems) io.err(`preflight: ${p}`);
    if (problems.length === 0) io.out(`preflight: ok, stack ${stack} can be deployed to this cluster`);
    return problems.length === 0 ? 0 : 1;
}

if (require.main === module) runCli("preflight", main);
