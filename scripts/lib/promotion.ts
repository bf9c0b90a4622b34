// Promotion and rollback of `finbot:releases` between stack files: what moves, what is refused,
// and the diff a reviewer reads. The YAML is edited in place so comments and layout survive.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import YAML, { Document, isMap, isScalar } from "yaml";
import { readStackFile, stackFileName } from "../../components/config/load";
import { isPinnedImage } from "../../components/config/primitives";
import { validateConfig } from "../../components/config/validate";

export const RELEASES_KEY = "finbot:releases";
const RELEASES_PATH = ["config", RELEASES_KEY];

export type Releases = Record<string, unknown>;

/** Leaf values of a releases map by dotted path: `images.podinfo`, `charts.keda`, `elasticStack`. */
export function leaves(releases: unknown, prefix = ""): Map<string, string> {
    const out = new Map<string, string>();
    if (releases !== null && typeof releases === "object" && !Array.isArray(releases)) {
        for (const [key, value] of Object.entries(releases)) {
            const p = prefix ? `${prefix}.${key}` : key;
            if (value !== null && typeof value === "object") for (const [k, v] of leaves(value, p)) out.set(k, v);
            else out.set(p, String(value));
        }
    }
    return out;
}

export function parseDocument(text: string, file: string): Document {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length > 0) throw new PromotionError([`${file}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`]);
    return doc;
}

export function releasesOf(doc: Document, file: string): Releases {
    const node = doc.getIn(RELEASES_PATH, true);
    if (!isMap(node)) throw new PromotionError([`${file}: has no ${RELEASES_KEY} map`]);
    return node.toJSON() as Releases;
}

export class PromotionError extends Error {
    constructor(public readonly problems: string[]) {
        super(problems.join("\n"));
    }
}

/** Problems that make releases unfit to promote: anything not pinned to one exact version. */
export function unpinned(releases: Releases, file: string): string[] {
    const problems: string[] = [];
    for (const [key, value] of leaves(releases)) {
        if (key.startsWith("images.") && !isPinnedImage(value)) problems.push(`${file}: ${RELEASES_KEY}.${key} is not pinned ("${value}")`);
        if ((key.startsWith("charts.") || key === "elasticStack") && !/^v?\d+\.\d+\.\d+([-+][\w.-]+)?$/.test(value)) {
            problems.push(`${file}: ${RELEASES_KEY}.${key} is not an exact version ("${value}")`);
        }
    }
    return problems;
}

/** Numeric parts of a version or image tag ("ghcr.io/x:6.9.2" -> [6, 9, 2]), or undefined. */
export function versionParts(value: string): number[] | undefined {
    const tag = value.includes("@sha256:")
        ? undefined
        : value
              .slice(value.lastIndexOf("/") + 1)
              .split(":")
              .pop();
    const m = tag ? /^v?(\d+(?:\.\d+)*)/.exec(tag) : null;
    return m ? m[1].split(".").map(Number) : undefined;
}

function compareVersions(a: number[], b: number[]): number {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const d = (a[i] ?? 0) - (b[i] ?? 0);
        if (d !== 0) return Math.sign(d);
    }
    return 0;
}

/** Releases where the target is newer than the source (promotion would be a downgrade). */
export function ahead(source: Releases, target: Releases, sourceFile: string, targetFile: string): string[] {
    const from = leaves(source);
    const problems: string[] = [];
    for (const [key, value] of leaves(target)) {
        const other = from.get(key);
        const [t, s] = [versionParts(value), other === undefined ? undefined : versionParts(other)];
        if (t && s && compareVersions(t, s) > 0)
            problems.push(`${targetFile} is ahead: ${RELEASES_KEY}.${key} is ${value}, ${sourceFile} has ${other}`);
    }
    return problems;
}

export interface Change {
    key: string;
    before?: string;
    after?: string;
}

