import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { SECRET_STAND_IN, fromEngineConfig, readStackFile } from "../components/config/load";
import { parseBytes, parseCpu, parseDuration } from "../components/config/quantities";
import { CHARTS } from "../components/config/releases";
import { isPinnedImage } from "../components/config/schema";
import { RawStackConfig, validateConfig } from "../components/config/validate";
import { PROJECT_DIR } from "./harness";

function devValues(): Record<string, unknown> {
    const read = readStackFile("dev", PROJECT_DIR);
    if (!read.ok) throw new Error(read.errors.join("\n"));
    return structuredClone(read.raw.values);
}

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function errorsFor(mutate: (values: Values) => void): string[] {
    const values = devValues();
    mutate(values);
    const result = validateConfig({ file: "Pulumi.dev.yaml", values }, "reject");
    return result.ok ? [] : result.errors;
}

describe("stack config", () => {
    it("accepts both committed stack files (prod only with its placeholders allowed)", () => {
        for (const stack of ["dev", "prod"]) {
            const read = readStackFile(stack, PROJECT_DIR);
            assert.ok(read.ok);
            const result = validateConfig(read.raw, "allow");
            assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
        }
    });

    it("fills in defaults: namespaces, HPA targets and behaviour, pinned chart versions", () => {
        const result = validateConfig({ file: "Pulumi.dev.yaml", values: devValues() });
        assert.ok(result.ok);
        const api = result.config.services[0];
        assert.equal(result.config.namespaces.apps, "finbot-apps");
        assert.deepEqual(api.scaling.scaleDown, { stabilizationSeconds: 300, percent: 10, periodSeconds: 60 });
        assert.equal(api.metrics.path, "/metrics");
        assert.deepEqual(api.writablePaths, ["/tmp"]);
        assert.equal(result.config.releases.charts["kube-prometheus-stack"], CHARTS["kube-prometheus-stack"].version);
    });

    const badConfigs: Array<[string, (v: Values) => void, RegExp]> = [
        ["wrong environment", (v) => (v.environment = "prod"), /finbot:environment: expected one of "staging", "production", given "prod"/],
        ["missing environment", (v) => delete v.environment, /finbot:environment: expected one of .*given nothing/],
        ["unknown top-level key", (v) => (v.monitorng = {}), /finbot:monitorng: unknown key \(expected one of: finbot:environment/],
        ["unknown service key (typo)", (v) => (v.services[0].replica = { min: 1 }), /finbot:services\[0\]\.replica: unknown key/],
        [
            "a moved key, naming where it went",
            (v) => (v.traffic.metricsServer = false),
            /finbot:traffic\.metricsServer: moved to finbot:autoscaling\.metricsServer \(set it there; docs\/config\.md, "Moved keys"\)$/m,
        ],
        ["port of the wrong type", (v) => (v.services[0].port = "9898"), /finbot:services\[0\]\.port: expected a number, given "9898"/],
        ["port out of range", (v) => (v.services[0].port = 70000), /finbot:services\[0\]\.port: expected a number <= 65535, given 70000/],
        [
            "negative replicas",
            (v) => (v.services[0].replicas.min = -1),
            /finbot:services\[0\]\.replicas\.min: expected a number >= 1, given -1/,
        ],
        [
            "fractional replicas",
            (v) => (v.services[0].replicas.max = 2.5),
            /finbot:services\[0\]\.replicas\.max: expected a whole number, given 2.5/,
        ],
        [
            "min above max",
            (v) => (v.services[0].replicas = { min: 5, max: 2 }),
            /finbot:services\[0\]\.replicas\.min: expected a value <= replicas.max \(2\), given 5/,
        ],
        [
            "unparsable CPU quantity",
            (v) => (v.services[0].resources.requests.cpu = "fast"),
            /requests\.cpu: expected a CPU quantity such as "250m" or "1", given "fast"/,
        ],
        [
            "unparsable memory quantity",
            (v) => (v.services[0].resources.limits.memory = "128MB"),
            /limits\.memory: expected a memory quantity/,
        ],
        [
            "limit below request",
            (v) => (v.services[0].resources.limits.memory = "32Mi"),
            /limits\.memory: expected a limit >= requests\.memory \(64Mi\), given "32Mi"/,
        ],
        [
            "duplicate service names",
            (v) => v.services.push(structuredClone(v.services[0])),
            /finbot:services\[1\]\.name: expected a unique service name/,
        ],
        ["service name not a DNS label", (v) => (v.services[0].name = "API_v1"), /finbot:services\[0\]\.name: expected a DNS label/],
        [
            "image key not in releases",
            (v) => (v.services[0].image = "nginx"),
            /finbot:services\[0\]\.image: expected a key of finbot:releases\.images/,
        ],
        [
            "unpinned image",
            (v) => (v.releases.images.podinfo = "ghcr.io/stefanprodan/podinfo:latest"),
            /finbot:releases\.images\.podinfo: expected a pinned image reference/,
        ],
        [
            "image without tag",
            (v) => (v.releases.images.podinfo = "ghcr.io/stefanprodan/podinfo"),
            /finbot:releases\.images\.podinfo: expected a pinned image reference/,
        ],
        [
            "chart version range",
            (v) => (v.releases.charts = { "kube-prometheus-stack": "^88" }),
            /charts\.kube-prometheus-stack: expected an exact chart version/,
        ],
        [
            "unknown chart",
            (v) => (v.releases.charts = { "kube-prometheus": "1.0.0" }),
            /finbot:releases\.charts\.kube-prometheus: unknown key/,
        ],
        ["relative health path", (v) => (v.services[0].health.liveness = "healthz"), /health\.liveness: expected an absolute HTTP path/],
        ["SLO above 100%", (v) => (v.services[0].slo.availability = 100), /slo\.availability: expected a number <= 99.999, given 100/],
        ["services not a list", (v) => (v.services = { api: {} }), /finbot:services: expected a list, given a map/],
        ["production without network", (v) => (v.environment = "production"), /finbot:network: expected the AWS network ids/],
        [
            "production with a single replica",
            (v) => (v.environment = "production"),
            /finbot:services\[0\]\.replicas\.min: expected at least 2 replicas in production/,
        ],
        [
            "production below 10x capacity",
            (v) => {
                v.environment = "production";
                v.services[0].capacity = { requestsPerSecondPerPod: 1, peakRequestsPerSecond: 100 };
            },
            /finbot:services\[0\]\.replicas\.max: expected enough replicas for 10x peak: 4 replicas x 1 req\/s = 4 req\/s is 0\.04x the peak of 100 req\/s; 1000 replicas are needed, given 4/,
        ],
        [
            "ACME without an email",
            (v) => (v.traffic = { tls: { issuer: "acme" } }),
            /finbot:traffic\.tls\.acmeEmail: expected an email for the ACME account/,
        ],
        [
            "an upper-case domain",
            (v) => (v.traffic = { domain: "FinBot.example.com" }),
            /finbot:traffic\.domain: expected a lower-case DNS domain/,
        ],
        [
            "placeholder left in place",
            (v) => (v.kubernetes = { storageClass: "REPLACE_ME" }),
            /finbot:kubernetes\.storageClass: expected a real value in place of the placeholder/,
        ],
    ];

    for (const [what, mutate, expected] of badConfigs) {
        it(`rejects ${what}`, () => {
            const errors = errorsFor(mutate);
            assert.ok(
                errors.some((e) => expected.test(e)),
                `expected an error matching ${expected}, got:\n${errors.join("\n") || "(accepted)"}`,
            );
            for (const error of errors) assert.match(error, /^Pulumi\.dev\.yaml: finbot(:\S+)?: /, "every line names the file and key");
        });
    }

    it("reports every problem at once, one line each", () => {
        const errors = errorsFor((v) => {
            v.services[0].replicas = { min: 5, max: 2 };
            v.services[0].typo = true;
            v.environment = "qa";
        });
        assert.equal(errors.length, 3, errors.join("\n"));
    });

    it("never echoes a secret value", () => {
        const errors = errorsFor((v) => (v.services[0].secretEnv = { API_KEY: 12345678, "bad name": "hunter2-secret" }));
        assert.ok(
            errors.some((e) => /secretEnv\.API_KEY: expected a string, given a secret \(not shown\)/.test(e)),
            errors.join("\n"),
        );
        assert.ok(!errors.join("\n").includes("12345678"));
        assert.ok(!errors.join("\n").includes("hunter2"));
    });

    it("treats encrypted (secure:) stack values as present secrets, not errors", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-config-"));
        const text = readFileText("Pulumi.dev.yaml").replace(
            "      port: 9898\n",
            "      port: 9898\n      secretEnv:\n        API_KEY:\n          secure: v1:abc:def\n",
        );
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), text);
        const read = readStackFile("dev", dir);
        assert.ok(read.ok);
        const result = validateConfig(read.raw);
        assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
        assert.ok(read.raw.values.services);
        assert.equal((read.raw.values.services as Values[])[0].secretEnv.API_KEY, SECRET_STAND_IN);
    });

    it("names the file and line of a YAML syntax error", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-config-"));
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  finbot:environment: staging\n   finbot:services: [\n");
        const read = readStackFile("dev", dir);
        assert.ok(!read.ok);
        assert.match(read.errors[0], /^Pulumi\.dev\.yaml: not valid YAML at line \d+/);
    });

    it("reads the engine's config (JSON strings) the same way as the stack file", () => {
        const values = devValues();
        const engine: Record<string, string> = { "aws:region": "eu-central-1" };
        for (const [key, value] of Object.entries(values))
            engine[`finbot:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
        const raw: RawStackConfig = fromEngineConfig(engine, "dev", () => false);
        assert.equal(raw.file, "Pulumi.dev.yaml");
        assert.deepEqual(raw.values, values);
    });

    it("refuses a secret set as plain text in the stack file, naming the key, never the value", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-config-"));
        const text = readFileText("Pulumi.dev.yaml").replace(
            "      port: 9898\n",
            "      port: 9898\n      secretEnv:\n        API_KEY: hunter2-in-git\n",
        );
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), text);
        const read = readStackFile("dev", dir);
        assert.ok(read.ok);
        const result = validateConfig(read.raw, "allow");
        assert.ok(!result.ok);
        assert.deepEqual(result.errors, [
            "Pulumi.dev.yaml: finbot:services[0].secretEnv.API_KEY: expected a secret (pulumi config set --secret --path 'finbot:services[0].secretEnv.API_KEY' <value>), given plain text that would be committed with the stack file",
        ]);
        assert.ok(!result.errors.join("").includes("hunter2"));
    });

    it("refuses a secret the engine does not hold encrypted (set without --secret)", () => {
        const values = devValues();
        (values.services as Values[])[0].secretEnv = { API_KEY: "hunter2" };
        const engine = Object.fromEntries(
            Object.entries(values).map(([k, v]) => [`finbot:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
        );
        const plain = validateConfig(
            fromEngineConfig(engine, "dev", () => false),
            "allow",
        );
        assert.ok(!plain.ok && /secretEnv\.API_KEY: expected a secret/.test(plain.errors[0]));
        const encrypted = validateConfig(
            fromEngineConfig(engine, "dev", (key) => key === "finbot:services"),
            "allow",
        );
        assert.ok(encrypted.ok, encrypted.ok ? "" : encrypted.errors.join("\n"));
    });
});

