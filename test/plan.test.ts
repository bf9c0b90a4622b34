import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { SECRET_STAND_IN } from "../components/config/load";
import { secretString } from "../components/config/schema";
import { parsePlanArgs, writePlan } from "../scripts/plan";
import { PROJECT_DIR, loadStackConfig, runPlatform } from "./harness";

const TSX = path.join(PROJECT_DIR, "node_modules", ".bin", "tsx");
const PLAN = path.join(PROJECT_DIR, "scripts", "plan.ts");

function plan(args: string[], cwd = PROJECT_DIR) {
    const result = spawnSync(TSX, [PLAN, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function projectCopyWith(stackFileText: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-plan-"));
    writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stackFileText);
    return dir;
}

describe("offline plan (npm run plan)", () => {
    it("writes plan.json, manifests/, helm/ and summary.md for dev", () => {
        const out = mkdtempSync(path.join(tmpdir(), "finbot-plan-out-"));
        const result = plan(["--stack", "dev", "--out", out]);
        assert.equal(result.status, 0, result.stderr);
        const doc = JSON.parse(readFileSync(path.join(out, "plan.json"), "utf8"));
        assert.equal(doc.stack, "dev");
        assert.equal(doc.project, "finbot");
        assert.ok(doc.resources.length > 0);
        for (const r of doc.resources) {
            assert.deepEqual(Object.keys(r).sort(), ["dependsOn", "inputs", "name", "parent", "protect", "type", "urn"]);
            assert.match(r.urn, /^urn:pulumi:dev::finbot::/);
        }
        const deployment = doc.resources.find((r: { type: string }) => r.type === "kubernetes:apps/v1:Deployment");
        assert.ok(
            deployment.dependsOn.some((urn: string) => urn.endsWith("ServiceAccount::finbot-api")),
            "dependsOn holds URNs",
        );
        assert.ok(existsSync(path.join(out, "helm")));
        const manifests = readdirSync(path.join(out, "manifests"));
        assert.ok(manifests.includes("deployment-finbot-apps-api.yaml"), manifests.join(", "));
        const hpa = YAML.parse(readFileSync(path.join(out, "manifests", "horizontalpodautoscaler-finbot-apps-api.yaml"), "utf8"));
        assert.equal(hpa.kind, "HorizontalPodAutoscaler");
        const summary = readFileSync(path.join(out, "summary.md"), "utf8");
        assert.match(summary, /\| api \| ghcr\.io\/stefanprodan\/podinfo:6\.9\.2 \| 1–4 \|/);
    });

    it("replaces secrets by [secret] everywhere it writes", async () => {
        const { config } = loadStackConfig("dev");
        const secretConfig = structuredClone(config);
        secretConfig.services[0].secretEnv = { PAYMENT_API_KEY: secretString().parse(SECRET_STAND_IN) };
        const run = await runPlatform(secretConfig, "dev");
        const out = mkdtempSync(path.join(tmpdir(), "finbot-plan-secret-"));
        const files = writePlan(run, out, []);
        const all = files.map((f) => readFileSync(path.join(out, f), "utf8")).join("\n");
        assert.ok(!all.includes(SECRET_STAND_IN), "a secret value was written in plain text");
        const secret = YAML.parse(readFileSync(path.join(out, "manifests", "secret-finbot-apps-api-env.yaml"), "utf8"));
        assert.equal(secret.stringData, "[secret]");
        const deployment = run.get("kubernetes:apps/v1:Deployment", "finbot-api").inputs as {
            spec: { template: { spec: { containers: Array<{ envFrom: unknown[] }> } } };
        };
        assert.deepEqual(deployment.spec.template.spec.containers[0].envFrom[0], { secretRef: { name: "api-env" } });
    });

    it("plans prod, listing the placeholders a deployment would refuse", () => {
        const out = mkdtempSync(path.join(tmpdir(), "finbot-plan-out-"));
        const result = plan(["--stack=prod", `--out=${out}`]);
        assert.equal(result.status, 0, result.stderr);
        assert.match(readFileSync(path.join(out, "summary.md"), "utf8"), /Placeholders to replace.*finbot:network\.vpcId/);
    });

    const broken: Array<[string, (text: string) => string, RegExp]> = [
        [
            "a wrong type",
            (t) => t.replace("port: 9898", "port: nine"),
            /^Pulumi\.dev\.yaml: finbot:services\[0\]\.port: expected a number, given "nine"$/m,
        ],
        [
            "a negative size",
            (t) => t.replace("min: 1, max: 4", "min: -1, max: 4"),
            /finbot:services\[0\]\.replicas\.min: expected a number >= 1, given -1/,
        ],
        [
            "an unknown key",
            (t) => t.replace("      port: 9898", "      prot: 9898\n      port: 9898"),
            /finbot:services\[0\]\.prot: unknown key/,
        ],
        [
            "min above max",
            (t) => t.replace("min: 1, max: 4", "min: 5, max: 4"),
            /replicas\.min: expected a value <= replicas\.max \(4\), given 5/,
        ],
        [
            "unparsable YAML",
            (t) => t.replace("  finbot:services:", "  finbot:services: [\n"),
            /^Pulumi\.dev\.yaml: not valid YAML at line \d+/,
        ],
    ];
    for (const [what, breakIt, expected] of broken) {
        it(`exits non-zero on ${what}, naming the key, with no stack trace`, () => {
            const dir = projectCopyWith(breakIt(readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")));
            const result = plan(["--stack", "dev", "--out", path.join(dir, "out")], dir);
            assert.equal(result.status, 1, result.stdout + result.stderr);
            assert.match(result.stderr, expected);
            assert.doesNotMatch(result.stderr, /\bat .*\(.*:\d+:\d+\)|Error:/, "no stack trace");
            assert.ok(!existsSync(path.join(dir, "out")), "nothing written");
        });
    }

    it("fails the prod plan when a service cannot serve 10x its peak, naming it and the numbers", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-plan-"));
        const text = readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace(
            "replicas: { min: 3, max: 30 }",
            "replicas: { min: 3, max: 20 }",
        );
        writeFileSync(path.join(dir, "Pulumi.prod.yaml"), text);
        const result = plan(["--stack", "prod", "--out", path.join(dir, "out")], dir);
        assert.equal(result.status, 1, result.stdout);
        assert.equal(
            result.stderr.trim(),
            "Pulumi.prod.yaml: finbot:services[0].replicas.max: expected enough replicas for 10x peak: 20 replicas x 200 req/s = 4000 req/s is 8x the peak of 500 req/s; 25 replicas are needed, given 20",
        );
    });

    it("rejects bad command lines with usage and exit 2", () => {
        assert.deepEqual(parsePlanArgs(["--stack", "dev"]), { stack: "dev", out: path.join("plan", "dev") });
        assert.deepEqual(parsePlanArgs(["--stak", "dev"]), {
            errors: ['unknown argument "--stak"', 'unknown argument "dev"', "--stack is required"],
        });
        assert.deepEqual(parsePlanArgs(["--stack"]), { errors: ["--stack needs a value"] });
        const result = plan(["--out"]);
        assert.equal(result.status, 2);
        assert.match(result.stderr, /usage: npm run plan -- --stack <name>/);
    });

    it("says so when the stack does not exist", () => {
        const result = plan(["--stack", "staging"]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /^Pulumi\.staging\.yaml: cannot read the stack file/);
    });
});
