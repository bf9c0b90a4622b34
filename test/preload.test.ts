// How the project's tools load code (scripts/preload.cjs): faster, but the same modules doing the
// same things. Each case runs a fresh Node with the loader, as the npm scripts do.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "./harness";

const PRELOAD = path.join(PROJECT_DIR, "scripts", "preload.cjs");

/** What a script prints when Node runs it with the loader, from `cwd`. */
function withLoader(script: string, cwd = PROJECT_DIR, nodeOptions: string[] = []): string {
    return execFileSync(process.execPath, [...nodeOptions, "--require", PRELOAD, "-e", script], {
        cwd,
        encoding: "utf8",
        timeout: 30_000,
    }).trim();
}

describe("the tools' loader", () => {
    it("loads a Pulumi SDK namespace when the program first reads it, with its resource types", () => {
        const script = `
            const loaded = (folder) => Object.keys(require.cache).some((f) => f.includes("/@pulumi/aws/" + folder + "/"));
            const aws = require("@pulumi/aws");
            const before = [loaded("chime"), loaded("iam")];
            const role = typeof aws.iam.Role;
            console.log(JSON.stringify({ before, role, iamAfter: loaded("iam"), chimeAfter: loaded("chime"),
                listed: Object.keys(aws).includes("chime"), sameObject: aws.iam === require("@pulumi/aws/iam") }));`;
        assert.deepEqual(JSON.parse(withLoader(script)), {
            before: [false, false],
            role: "function",
            iamAfter: true,
            chimeAfter: false,
            listed: true,
            sameObject: true,
        });
    });

    it("loads gRPC and its tracing, the wire to the engine, only when something uses them; its generated clients still construct", () => {
        const script = `
            const loaded = () => Object.keys(require.cache).filter((f) => /(@grpc\\/grpc-js|@opentelemetry\\/api)\\/build\\/src\\/(?!index\\.js)/.test(f)).length > 0;
            const pulumi = require("@pulumi/pulumi");
            const { ResourceMonitorClient } = require("@pulumi/pulumi/proto/resource_grpc_pb");
            const before = loaded();
            const grpc = require("@grpc/grpc-js");
            const status = grpc.status.UNAVAILABLE;
            const client = new ResourceMonitorClient("127.0.0.1:1", grpc.credentials.createInsecure());
            const works = typeof client.registerResource === "function" && client instanceof ResourceMonitorClient;
            client.close();
            console.log(JSON.stringify({ before, status, works, after: loaded(), sdk: typeof pulumi.Output }));`;
        assert.deepEqual(JSON.parse(withLoader(script)), { before: false, status: 14, works: true, after: true, sdk: "function" });
    });

    it("loads zod's messages in other languages only when one is asked for, English always", () => {
        const script = `
            const languages = () => Object.keys(require.cache).filter((f) => /zod\\/v4\\/locales\\/(?!index)/.test(f)).length;
            const { z } = require("zod");
            const english = z.string().safeParse(1).error.issues[0].message;
            const before = languages();
            z.config(z.locales.de());
            const german = z.string().safeParse(1).error.issues[0].message;
            console.log(JSON.stringify({ english, before, german: german !== english, after: languages() > 1 }));`;
        assert.deepEqual(JSON.parse(withLoader(script)), {
            english: "Invalid input: expected string, received number",
            before: 1,
            german: true,
            after: true,
        });
    });

    it("loads what the SDKs load for work offline tools never do only when used: cloud code's package reader, yaml.ConfigFile's glob, Grafana's v2 dashboards", () => {
        const script = `
            const loaded = (pattern) => Object.keys(require.cache).some((f) => pattern.test(f) && !f.endsWith("index.js") && !f.endsWith("normalize.js"));
            const parts = { reader: /normalize-package-data\\/lib\\//, glob: /\\/glob\\/dist\\//, v2: /grafana-foundation-sdk\\/dist\\/dashboardv2(beta1)?\\// };
            const state = () => Object.fromEntries(Object.entries(parts).map(([name, pattern]) => [name, loaded(pattern)]));
            require("@pulumi/pulumi");
            require("@pulumi/kubernetes/yaml");
            const timeseries = require("@grafana/grafana-foundation-sdk/timeseries");
            const panel = new timeseries.PanelBuilder().title("t").build().title;
            const before = state();
            const normalize = require("normalize-package-data");
            const data = { name: "x", version: "1.0.0" };
            normalize(data);
            const found = require("glob").sync("package.json");
            const v2 = require("@grafana/grafana-foundation-sdk/dashboardv2");
            const v2Panel = typeof new v2.DashboardBuilder("d").build();
            console.log(JSON.stringify({ before, panel, normalized: data._id, found, v2Panel, after: state() }));`;
        assert.deepEqual(JSON.parse(withLoader(script)), {
            before: { reader: false, glob: false, v2: false },
            panel: "t",
            normalized: "x@1.0.0",
            found: ["package.json"],
            v2Panel: "object",
            after: { reader: true, glob: true, v2: true },
        });
    });

    it("loads the Kubernetes SDK's API groups when first used, not all 25 with its Helm and yaml namespaces", () => {
        const script = `
            const groups = () => new Set(Object.keys(require.cache).flatMap((f) => /@pulumi\\/kubernetes\\/(\\w+)\\/v\\w+\\/index\\.js$/.exec(f)?.[1] ?? [])
                .filter((g) => g !== "helm" && g !== "yaml"));
            const k8s = require("@pulumi/kubernetes");
            const helm = typeof k8s.helm.v3.Release + " " + typeof k8s.yaml.v2.ConfigGroup;
            const before = [...groups()];
            const deployment = typeof k8s.apps.v1.Deployment;
            const viaYaml = typeof require("@pulumi/kubernetes/yaml/yaml");
            console.log(JSON.stringify({ helm, before, deployment, after: [...groups()], listed: Object.keys(k8s.apps).includes("v1"), viaYaml }));`;
        assert.deepEqual(JSON.parse(withLoader(script)), {
            helm: "function function",
            before: [],
            deployment: "function",
            after: ["apps"],
            listed: true,
            viaYaml: "object",
        });
    });

    it("resolves a file as TypeScript does: a package's JavaScript beside its TypeScript sources, TypeScript before JSON", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-loader-resolve-"));
        try {
            // A package that ships its TypeScript sources next to the compiled JavaScript, and a
            // project module beside a JSON file of the same name (as releases.ts and releases.json).
            writeFileSync(path.join(dir, "shipped.js"), `module.exports = "javascript";\n`);
            writeFileSync(path.join(dir, "shipped.ts"), `export = "typescript source";\n`);
            writeFileSync(path.join(dir, "releases.ts"), `export const from = "typescript";\n`);
            writeFileSync(path.join(dir, "releases.json"), `{ "from": "json" }\n`);
            const probe = `console.log(require("./shipped") + " " + require("./releases").from)`;
            assert.equal(withLoader(probe, dir), "javascript typescript");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("runs a package's changed code, not the compiled code cached for its earlier version", () => {
        // A package installed in the project (the loader caches only those), at a fixed path so that
        // its cached code is replaced, not added to, run after run.
        const dir = path.join(PROJECT_DIR, "node_modules", ".cache", "finbot-loader-probe");
        const pkg = path.join(dir, "node_modules", "finbot-loader-probe");
        try {
            mkdirSync(pkg, { recursive: true });
            const write = (answer: string) =>
                writeFileSync(
                    path.join(pkg, "index.js"),
                    `module.exports = { answer: "${answer}", here: require.resolve("./index.js") === __filename, dir: __dirname };\n`,
                );
            const probe = `const p = require("finbot-loader-probe"); console.log(p.answer + " " + p.here + " " + (p.dir === ${JSON.stringify(pkg)}))`;
            write("aaaa");
            assert.equal(withLoader(probe, dir), "aaaa true true");
            assert.equal(withLoader(probe, dir), "aaaa true true", "from the cache");
            // The same length: V8 alone would accept the old cache for it.
            write("bbbb");
            assert.equal(withLoader(probe, dir), "bbbb true true");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("runs the project's changed TypeScript, its errors pointing at TypeScript lines when source maps are on", () => {
        // Without source maps (the npm scripts) a project module runs from V8's code cache too;
        // with them (the tests) Node compiles it, so that a stack trace names its TypeScript line.
        // Outside node_modules, as the project's own modules are; at a fixed path, so that its cached
        // code is replaced, not added to, run after run.
        const dir = path.join(tmpdir(), "finbot-loader-ts-probe");
        const file = path.join(dir, "probe.ts");
        try {
            mkdirSync(dir, { recursive: true });
            const write = (answer: string) =>
                writeFileSync(
                    file,
                    // The interface is gone from the JavaScript: the throw is on line 6 only in the TypeScript.
                    `interface Answer {\n    text: string;\n}\nexport const answer: Answer = { text: "${answer}" };\nexport function fail(): never {\n    throw new Error("probe");\n}\n`,
                );
            const probe = `const p = require(${JSON.stringify(file)}); try { p.fail(); } catch (e) { console.log(p.answer.text + " " + /probe\\.ts:(\\d+)/.exec(e.stack)[1]); }`;
            const answer = () => withLoader(probe).split(" ")[0];
            write("aaaa");
            assert.equal(answer(), "aaaa");
            assert.equal(answer(), "aaaa", "from the cache");
            // The same length: V8 alone would accept the old cache for it.
            write("bbbb");
            assert.equal(answer(), "bbbb");
            assert.equal(withLoader(probe, PROJECT_DIR, ["--enable-source-maps"]), "bbbb 6");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
