// The conformance of what the project plans: custom resources against their CRDs' structural
// schemas and Helm values against their charts' defaults, from the schemas generated for the
// pinned versions (conformance/schemas/), with nothing read from outside the repository.
import * as assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { readStackFileAt } from "../components/config/load";
import { CHARTS, MANIFESTS } from "../components/config/releases";
import { validateConfig } from "../components/config/validate";
import { COMMAND, CRD_SETS, main as generatorMain, pinOf, pinnedCharts, sameVersion } from "../conformance/generate";
import { planDocument, stackOfFile } from "../scripts/plan";
import { ChartFile, CrdSetFile, SCHEMA_DIR } from "../conformance/format";
import {
    Finding,
    PULUMI_UNKNOWN,
    PlanResource,
    SECRET,
    SchemaReader,
    Schemas,
    checkPlan,
    fileSystemReader,
    formatFinding,
} from "../conformance/validate";
import { PROJECT_DIR, PlatformRun, runMain, runPlatform, runStack } from "./harness";

const REGENERATE = `regenerate with \`${COMMAND}\` (docs/conformance.md)`;
const relative = (file: string) => path.relative(PROJECT_DIR, file);

const planResources = (run: PlatformRun) => (planDocument(run) as { resources: PlanResource[] }).resources;

const readJson = <T>(file: string): T | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : undefined);

/** Stack files kept for tests (none yet): each must plan conformant resources too. */
const TEST_STACKS = path.join(PROJECT_DIR, "test", "stacks");
const testStackFiles = existsSync(TEST_STACKS) ? readdirSync(TEST_STACKS).filter((f) => /\.ya?ml$/.test(f)) : [];

describe("conformance: custom resources and Helm values of the plans", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: every custom resource fits its CRD and every chart's values its defaults`, async () => {
            const report = checkPlan(planResources(await runStack(stack)));
            assert.deepEqual(report.findings.map(formatFinding), []);
            assert.ok(report.checked >= 30, `only ${report.checked} resources were checked`);
        });
    }

    for (const file of testStackFiles) {
        it(`test stack ${file}: conforms`, async () => {
            const read = readStackFileAt(path.join(TEST_STACKS, file));
            assert.ok(read.ok, read.ok ? "" : read.errors.join("\n"));
            const result = validateConfig(read.raw, "allow");
            assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
            const run = await runPlatform(result.config, stackOfFile(file));
            assert.deepEqual(checkPlan(planResources(run)).findings.map(formatFinding), []);
        });
    }
});

describe("conformance: the schemas follow the pins", () => {
    it("every pinned chart, and each CRD chart installed at its pin, has a schema of exactly its version", () => {
        const problems = pinnedCharts().flatMap(({ chart, version }) => {
            const file = path.join(SCHEMA_DIR, "charts", `${chart}.json`);
            const schema = readJson<ChartFile>(file);
            if (schema && sameVersion(schema.version, version)) return [];
            return [
                `${chart} is pinned at ${version}, but ${relative(file)} is ${schema ? `for ${schema.version}` : "missing"}: ${REGENERATE}`,
            ];
        });
        assert.deepEqual(problems, []);
    });

    it("the CRDs of every CRD-installing pin have a schema generated for its version", () => {
        const problems = Object.entries(CRD_SETS).flatMap(([set, entry]) => {
            const file = path.join(SCHEMA_DIR, "crds", `${set}.json`);
            const schema = readJson<CrdSetFile>(file);
            const pin = pinOf(entry);
            const wanted = pin ? `${"chart" in pin ? pin.chart : pin.manifest} ${pin.version}` : entry.version!;
            const made = schema?.pin
                ? `${"chart" in schema.pin ? schema.pin.chart : schema.pin.manifest} ${schema.pin.version}`
                : schema?.version;
            if (schema && (pin ? made === wanted : sameVersion(schema.version, wanted))) return [];
            return [`CRDs of ${set} follow ${wanted}, but ${relative(file)} is ${schema ? `for ${made}` : "missing"}: ${REGENERATE}`];
        });
        assert.deepEqual(problems, []);
    });

    it("every release manifest and every CRD-installing chart is followed by a CRD set", () => {
        const followed = new Set(Object.values(CRD_SETS).flatMap((s) => (s.pin ? [Object.values(s.pin)[0] as string] : [])));
        const unfollowed = Object.keys(MANIFESTS).filter((name) => !followed.has(name));
        assert.deepEqual(unfollowed, [], "add the manifest's CRDs to CRD_SETS in conformance/generate.ts");
        for (const chart of [
            "kube-prometheus-stack",
            "eck-operator",
            "cloudnative-pg",
            "keda",
            "gateway-helm",
            "cert-manager",
            "karpenter",
        ]) {
            assert.ok(followed.has(chart), `${chart} installs CRDs, but no CRD set follows it`);
        }
    });

    it("holds no schema of a set or chart no longer pinned", () => {
        const expected = [
            ...Object.keys(CRD_SETS).map((s) => `crds/${s}.json`),
            ...pinnedCharts().map(({ chart }) => `charts/${chart}.json`),
        ].sort();
        const present = ["crds", "charts"].flatMap((d) => readdirSync(path.join(SCHEMA_DIR, d)).map((f) => `${d}/${f}`)).sort();
        assert.deepEqual(present, expected);
    });
});

