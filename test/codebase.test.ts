// The shape of the code itself: layers that point one way, and every component argument documented.
import * as assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import * as data from "../components/data";
import * as logging from "../components/logging";
import * as monitoring from "../components/monitoring";
import { AREAS } from "../components/platform/areas";
import { flowContext } from "../components/platform/networkFlows";
import * as traffic from "../components/traffic";
import * as workloads from "../components/workloads";
import { PROJECT_DIR, loadStackConfig } from "./harness";

function sourceFiles(dir: string): string[] {
    return readdirSync(path.join(PROJECT_DIR, dir)).flatMap((entry) => {
        const rel = path.join(dir, entry);
        if (statSync(path.join(PROJECT_DIR, rel)).isDirectory()) return sourceFiles(rel);
        return rel.endsWith(".ts") ? [rel] : [];
    });
}

/** Project files parsed once for every check here (with parent links, which the checks walk). */
const parsedFiles = new Map<string, ts.SourceFile>();
function parsed(file: string): ts.SourceFile {
    let source = parsedFiles.get(file);
    if (!source) {
        source = ts.createSourceFile(file, readFileSync(path.join(PROJECT_DIR, file), "utf8"), ts.ScriptTarget.ES2022, true);
        parsedFiles.set(file, source);
    }
    return source;
}