describe("quantities and references", () => {
    it("parses Kubernetes quantities and Prometheus durations", () => {
        assert.equal(parseCpu("250m"), 250);
        assert.equal(parseCpu("1.5"), 1500);
        assert.equal(parseCpu("1Gi"), undefined);
        assert.equal(parseBytes("128Mi"), 128 * 2 ** 20);
        assert.equal(parseBytes("1G"), 1e9);
        assert.equal(parseBytes("12 Mi"), undefined);
        assert.equal(parseDuration("1h30m"), 5400);
        assert.equal(parseDuration("30d"), 30 * 86400);
        assert.equal(parseDuration("100ms"), 0.1);
        assert.equal(parseDuration("5 minutes"), undefined);
    });

    it("accepts only pinned image references", () => {
        assert.ok(isPinnedImage("ghcr.io/stefanprodan/podinfo:6.9.2"));
        assert.ok(isPinnedImage("redis:8.2.2-alpine"));
        assert.ok(isPinnedImage("redis:8"), "a numeric tag is a tag, not a registry port");
        assert.ok(!isPinnedImage("registry.example.com:5000/api"), "a registry port is not a tag");
        assert.ok(isPinnedImage(`registry.example.com:5000/api@sha256:${"a".repeat(64)}`));
        assert.ok(!isPinnedImage("redis"));
        assert.ok(!isPinnedImage("redis:latest"));
        assert.ok(!isPinnedImage("Redis:8"));
    });
});

function readFileText(file: string): string {
    return readFileSync(path.join(PROJECT_DIR, file), "utf8");
}
