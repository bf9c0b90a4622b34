// The shape of the code itself: layers that point one way, and every component argument documented.
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { PROJECT_DIR } from "./harness";

function sourceFiles(dir: string): string[] {
    return readdirSync(path.join(PROJECT_DIR, dir)).flatMap((entry) => {
        const rel = path.join(dir, entry);
        if (statSync(path.join(PROJECT_DIR, rel)).isDirectory()) return sourceFiles(rel);
        return rel.endsWith(".ts") ? [rel] : [];
    });
}

/** The project files a file imports, as paths relative to the project. */
function importsOf(file: string): string[] {
    const source = ts.createSourceFile(file, readFileSync(path.join(PROJECT_DIR, file), "utf8"), ts.ScriptTarget.ES2022, false);
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

describe("the codebase", () => {
    const files = ["components", "dashboards", "scripts", "policy"].flatMap(sourceFiles);

    it("has layers that point one way: areas never import the platform, scripts never import tests", () => {
        assert.deepEqual(violations(files), []);
        // The check can fail: an area importing the platform is reported.
        assert.ok(FORBIDDEN.components.test(layer(path.join("components", "platform", "index.ts"))));
    });

    it("documents every field of every component's Args", () => {
        const undocumented: string[] = [];
        let fields = 0;
        for (const file of files.filter((f) => f.startsWith("components"))) {
            const source = ts.createSourceFile(file, readFileSync(path.join(PROJECT_DIR, file), "utf8"), ts.ScriptTarget.ES2022, true);
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
