// npm run docs:policy: writes the policy pack's table into docs/delivery.md (between its markers):
// every rule of policy/rules, its enforcement and where staging relaxes it, and what it protects.
// A test fails when the committed table differs from what this generates.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { byText, table } from "../components/lib/markdown";
import { allPolicies } from "../policy/rules";

const PROJECT_DIR = path.join(__dirname, "..");
export const DELIVERY_DOCS = path.join(PROJECT_DIR, "docs", "delivery.md");
const BEGIN = "<!-- policy table: npm run docs:policy -->";
const END = "<!-- end of policy table -->";

/** Rules whose config names an environment: they apply in production only, staging relaxes them. */
function productionOnly(): Set<string> {
    const config = JSON.parse(readFileSync(path.join(PROJECT_DIR, "policy", "config.prod.json"), "utf8")) as Record<string, unknown>;
    return new Set(Object.keys(config));
}

export function renderPolicyTable(): string {
    const envAware = productionOnly();
    const rows = [...allPolicies]
        .sort((a, b) => byText(a.name, b.name))
        .map((p) => [
            `\`${p.name}\``,
            `${p.enforcementLevel ?? "advisory"}${envAware.has(p.name) ? " (prod; staging relaxed)" : ""}`,
            p.description ?? "",
        ]);
    return [BEGIN, "", `${rows.length} rules.`, "", table(["rule", "enforcement", "what it protects"], rows), "", END].join("\n");
}

/** docs/delivery.md with its policy table replaced by the generated one. */
export function renderDeliveryDocs(current: string): string {
    const start = current.indexOf(BEGIN);
    const end = current.indexOf(END);
    if (start < 0 || end < start) throw new Error(`docs/delivery.md: expected the markers ${BEGIN} … ${END}`);
    return current.slice(0, start) + renderPolicyTable() + current.slice(end + END.length);
}

if (require.main === module) {
    writeFileSync(DELIVERY_DOCS, renderDeliveryDocs(readFileSync(DELIVERY_DOCS, "utf8")));
    console.log(`wrote ${path.relative(process.cwd(), DELIVERY_DOCS)}`);
}
