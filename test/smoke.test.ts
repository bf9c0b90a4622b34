// The smoke check after a deploy (npm run smoke): its requests come from the plan's own routes and
// hosts, and it passes against Debian's nginx serving exactly those routes over TLS on 127.0.0.1,
// and fails when a route is missing or the origin key is wrong.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";
import { SmokeCheck, smokeChecks } from "../scripts/lib/smoke";
import { scratchDir } from "../scripts/lib/promtool";
import { planDocument } from "../scripts/plan";
import { main as smokeMain } from "../scripts/smoke";
import { PROJECT_DIR, runMain, runStack } from "./harness";
import { freePort } from "./servers";
import { requireTool, run as runTool } from "./tools";

type Plan = { resources: Array<{ type: string; inputs: Record<string, unknown> }> };
const ORIGIN_KEY = "origin-key-of-this-test";

/** nginx serving `checks` (each host's readiness path; the origin key where the check sends it), TLS by a CA of its own. */
async function nginxServing(dir: string, checks: SmokeCheck[], originKey: string) {
    const hosts = [...new Set(checks.map((c) => c.host))];
    mkdirSync(dir, { recursive: true });
    const key = path.join(dir, "server.key");
    const cert = path.join(dir, "server.crt");
    const made = runTool("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=finbot smoke test",
        "-keyout",
        key,
        "-out",
        cert,
        "-addext",
        `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}`,
    ]);
    assert.equal(made.status, 0, made.output);
    const port = await freePort();
    const servers = hosts.map((host) => {
        const locations = checks
            .filter((c) => c.host === host)
            .map((c) => {
                const guard =
                    c.via === "gateway" && c.originKeyHeader
                        ? `if ($http_${c.originKeyHeader.replace(/-/g, "_")} != "${originKey}") { return 403; }`
                        : "";
                return `location = ${c.path} { ${guard} return 200 "ready"; }`;
            });
        return `server { listen 127.0.0.1:${port} ssl; server_name ${host}; ssl_certificate ${cert}; ssl_certificate_key ${key}; ${locations.join(" ")} location / { return 404; } }`;
    });
    for (const temp of ["client", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(path.join(dir, temp), { recursive: true });
    writeFileSync(
        path.join(dir, "nginx.conf"),
        [
            `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;`,
            "events {}",
            `http { access_log off; client_body_temp_path ${dir}/client; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
            // A host nobody routes: the default server, with the same certificate, answers 421.
            `server { listen 127.0.0.1:${port} ssl default_server; ssl_certificate ${cert}; ssl_certificate_key ${key}; return 421; }`,
            ...servers,
            "}",
        ].join("\n"),
    );
    const nginx: ChildProcess = spawn(
        "nginx",
        ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log"), "-g", "daemon off;"],
        {
            stdio: "ignore",
        },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
        const ready = await new Promise<boolean>((resolve) => {
            const socket = createServer().listen(port, "127.0.0.1");
            socket.once("listening", () => socket.close(() => resolve(false)));
            socket.once("error", () => resolve(true));
        });
        if (ready) break;
        if (Date.now() > deadline || nginx.exitCode !== null)
            throw new Error(`nginx did not start: ${readFileSync(path.join(dir, "error.log"), "utf8")}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    const connect = hosts.flatMap((h) => ["--connect", `${h}=127.0.0.1:${port}`]);
    return { stop: () => nginx.kill("SIGTERM"), connect, ca: cert };
}

describe("smoke check (npm run smoke)", function () {
    this.timeout(60_000);
    let plan: Plan;
    let planDir: string;
    before(async () => {
        plan = planDocument(await runStack("prod")) as Plan;
        planDir = scratchDir("smoke-plan");
        writeFileSync(path.join(planDir, "plan.json"), JSON.stringify(plan));
    });
    after(() => rmSync(planDir, { recursive: true, force: true }));

    it("derives prod's checks from its routes and CDN: the alias through CloudFront, each route's host at the gateway with the origin key", () => {
        const services = [{ name: "api", public: true, health: { readiness: "/readyz" } }];
        const { checks, skipped } = smokeChecks(plan.resources, services);
        assert.deepEqual(
            checks.map((c) => [c.via, c.host, c.path, c.originKeyHeader]),
            [
                ["gateway", "api.finbot.replace-me.example.com", "/readyz", "x-finbot-origin-key"],
                ["edge", "app.finbot.replace-me.example.com", "/readyz", undefined],
            ],
        );
        assert.deepEqual(skipped, ["rum.finbot.replace-me.example.com: routes to apm-apm-http, which has no readiness path of FinBot's"]);
    });

    it("passes against servers that serve exactly the plan's routes, and fails naming a missing route or a wrong origin key", async function () {
        requireTool(this, "nginx", "nginx-light");
        requireTool(this, "openssl", "openssl");
        const { checks } = smokeChecks(plan.resources, [{ name: "api", public: true, health: { readiness: "/readyz" } }]);
        const smoke = async (server: Awaited<ReturnType<typeof nginxServing>>, key: string) => {
            process.env.FINBOT_ORIGIN_KEY = key;
            try {
                return await runMain(smokeMain, [
                    "--stack",
                    "prod",
                    "--plan",
                    planDir,
                    "--retries",
                    "0",
                    "--timeout",
                    "5",
                    "--ca",
                    server.ca,
                    ...server.connect,
                ]);
            } finally {
                delete process.env.FINBOT_ORIGIN_KEY;
            }
        };
        const dir = scratchDir("smoke-nginx");
        const all = await nginxServing(path.join(dir, "all"), checks, ORIGIN_KEY);
        try {
            const passed = await smoke(all, ORIGIN_KEY);
            assert.equal(passed.status, 0, passed.stdout + passed.stderr);
            assert.match(passed.stdout, /^PASS gateway api\.finbot\.replace-me\.example\.com\/readyz -> api$/m);
            assert.match(passed.stdout, /^PASS edge app\.finbot\.replace-me\.example\.com\/readyz -> CloudFront -> gateway -> api$/m);
            const wrongKey = await smoke(all, "not-the-key");
            assert.equal(wrongKey.status, 1);
            assert.match(wrongKey.stdout, /^FAIL gateway api\.finbot\.replace-me\.example\.com\/readyz -> api: HTTP 403$/m);
        } finally {
            all.stop();
        }
        const missing = await nginxServing(
            path.join(dir, "missing"),
            checks.filter((c) => c.via !== "edge"),
            ORIGIN_KEY,
        );
        try {
            const failed = await smoke(missing, ORIGIN_KEY);
            assert.equal(failed.status, 1);
            assert.match(failed.stdout, /^FAIL edge app\.finbot\.replace-me\.example\.com\/readyz -> CloudFront -> gateway -> api: /m);
            assert.match(failed.stdout, /^smoke: 1 passed, 1 failed$/m);
        } finally {
            missing.stop();
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("scripts/smoke.sh runs it from the stack's own offline plan, and is clean under shellcheck", function () {
        const script = readFileSync(path.join(PROJECT_DIR, "scripts", "smoke.sh"), "utf8");
        assert.match(script, /npm run -s plan -- --stack "\$stack" --out "\$work\/plan"/);
        assert.match(script, /npm run -s smoke -- "\$\{args\[@\]\}"/);
        assert.ok(!/https:\/\/[a-z]/.test(script), "no hand-written URL");
        requireTool(this, "shellcheck", "shellcheck");
        const lint = runTool("shellcheck", [path.join(PROJECT_DIR, "scripts", "smoke.sh")]);
        assert.equal(lint.status, 0, lint.output);
    });

    it("answers bad input with one line per problem and exit 2", async () => {
        const bad = await runMain(smokeMain, ["--stack", "prod", "--connect", "nohost"]);
        assert.equal(bad.status, 2);
        assert.deepEqual(bad.stderr.trim().split("\n").slice(0, 2), [
            "smoke: --plan is required (npm run plan -- --stack <stack> --out <dir>)",
            "smoke: --connect nohost: expected <host>=<address>:<port>",
        ]);
        delete process.env.FINBOT_ORIGIN_KEY;
        const noKey = await runMain(smokeMain, ["--stack", "prod", "--plan", planDir, "--gateway", "127.0.0.1"]);
        assert.deepEqual(
            [noKey.status, noKey.stderr.trim()],
            [2, "smoke: FINBOT_ORIGIN_KEY is not set: the gateway refuses requests without the origin key"],
        );
    });
});