export function diff(before: Releases, after: Releases): Change[] {
    const a = leaves(before);
    const b = leaves(after);
    const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
    return keys.filter((k) => a.get(k) !== b.get(k)).map((key) => ({ key, before: a.get(key), after: b.get(key) }));
}

export function renderDiff(file: string, changes: Change[]): string {
    if (changes.length === 0) return `${file}: ${RELEASES_KEY} unchanged`;
    return [
        `${file}: ${RELEASES_KEY}`,
        ...changes.flatMap((c) => [
            ...(c.before !== undefined ? [`- ${c.key}: ${c.before}`] : []),
            ...(c.after !== undefined ? [`+ ${c.key}: ${c.after}`] : []),
        ]),
    ].join("\n");
}

/**
 * The stack file's text with `releases` written in. Changed values are replaced where they stand,
 * so every other byte (comments, flow maps, spacing) stays; added or removed keys fall back to
 * re-printing the document.
 */
export function withReleases(text: string, releases: Releases): string {
    const doc = parseDocument(text, "");
    const current = leaves(releasesOf(doc, ""));
    const wanted = leaves(releases);
    const sameKeys = current.size === wanted.size && [...current.keys()].every((k) => wanted.has(k));
    if (!sameKeys) {
        for (const key of current.keys()) if (!wanted.has(key)) doc.deleteIn([...RELEASES_PATH, ...key.split(".")]);
        for (const [key, value] of wanted) doc.setIn([...RELEASES_PATH, ...key.split(".")], value);
        return doc.toString();
    }
    const edits: Array<{ start: number; end: number; value: string }> = [];
    for (const [key, value] of wanted) {
        if (current.get(key) === value) continue;
        const node = doc.getIn([...RELEASES_PATH, ...key.split(".")], true);
        if (!isScalar(node) || !node.range) throw new PromotionError([`cannot locate finbot:releases.${key} in the stack file`]);
        edits.push({ start: node.range[0], end: node.range[1], value: YAML.stringify(value).trim() });
    }
    let out = text;
    for (const edit of edits.sort((x, y) => y.start - x.start)) out = out.slice(0, edit.start) + edit.value + out.slice(edit.end);
    return out;
}

/** The target's config with new releases must still pass the schema (unknown keys, cross-field rules). */
export function schemaProblems(projectDir: string, stack: string, text: string): string[] {
    const read = readStackFile(stack, projectDir, text);
    if (!read.ok) return read.errors;
    const result = validateConfig(read.raw, "allow");
    return result.ok ? [] : result.errors;
}

/** `finbot:releases` of a stack file in every commit that touched it, newest first. */
export function releaseHistory(projectDir: string, stack: string): Array<{ commit: string; releases: Releases }> {
    const file = stackFileName(stack);
    let commits: string[];
    try {
        commits = execFileSync("git", ["log", "--format=%H", "--", file], { cwd: projectDir, encoding: "utf8" })
            .split("\n")
            .filter(Boolean);
    } catch {
        throw new PromotionError([`${file}: no git history here (run inside the repository)`]);
    }
    const history: Array<{ commit: string; releases: Releases }> = [];
    for (const commit of commits) {
        const text = execFileSync("git", ["show", `${commit}:${file}`], { cwd: projectDir, encoding: "utf8" });
        const node = YAML.parseDocument(text).getIn(RELEASES_PATH, true);
        if (isMap(node)) history.push({ commit, releases: node.toJSON() as Releases });
    }
    return history;
}

export function readText(projectDir: string, stack: string): string {
    const file = stackFileName(stack);
    try {
        return readFileSync(path.join(projectDir, file), "utf8");
    } catch {
        throw new PromotionError([`${file}: cannot read the stack file`]);
    }
}

/** Runs a promotion command: its problems become stderr lines and exit 1; nothing else is caught. */
export async function runPromotionCommand(work: () => void | Promise<void>): Promise<number> {
    try {
        await work();
        return 0;
    } catch (error) {
        if (!(error instanceof PromotionError)) throw error;
        for (const problem of error.problems) console.error(problem);
        return 1;
    }
}
