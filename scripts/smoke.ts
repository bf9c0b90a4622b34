// npm run smoke -- --stack <stack> --plan <dir> [--gateway <address>] [--connect <host>=<address>:<port>]...
//                  [--ca <pem>] [--retries <n>] [--timeout <seconds>]
// After a deployment: every public service answers its readiness path through the real path, from
// the plan's own routes and hosts (scripts/lib/smoke.ts): the CDN aliases through CloudFront, and
// each route's host at the public gateway's address with the origin key (FINBOT_ORIGIN_KEY) where
// the gateway demands it. TLS is verified (system CAs, or --ca). Prints PASS/FAIL per check and
// exits 1 when one fails.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Io, argumentError, runCli } from "./lib/cli";
import { readPlanSide } from "./lib/planDiff";
import { SmokeCheck, smokeChecks } from "./lib/smoke";
import { readStackFile } from "../components/config/load";
import { validateConfig } from "../components/config/validate";

const USAGE =
    "usage: npm run smoke -- --stack <stack> --plan <dir> [--gateway <address>] [--connect <host>=<address>:<port>]... [--ca <pem>] [--retries <n>] [--timeout <seconds>]";

interface Target {
    address: string;
    port: number;
}

/** One HTTPS GET, TLS verified for `check.host`, at `target`: the status code, or why there is none. */
function get(check: SmokeCheck, target: Target, headers: Record<string, string>, ca: string | undefined, timeoutMs: number) {
    return new Promise<number | string>((resolve) => {
        const req = request(
            {
                host: target.address,
                port: target.port,
                path: check.path,
                servername: check.host,
                headers: { host: check.host, ...headers },
                ...(ca ? { ca } : {}),
                timeout: timeoutMs,
            },
            (res) => {
                res.resume();
                resolve(res.statusCode ?? "no status");
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
        req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        req.end();
    });
}

export async function main(argv: string[], io: Io): Promise<number> {
    let values: Record<string, string | string[] | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                plan: { type: "string" },
                gateway: { type: "string" },
                connect: { type: "string", multiple: true },
                ca: { type: "string" },
                retries: { type: "string" },
                timeout: { type: "string" },
            },
        }));
    } catch (error) {
        io.err(`smoke: ${argumentError(error)}`);
        io.err(USAGE);
        return 2;
    }
    const errors: string[] = [];
    if (!values.stack) errors.push("--stack is required");
    if (!values.plan) errors.push("--plan is required (npm run plan -- --stack <stack> --out <dir>)");
    const connect = new Map<string, Target>();
    for (const entry of (values.connect as string[] | undefined) ?? []) {
        const m = /^([^=\s]+)=([^:\s]+):(\d{1,5})$/.exec(entry);
        if (m) connect.set(m[1], { address: m[2], port: Number(m[3]) });
        else errors.push(`--connect ${entry}: expected <host>=<address>:<port>`);
    }
    const retries = Number(values.retries ?? 10);
    const timeout = Number(values.timeout ?? 10);
    if (!Number.isInteger(retries) || retries < 0) errors.push(`--retries ${values.retries}: expected a whole number`);
    if (!(timeout > 0)) errors.push(`--timeout ${values.timeout}: expected seconds`);
    if (errors.length > 0) {
        for (const e of errors) io.err(`smoke: ${e}`);
        io.err(USAGE);
        return 2;
    }
    const plan = readPlanSide(path.resolve(io.cwd, String(values.plan)));
    if (!plan) {
        io.err(`smoke: ${values.plan} holds no plan.json (make one with npm run plan -- --stack ${values.stack} --out ${values.plan})`);
        return 2;
    }
    const read = readStackFile(String(values.stack), io.cwd);
    const valid = read.ok ? validateConfig(read.raw, "allow") : undefined;
    if (!read.ok || !valid?.ok) {
        for (const e of !read.ok ? read.errors : valid && !valid.ok ? valid.errors : []) io.err(`smoke: ${e}`);
        return 2;
    }
    const { checks, skipped } = smokeChecks(plan.resources, valid.config.services);
    for (const line of skipped) io.out(`SKIP ${line}`);
    if (checks.length === 0) {
        io.err(`smoke: the plan of ${values.stack} has no public route with a readiness path to check`);
        return 1;
    }
    const originKey = process.env.FINBOT_ORIGIN_KEY;
    const needsKey = checks.some((c) => c.via === "gateway" && c.originKeyHeader);
    const problems: string[] = [];
    if (needsKey && !originKey) problems.push("FINBOT_ORIGIN_KEY is not set: the gateway refuses requests without the origin key");
    if (checks.some((c) => c.via === "gateway" && !connect.has(c.host)) && !values.gateway)
        problems.push("--gateway is required: the public gateway's address (its Service's load balancer)");
    if (problems.length > 0) {
        for (const p of problems) io.err(`smoke: ${p}`);
        return 2;
    }
    const ca = values.ca ? readFileSync(path.resolve(io.cwd, String(values.ca)), "utf8") : undefined;
    let failed = 0;
    for (const check of checks) {
        const target =
            connect.get(check.host) ??
            (check.via === "gateway" ? { address: String(values.gateway), port: 443 } : { address: check.host, port: 443 });
        const headers = check.via === "gateway" && check.originKeyHeader && originKey ? { [check.originKeyHeader]: originKey } : {};
        let answer: number | string = "not tried";
        for (let attempt = 0; attempt <= retries; attempt++) {
            if (attempt > 0) await new Promise((r) => setTimeout(r, 6000));
            answer = await get(check, target, headers, ca, timeout * 1000);
            if (answer === 200) break;
        }
        if (answer === 200) io.out(`PASS ${check.name}`);
        else {
            failed++;
            io.out(`FAIL ${check.name}: ${typeof answer === "number" ? `HTTP ${answer}` : answer}`);
        }
    }
    io.out(`smoke: ${checks.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
}

if (require.main === module) runCli("smoke", main);