describe("conformance: the check finds what is wrong", () => {
    let resources: PlanResource[];
    before(async () => {
        resources = planResources(await runStack("dev"));
    });

    /** The findings for one resource of the dev plan after edits of a copy: dotted path -> new value (undefined deletes). */
    function findingsAfter(type: string, edits: Record<string, unknown>, name?: string): Finding[] {
        const original = resources.find((r) => r.type === type && (name === undefined || r.name === name));
        assert.ok(original, `the dev plan has a ${type}${name ? ` named ${name}` : ""}`);
        const changed = structuredClone(original);
        for (const [dotted, value] of Object.entries(edits)) {
            const keys = dotted.split(".");
            const last = keys.pop()!;
            const parent = keys.reduce((node, key) => (node as Record<string, unknown>)[key], changed.inputs) as Record<string, unknown>;
            if (value === undefined) delete parent[last];
            else parent[last] = value;
        }
        return checkPlan([changed]).findings;
    }
    const CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";
    const RELEASE = "kubernetes:helm.sh/v3:Release";
    const KPS = "finbot-monitoring-kube-prometheus-stack";
    const KPS_VERSION = CHARTS["kube-prometheus-stack"].version;
    const lines = (findings: Finding[]) => findings.map((f) => `${f.path}: ${f.message}`);

    it("an unknown field in a CloudNativePG Cluster spec", () => {
        assert.deepEqual(lines(findingsAfter(CLUSTER, { "spec.instancez": 3 })), [".spec.instancez: unknown field"]);
    });

    it("a value outside an enum in a Gateway listener", () => {
        // The listener's protocol is a pattern-checked string (implementations add their own
        // protocols); its TLS mode is the listener's enum.
        const found = findingsAfter("kubernetes:gateway.networking.k8s.io/v1:Gateway", { "spec.listeners.1.tls.mode": "Terminated" });
        assert.deepEqual(lines(found), ['.spec.listeners[1].tls.mode: must be one of "Terminate", "Passthrough"; got string "Terminated"']);
    });

    it("a number where Kubernetes wants an integer or a string (cpu: 0.5)", () => {
        const found = findingsAfter(CLUSTER, { "spec.resources.requests.cpu": 0.5 });
        assert.deepEqual(lines(found), [".spec.resources.requests.cpu: must be integer or string, got number 0.5"]);
    });

    it("a missing required field", () => {
        const found = findingsAfter("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", { "spec.parentRefs.0.name": undefined });
        assert.deepEqual(lines(found), [".spec.parentRefs[0].name: missing required field"]);
    });

    it("a bound the CRD sets (instances >= 1)", () => {
        assert.deepEqual(lines(findingsAfter(CLUSTER, { "spec.instances": 0 })), [".spec.instances: must be >= 1; got number 0"]);
    });

    it("a kind, or a version, that a known group does not have", () => {
        const rule = resources.find((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule")!;
        const typo = {
            ...rule,
            type: "kubernetes:monitoring.coreos.com/v1:PrometheusRules",
            inputs: { ...(rule.inputs as object), kind: "PrometheusRules" },
        };
        const [kind] = checkPlan([typo]).findings;
        assert.equal(kind.path, ".kind");
        assert.match(kind.message, /^unknown kind: "PrometheusRules" is not a kind of monitoring\.coreos\.com/);
        const scaled = resources.find((r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject")!;
        const v1 = { ...scaled, inputs: { ...(scaled.inputs as object), apiVersion: "keda.sh/v1" } };
        const [version, ...more] = lines(checkPlan([v1]).findings);
        assert.match(version, /^\.apiVersion: unknown version: ScaledObject has no served version "v1" in keda \S+ \(served: v1alpha1\)$/);
        assert.deepEqual(more, []);
    });

    it("an unknown Helm value path in kube-prometheus-stack, also in a subchart", () => {
        const edits = { "values.prometheus.prometheusSpec.retentionn": "30d", "values.grafana.persistance": { enabled: true } };
        assert.deepEqual(lines(findingsAfter(RELEASE, edits, KPS)).sort(), [
            `.values.grafana.persistance: unknown key (not in the default values of kube-prometheus-stack ${KPS_VERSION})`,
            `.values.prometheus.prometheusSpec.retentionn: unknown key (not in the default values of kube-prometheus-stack ${KPS_VERSION})`,
        ]);
    });

    it("a map where the chart's default is a scalar, and the reverse", () => {
        const edits = { "values.alertmanager.enabled": { on: true }, "values.prometheus.ingress": true };
        assert.deepEqual(lines(findingsAfter(RELEASE, edits, KPS)), [
            ".values.alertmanager.enabled: value is a map, but the chart default is boolean",
            ".values.prometheus.ingress: value is boolean true, but the chart default is a map",
        ]);
    });

    it("a chart without a schema, or of another version than the schema's", () => {
        const redis = findingsAfter(RELEASE, { chart: "redis", version: "20.1.0", values: {} }, KPS);
        assert.deepEqual(lines(redis), [".chart: no schema for chart redis version 20.1.0"]);
        const older = findingsAfter(RELEASE, { version: "0.0.1" }, KPS);
        assert.deepEqual(lines(older), [`.version: chart version 0.0.1 differs from the schema's ${KPS_VERSION}`]);
    });

    it("never a finding for a secret or a value unknown until deployment", () => {
        const cluster = findingsAfter(CLUSTER, {
            "spec.instances": SECRET,
            "spec.resources.requests.cpu": PULUMI_UNKNOWN,
            "spec.bootstrap": SECRET,
        });
        assert.deepEqual(lines(cluster), []);
        assert.deepEqual(lines(findingsAfter(RELEASE, { "values.prometheus.ingress": SECRET }, KPS)), []);
    });
});

describe("conformance: the check stands on the repository alone", () => {
    it("reads only the generated schemas in the repository", async () => {
        assert.equal(relative(SCHEMA_DIR), path.join("conformance", "schemas"));
        const read: string[] = [];
        const recording: SchemaReader = {
            list: (dir) => (read.push(dir), fileSystemReader.list(dir)),
            read: (file) => (read.push(file), fileSystemReader.read(file)),
        };
        const schemas = new Schemas(SCHEMA_DIR, recording);
        for (const stack of ["dev", "prod"] as const) checkPlan(planResources(await runStack(stack)), schemas);
        assert.ok(read.length > 0);
        assert.deepEqual(
            read.filter((file) => !file.startsWith(SCHEMA_DIR + path.sep)),
            [],
        );
    });

    it("names no outside folder in its code or its schemas", () => {
        const files = [
            path.join(PROJECT_DIR, "conformance", "validate.ts"),
            path.join(PROJECT_DIR, "conformance", "format.ts"),
            ...["crds", "charts"].flatMap((d) => readdirSync(path.join(SCHEMA_DIR, d)).map((f) => path.join(SCHEMA_DIR, d, f))),
        ];
        const naming = files.filter((file) => /shared\/conformance|\/work\//.test(readFileSync(file, "utf8")));
        assert.deepEqual(naming.map(relative), []);
    });
});

describe("conformance: the schema generator", () => {
    it("refuses an artefact of another version than the pin, one line per problem, writing nothing", async () => {
        const source = mkdtempSync(path.join(tmpdir(), "finbot-conformance-source-"));
        mkdirSync(path.join(source, "charts", "keda"), { recursive: true });
        writeFileSync(path.join(source, "charts", "keda", "Chart.yaml"), "name: keda\nversion: 2.19.0\n");
        writeFileSync(path.join(source, "charts", "keda", "values.yaml"), "replicaCount: 1\n");
        const out = path.join(source, "out");
        const result = await runMain(generatorMain, ["--source", source, "--out", out]);
        assert.equal(result.status, 2);
        assert.ok(
            result.stderr.includes(
                `conformance-schemas: ${path.join(source, "charts", "keda")}: Chart.yaml says 2.19.0, but keda is pinned at 2.20.2\n`,
            ),
            result.stderr,
        );
        assert.ok(result.stderr.includes("conformance-schemas: crds/eck: in no --source\n"), result.stderr);
        assert.ok(!/\n\s+at /.test(result.stderr), "no stack trace");
        assert.equal(existsSync(out), false);
    });

    it("refuses a command line without a source", async () => {
        const result = await runMain(generatorMain, ["--out", "x"]);
        assert.equal(result.status, 2);
        assert.match(result.stderr, /^conformance-schemas: --source is required\nusage: /);
    });
});
