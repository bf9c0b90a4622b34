// What a change does to a stack, for reviewers: two offline plans compared resource by resource
// (by URN), input path by input path, and their summaries' tables line by line. Secret values are
// never shown: a secret whose fingerprint moved reads "[secret] changed". Pure, but for readPlanSide.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

/** A resource as plan.json records it. */
export interface PlannedResource {
    urn: string;
    type: string;
    inputs: unknown;
    dependsOn?: string[];
    protect?: boolean;
    retainOnDelete?: boolean;
}

/** One side of the comparison: plan.json's resources, the secrets' fingerprints and summary.md. */
export interface PlanSide {
    resources: PlannedResource[];
    /** `urn -> input path -> fingerprint` of every secret value. */
    fingerprints: Record<string, Record<string, string>>;
    summary: string;
}

/** A plan folder written by `npm run plan` as one side of a comparison; undefined when it holds no plan.json. */
export function readPlanSide(dir: string): PlanSide | undefined {
    const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
    if (!existsSync(path.join(dir, "plan.json"))) return undefined;
    return {
        resources: (JSON.parse(read("plan.json")) as { resources: PlanSide["resources"] }).resources,
        fingerprints: existsSync(path.join(dir, "fingerprints.json")) ? JSON.parse(read("fingerprints.json")) : {},
        summary: existsSync(path.join(dir, "summary.md")) ? read("summary.md") : "",
    };
}

export const SECRET = "[secret]";
const MAX_VALUE = 100;

/** Leaves of a value by path (`spec.template.spec.containers[0].image`); JSON text is opened up. */
export function flatten(value: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> {
    if (typeof value === "string" && /^\s*[[{]/.test(value) && value.length > MAX_VALUE) {
        try {
            return flatten(JSON.parse(value), `${prefix}(json)`, out);
        } catch {
            // not JSON: compared as text below
        }
    }
    if (Array.isArray(value)) {
        if (value.length === 0) out.set(prefix, "[]");
        value.forEach((item, i) => flatten(item, `${prefix}[${i}]`, out));
    } else if (value !== null && typeof value === "object") {
        const entries = Object.entries(value);
        if (entries.length === 0) out.set(prefix, "{}");
        for (const [key, item] of entries) flatten(item, prefix ? `${prefix}.${key}` : key, out);
    } else {
        out.set(prefix, JSON.stringify(value) ?? "undefined");
    }
    return out;
}

function shown(value: string | undefined): string {
    if (value === undefined) return "(none)";
    if (value === JSON.stringify(SECRET)) return SECRET;
    const lines = value.split("\\n").length;
    if (value.length <= MAX_VALUE) return `\`${value}\``;
    return lines > 1 ? `(${lines} lines)` : `\`${value.slice(0, MAX_VALUE - 3)}...\``;
}

/** The changed input paths of one resource, as `path: before → after` lines. */
export function inputChanges(urn: string, before: PlanSide, after: PlanSide, a: PlannedResource, b: PlannedResource): string[] {
    const left = flatten({
        inputs: a.inputs,
        dependsOn: a.dependsOn ?? [],
        protect: a.protect ?? false,
        retainOnDelete: a.retainOnDelete ?? false,
    });
    const right = flatten({
        inputs: b.inputs,
        dependsOn: b.dependsOn ?? [],
        protect: b.protect ?? false,
        retainOnDelete: b.retainOnDelete ?? false,
    });
    const lines: string[] = [];
    for (const key of [...new Set([...left.keys(), ...right.keys()])].sort()) {
        const [x, y] = [left.get(key), right.get(key)];
        const secret = x === JSON.stringify(SECRET) || y === JSON.stringify(SECRET);
        if (secret && x === y) {
            const path = key.replace(/^inputs\./, "");
            if (before.fingerprints[urn]?.[path] !== after.fingerprints[urn]?.[path]) lines.push(`${key}: ${SECRET} changed`);
        } else if (x !== y) {
            lines.push(`${key}: ${shown(x)} → ${shown(y)}`);
        }
    }
    return lines;
}

/** Lines of summary.md's tables (and totals) that differ, as a unified-style list. */
export function summaryChanges(before: string, after: string): string[] {
    const a = before.split("\n");
    const b = after.split("\n");
    const inA = new Set(a);
    const inB = new Set(b);
    return [
        ...a.filter((l) => !inB.has(l) && l.trim()).map((l) => `- ${l}`),
        ...b.filter((l) => !inA.has(l) && l.trim()).map((l) => `+ ${l}`),
    ];
}

/** The resources a plan adds, removes and changes against an earlier one (by URN; secrets by fingerprint). */
export function planChanges(before: PlanSide, after: PlanSide) {
    const byUrn = (side: PlanSide) => new Map(side.resources.map((r) => [r.urn, r]));
    const [a, b] = [byUrn(before), byUrn(after)];
    const added = [...b.keys()].filter((u) => !a.has(u));
    const removed = [...a.keys()].filter((u) => !b.has(u));
    const changed = [...b.keys()]
        .filter((u) => a.has(u))
        .map((u) => ({ urn: u, lines: inputChanges(u, before, after, a.get(u)!, b.get(u)!) }))
        .filter((c) => c.lines.length > 0);
    const counts = `${added.length} to add, ${removed.length} to remove, ${changed.length} to change`;
    return { added, removed, changed, counts, unchanged: b.size - added.length - changed.length };
}

/** diff.md: resources added, removed and changed, then the summary's changed lines. */
export function renderPlanDiff(stack: string, before: PlanSide, after: PlanSide): string {
    const { added, removed, changed, counts, unchanged } = planChanges(before, after);
    const summary = summaryChanges(before.summary, after.summary);
    const out = [`# Plan diff of stack \`${stack}\``, "", `${counts}, ${unchanged} unchanged.`];
    const list = (title: string, urns: string[]) => {
        if (urns.length === 0) return;
        out.push("", `## ${title}`, "", ...urns.map((u) => `- \`${u}\``));
    };
    list("Added", added);
    list("Removed", removed);
    if (changed.length > 0) {
        out.push("", "## Changed");
        for (const c of changed) out.push("", `- \`${c.urn}\``, ...c.lines.map((l) => `  - ${l}`));
    }
    if (summary.length > 0) out.push("", "## Summary", "", "```diff", ...summary, "```");
    return `${out.join("\n")}\n`;
}