/** The project files a file imports, as paths relative to the project. */
function importsOf(file: string): string[] {
    const source = parsed(file);
    const specifiers: string[] = [];
    source.forEachChild((node) => {
        if (
            (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
            node.moduleSpecifier &&
            ts.isStringLiteral(node.moduleSpecifier)
        )
            specifiers.push(node.moduleSpecifier.text);
    });
    return specifiers.filter((s) => s.startsWith(".")).map((s) => path.normalize(path.join(path.dirname(file), s)));
}

/** Which layer a project path is in. */
function layer(file: string): string {
    const [top, area] = file.split(path.sep);
    return top === "components" ? `components/${area}` : top;
}

/** Layers each layer must never import. */
const FORBIDDEN: Record<string, RegExp> = {
    "components/config": /^(components\/(?!config)|scripts|test|dashboards|policy)/,
    "components/lib": /^(components\/(?!config|lib)|scripts|test|dashboards|policy)/,
    components: /^(components\/platform|scripts|test|policy)/,
    "components/platform": /^(scripts|test|policy)/,
    dashboards: /^(components\/(?!config)|scripts|test|policy)/,
    scripts: /^test/,
    policy: /^(scripts|test)/,
};

function violations(files: string[]): string[] {
    return files.flatMap((file) => {
        const own = layer(file);
        const rule = FORBIDDEN[own] ?? (own.startsWith("components/") ? FORBIDDEN.components : undefined);
        return rule
            ? importsOf(file)
                  .filter((target) => rule.test(layer(target)))
                  .map((target) => `${file} imports ${target}`)
            : [];
    });
}

/** Constructors longer than this many lines, and functions longer than LONG_FUNCTION, are reported. */
const LONG_CONSTRUCTOR = 100;
const LONG_FUNCTION = 120;

/** Constructors and functions over their limit, unless a `// Long: <reason>` comment stands above them. */
function overlong(source: ts.SourceFile): string[] {
    const { fileName: file, text } = source;
    const found: string[] = [];
    const visit = (node: ts.Node) => {
        const constructor = ts.isConstructorDeclaration(node);
        const named =
            ts.isFunctionDeclaration(node) ||
            ts.isMethodDeclaration(node) ||
            ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isVariableDeclaration(node.parent));
        if (constructor || named) {
            const lines =
                source.getLineAndCharacterOfPosition(node.getEnd()).line - source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
            const holder = ts.isVariableDeclaration(node.parent) ? node.parent.parent.parent : node;
            const comments = ts.getLeadingCommentRanges(text, holder.getFullStart()) ?? [];
            const reason = comments.some((c) => /^\/\/ Long: \S/.test(text.slice(c.pos, c.end)));
            if (lines > (constructor ? LONG_CONSTRUCTOR : LONG_FUNCTION) && !reason) {
                const where = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
                const what = constructor
                    ? "constructor"
                    : ((node as ts.FunctionDeclaration).name?.getText(source) ??
                      (node.parent as ts.VariableDeclaration).name.getText(source));
                found.push(`${file}:${where} ${what}: ${lines} lines`);
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

describe("the codebase", () => {
    const files = ["components", "dashboards", "scripts", "policy", "conformance"].flatMap(sourceFiles);

    it("has layers that point one way: areas never import the platform, scripts never import tests", () => {
        assert.deepEqual(violations(files), []);
        // The check can fail: an area importing the platform is reported.
        assert.ok(FORBIDDEN.components.test(layer(path.join("components", "platform", "index.ts"))));
    });

    it("has no import circle: a module never reaches itself through what it imports (schema.ts is shape only)", () => {
        const resolve = (target: string) =>
            [`${target}.ts`, path.join(target, "index.ts")].find(
                (candidate) => files.includes(candidate) || existsSync(path.join(PROJECT_DIR, candidate)),
            );
        const graph = new Map(files.map((f) => [f, importsOf(f).flatMap((t) => resolve(t) ?? [])]));
        const circles: string[] = [];
        const visit = (file: string, trail: string[]): void => {
            const at = trail.indexOf(file);
            if (at >= 0) {
                circles.push(trail.slice(at).concat(file).join(" -> "));
                return;
            }
            if (done.has(file)) return;
            for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
            done.add(file);
        };
        const done = new Set<string>();
        for (const file of graph.keys()) visit(file, []);
        assert.equal(circles.join("\n"), "");
        // The check can fail: the schema applying the checks again would close config's old circle.
        graph.set(path.join("components", "config", "schema.ts"), [path.join("components", "config", "checks.ts")]);
        done.clear();
        for (const file of graph.keys()) visit(file, []);
        assert.ok(
            circles.some((c) => c.includes("schema.ts -> components/config/checks.ts")),
            circles.join("\n"),
        );
    });

    it("holds every area to its contract: flows, rule groups and dashboards from the area, the platform only looping over AREAS", () => {
        const areas: Record<string, Record<string, unknown>> = { monitoring, data, logging, traffic, workloads };
        assert.deepEqual(AREAS.map((a) => a.name).sort(), Object.keys(areas).sort());
        for (const [name, index] of Object.entries(areas)) {
            const area = index[`${name}Area`] as Record<string, unknown> | undefined;
            assert.ok(area && AREAS.includes(area as never), `components/${name}/index.ts exports ${name}Area, listed in AREAS`);
            for (const part of ["flows", "ruleGroups", "dashboards"]) assert.equal(typeof area[part], "function", `${name}Area.${part}`);
        }
        // The platform reaches the areas' rules, dashboards and flows only through AREAS.
        const platformFiles = files.filter((f) => f.startsWith(path.join("components", "platform")) && !f.endsWith("areas.ts"));
        const handWired = platformFiles.flatMap((f) =>
            (readFileSync(path.join(PROJECT_DIR, f), "utf8").match(/\b\w+(RuleGroups?|Dashboards?|Flows)\(/g) ?? [])
                .filter((call) => !["platformFlows(", "platformRuleGroups("].includes(call))
                .map((call) => `${f}: ${call}`),
        );
        assert.deepEqual(handWired, []);
        // Each namespace's flows come from one area, for every stack.
        for (const stack of ["dev", "prod"] as const) {
            const context = flowContext(loadStackConfig(stack).config);
            const owners = AREAS.flatMap((a) => a.flows(context).map((f) => `${f.namespace} ${a.name}`));
            const namespaces = owners.map((o) => o.split(" ")[0]);
            assert.equal(new Set(namespaces).size, namespaces.length, `${stack}: ${owners.join(", ")}`);
        }
    });

    it("creates namespaces in the platform only", () => {
        const creators = files.filter(
            (f) =>
                !f.startsWith(path.join("components", "platform")) &&
                !f.endsWith(path.join("lib", "namespace.ts")) &&
                /platformNamespace\(|new k8s\.core\.v1\.Namespace\(/.test(readFileSync(path.join(PROJECT_DIR, f), "utf8")),
        );
        assert.deepEqual(creators, []);
    });

    it("names files in one case: modules in camelCase, tests in kebab-case ending in .test.ts", () => {
        const camel = /^[a-z][a-zA-Z0-9]*\.ts$/;
        const kebab = /^[a-z][a-z0-9]*(-[a-z0-9]+)*\.test\.ts$/;
        const misnamed = [
            ...files.filter((f) => !camel.test(path.basename(f))),
            ...sourceFiles("test").filter((f) => f.endsWith(".test.ts") && !kebab.test(path.basename(f))),
            ...sourceFiles("test").filter((f) => !f.endsWith(".test.ts") && !camel.test(path.basename(f))),
        ];
        assert.deepEqual(misnamed, []);
        assert.equal(camel.test("platform-overview.ts"), false, "the check can fail");
    });

    it("decides stack defaults in one place: `environment ===` only in components/config/resolve.ts", () => {
        const RESOLVE = path.join("components", "config", "resolve.ts");
        const decides = (text: string) => /\benvironment\s*[!=]==/.test(text);
        const offenders = ["components", "scripts", "dashboards", "policy"]
            .flatMap(sourceFiles)
            .filter((f) => f !== RESOLVE && decides(readFileSync(path.join(PROJECT_DIR, f), "utf8")));
        assert.deepEqual(offenders, []);
        assert.ok(decides('const production = config.environment === "production";'), "the check can fail");
    });

    it(`keeps constructors within ${LONG_CONSTRUCTOR} lines and functions within ${LONG_FUNCTION}, unless a reason is written above`, () => {
        assert.deepEqual(
            files.flatMap((file) => overlong(parsed(file))),
            [],
        );
        // The check can fail: a long constructor is reported, and a reason only excuses a function.
        const body = (n: number) => Array.from({ length: n }, (_, i) => `        const x${i} = ${i};`).join("\n");
        const long = `class A {\n    constructor() {\n${body(LONG_CONSTRUCTOR)}\n    }\n}\n// Long: a table.\nfunction f() {\n${body(LONG_FUNCTION)}\n}\nfunction g() {\n${body(LONG_FUNCTION)}\n}\n`;
        assert.deepEqual(
            overlong(ts.createSourceFile("x.ts", long, ts.ScriptTarget.ES2022, true)).map((line) => line.split(":")[1].split(" ")[1]),
            ["constructor", "g"],
        );
    });

    it("builds every Job's and CronJob's pod spec with hardenedPodSpec: non-root, seccomp, no token it does not use", () => {
        // A pod's restartPolicy stands only in a hardenedPodSpec({ ... }) call, a few lines into it.
        const handWritten = (text: string) =>
            text
                .split("\n")
                .flatMap((line, i, lines) =>
                    /^\s*restartPolicy: "/.test(line) && !lines.slice(Math.max(0, i - 5), i).some((l) => l.includes("hardenedPodSpec({"))
                        ? [i + 1]
                        : [],
                );
        const offenders = files
            .filter((f) => f.startsWith("components") && f !== path.join("components", "lib", "security.ts"))
            .flatMap((f) => handWritten(readFileSync(path.join(PROJECT_DIR, f), "utf8")).map((line) => `${f}:${line}`));
        assert.deepEqual(offenders, []);
        assert.deepEqual(handWritten('template: {\n    spec: {\n        restartPolicy: "Never",\n'), [3], "the check can fail");
    });

    it("documents every field of every component's Args", () => {
        const undocumented: string[] = [];
        let fields = 0;
        for (const file of files.filter((f) => f.startsWith("components"))) {
            const source = parsed(file);
            source.forEachChild((node) => {
                if (!ts.isInterfaceDeclaration(node) || !node.name.text.endsWith("Args")) return;
                for (const member of node.members) {
                    if (!ts.isPropertySignature(member)) continue;
                    fields++;
                    const docs = ts.getJSDocCommentsAndTags(member);
                    if (docs.length === 0) undocumented.push(`${file}: ${node.name.text}.${member.name.getText(source)}`);
                    else if (member.questionToken && !docs.some((d) => d.getText(source).includes("@default")))
                        undocumented.push(`${file}: ${node.name.text}.${member.name.getText(source)} (optional, no @default)`);
                }
            });
        }
        assert.ok(fields > 50, `${fields} fields`);
        assert.deepEqual(undocumented, []);
    });
});
