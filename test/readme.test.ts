// Docs that cannot drift: every npm script, config key (and value given with it) and connection key
// the README and docs name exists in package.json, the schema and the connection contract.
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { CONNECTION_KEYS } from "../components/data/connections";
import { platformSchema } from "../components/config/schema";
import { PROJECT_DIR } from "./harness";

const DOCS = [
    "README.md",
    ...readdirSync(path.join(PROJECT_DIR, "docs"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".md") && f !== "config.md")
        .map((f) => path.join("docs", f)),
];
const text = (file: string) => readFileSync(path.join(PROJECT_DIR, file), "utf8");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = any;

/** The schema a key path leads to (`cluster.mode`, `services[0].secretEnv.X`), or undefined where no key is. */
function schemaAt(schema: Schema, keys: string[]): Schema | undefined {
    let node = schema;
    for (const key of keys) {
        for (;;) {
            const def = node?._zod?.def;
            if (!def) return undefined;
            if (["optional", "default", "prefault", "nullable", "readonly"].includes(def.type)) node = def.innerType;
            else if (def.type === "pipe") node = def.in;
            else break;
        }
        const def = node._zod.def;
        if (/^\[\d+\]$/.test(key)) {
            if (def.type !== "array") return undefined;
            node = def.element;
        } else if (def.type === "object") {
            if (!(key in def.shape)) return undefined;
            node = def.shape[key];
        } else if (def.type === "record") node = def.valueType;
        else return undefined;
    }
    return node;
}

/**
 * `finbot:a.b[0].c` mentions (not recording rules such as `finbot:container_cpu_usage:rate5m`, stack
 * tags such as `finbot:deployed-commit` or type tokens such as `finbot:workloads:AutoscaledService`),
 * with the value given in the same code span (`` `finbot:cluster.mode: create` ``).
 */
function mentions(doc: string): Array<{ key: string; value?: string }> {
    const path = String.raw`[a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+|\[\d+\])*`;
    const keys = [...doc.matchAll(new RegExp(String.raw`finbot:(${path})(?![A-Za-z0-9_-]|:[A-Za-z])`, "g"))].map((m) => ({ key: m[1] }));
    const values = [...doc.matchAll(new RegExp(String.raw`\`finbot:(${path}): ([^\s\`]+)\``, "g"))].map((m) => ({
        key: m[1],
        value: m[2],
    }));
    // `finbot:database.mode` (`in-cluster`: ...; `aurora`: ...): each value the parenthesis explains.
    const listed = [...doc.matchAll(new RegExp(String.raw`\`finbot:(${path})\` \(([^)]*)\)`, "g"))].flatMap((m) =>
        [...m[2].matchAll(/`([^`\s]+)`:/g)].map((v) => ({ key: m[1], value: v[1] })),
    );
    return [...keys.filter((k) => ![...values, ...listed].some((v) => v.key === k.key)), ...values, ...listed];
}

describe("docs that cannot drift", () => {
    it("name only npm scripts that exist", () => {
        const scripts = Object.keys(JSON.parse(text("package.json")).scripts);
        const missing = DOCS.flatMap((f) => [...text(f).matchAll(/npm run (?:-s )?([a-z][a-z:-]*)/g)].map((m) => [f, m[1]]))
            .filter(([, s]) => !scripts.includes(s))
            .map(([f, s]) => `${f}: npm run ${s}`);
        assert.deepEqual(missing, []);
    });

    it("name only config keys the schema has, with values it accepts", () => {
        const problems: string[] = [];
        for (const file of DOCS)
            for (const { key, value } of mentions(text(file))) {
                const keys = key.split(/\.|(?=\[)/);
                const schema = schemaAt(platformSchema, keys);
                if (!schema) problems.push(`${file}: finbot:${key} is not a config key`);
                else if (value !== undefined && !z.safeParse(schema, YAML.parse(value)).success)
                    problems.push(`${file}: finbot:${key}: ${value} is not a value it takes`);
            }
        assert.deepEqual(problems, []);
        assert.deepEqual(mentions("set `finbot:database.mode: rds` and finbot:cluster.nope, not finbot:container_cpu:rate5m"), [
            { key: "cluster.nope" },
            { key: "database.mode", value: "rds" },
        ]);
        assert.deepEqual(mentions("`finbot:database.mode` (`in-cluster`: CloudNativePG; `rds`: RDS)"), [
            { key: "database.mode", value: "in-cluster" },
            { key: "database.mode", value: "rds" },
        ]);
        assert.ok(!z.safeParse(schemaAt(platformSchema, ["database", "mode"]), "rds").success, "the check can fail on a stale value");
        assert.equal(schemaAt(platformSchema, ["cluster", "nope"]), undefined, "and on a stale key");
    });

    it("table the connection contract the code delivers", () => {
        const readme = text("README.md");
        const section = readme.slice(
            readme.indexOf("## Data tier and the connection contract"),
            readme.indexOf("## Logs, traces and errors"),
        );
        const tabled = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
        assert.deepEqual(tabled, Object.values(CONNECTION_KEYS).flat());
    });
});
