// Promotion and rollback of `finbot:releases` between stack files: what moves, what is refused,
// and the diff a reviewer reads. The YAML is edited in place so comments and layout survive.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import YAML, { Document, isMap, isScalar } from "yaml";
import { STACK_NAME, readStackFile, stackFileName } from "../../components/config/load";
import { Io } from "./cli";
import { git, resolveCommit } from "./git";
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

/**
 * A releases map as plain data, numbers as they are written: YAML reads an unquoted `1.10` as 1.1
 * and a digest of digits as a float that keeps only its leading digits, which would make two
 * different checksums or versions compare equal.
 */
function releasesFromNode(node: unknown): unknown {
    if (isMap(node))
        return Object.fromEntries(
            node.items.map((pair) => [String(isScalar(pair.key) ? pair.key.value : pair.key), releasesFromNode(pair.value)]),
        );
    if (isScalar(node)) return typeof node.value === "number" && node.source !== undefined ? node.source : node.value;
    return (node as { toJSON?: () => unknown } | null)?.toJSON?.() ?? node;
}

export function releasesOf(doc: Document, file: string): Releases {
    const node = doc.getIn(RELEASES_PATH, true);
    if (!isMap(node)) throw new PromotionError([`${file}: has no ${RELEASES_KEY} map`]);
    return releasesFromNode(node) as Releases;
}

/** Where the defaults of finbot:releases are written. */
export const RELEASE_DEFAULTS_FILE = path.join("components", "config", "releases.json");

interface ReleaseDefaults {
    charts: Record<string, { version: string }>;
    images: Record<string, string>;
    elasticStack: string;
    manifests: Record<string, { version: string; sha256: string | null }>;
}

/** releases.json in the shape of finbot:releases. */
export function defaultReleases(json: ReleaseDefaults): Releases {
    return {
        images: { ...json.images },
        charts: Object.fromEntries(Object.entries(json.charts).map(([name, chart]) => [name, chart.version])),
        elasticStack: json.elasticStack,
        manifests: Object.fromEntries(Object.entries(json.manifests).map(([name, m]) => [name, { version: m.version, sha256: m.sha256 }])),
    };
}

/** `defaults` with a stack's pins on top (what the stack runs). */
export function mergeReleases(defaults: Releases, pinned: Releases): Releases {
    const out: Releases = structuredClone(defaults);
    for (const [key, value] of Object.entries(pinned)) {
        const base = out[key];
        out[key] =
            value !== null && typeof value === "object" && base !== null && typeof base === "object"
                ? mergeReleases(base as Releases, value as Releases)
                : value;
    }
    return out;
}

/** The releases a stack runs: the defaults of releases.json with the stack file's pins on top. */
export function effectiveReleases(projectDir: string, stack: string): Releases {
    const file = stackFileNameOrError(stack);
    const node = parseDocument(readText(projectDir, stack), file).getIn(RELEASES_PATH, true);
    const pinned = isMap(node) ? (releasesFromNode(node) as Releases) : {};
    let defaults: Releases = {};
    try {
        defaults = defaultReleases(JSON.parse(readFileSync(path.join(projectDir, RELEASE_DEFAULTS_FILE), "utf8")) as ReleaseDefaults);
    } catch {
        // A project without release defaults runs what its stack file pins.
    }
    return mergeReleases(defaults, pinned);
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
        const exact = key.startsWith("charts.") || key === "elasticStack" || /^manifests\.[^.]+\.version$/.test(key);
        if (exact && !/^v?\d+\.\d+\.\d+([-+][\w.-]+)?$/.test(value)) {
            problems.push(`${file}: ${RELEASES_KEY}.${key} is not an exact version ("${value}")`);
        }
    }
    return problems;
}

/** Whether a release key holds a version (an image tag, a chart, the Elastic Stack, a manifest's version), not a checksum. */
const isVersionKey = (key: string) => /^(images|charts)\./.test(key) || key === "elasticStack" || /^manifests\.[^.]+\.version$/.test(key);

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

/** Compares versions' numeric parts: negative, zero or positive. */
export function compareVersions(a: number[], b: number[]): number {
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
        // Checksums are compared whole (by diff), never as versions by their leading digits.
        if (!isVersionKey(key)) continue;
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
 * so every other byte (comments, flow maps, spacing) stays. Keys the stack file has and `releases`
 * lacks are kept (a pin is never dropped); keys it lacks are added only with `addMissing`.
 */
export function withReleases(text: string, releases: Releases, addMissing: boolean): string {
    const doc = parseDocument(text, "");
    const current = leaves(releasesOf(doc, ""));
    const edits: Array<{ start: number; end: number; value: string }> = [];
    const missing: Array<[string, string]> = [];
    for (const [key, value] of leaves(releases)) {
        if (!current.has(key)) {
            if (addMissing) missing.push([key, value]);
            continue;
        }
        if (current.get(key) === value) continue;
        const node = doc.getIn([...RELEASES_PATH, ...key.split(".")], true);
        if (!isScalar(node) || !node.range) throw new PromotionError([`cannot locate finbot:releases.${key} in the stack file`]);
        edits.push({ start: node.range[0], end: node.range[1], value: YAML.stringify(value).trim() });
    }
    let out = text;
    for (const edit of edits.sort((x, y) => y.start - x.start)) out = out.slice(0, edit.start) + edit.value + out.slice(edit.end);
    // A missing key goes in as one new line after the last entry of its block map, indented as its
    // siblings: re-writing the document would reflow every flow map and list of the file.
    const unplaced: Array<[string, string]> = [];
    for (const [key, value] of missing) {
        const placed = withLineAdded(out, key, value);
        if (placed === undefined) unplaced.push([key, value]);
        else out = placed;
    }
    if (unplaced.length === 0) return out;
    const grown = parseDocument(out, "");
    for (const [key, value] of unplaced) grown.setIn([...RELEASES_PATH, ...key.split(".")], value);
    return grown.toString();
}

/** `text` with `key: value` added as a line to the block map holding its siblings, or undefined where there is none. */
function withLineAdded(text: string, key: string, value: string): string | undefined {
    const segments = key.split(".");
    const parent = parseDocument(text, "").getIn([...RELEASES_PATH, ...segments.slice(0, -1)], true);
    if (!isMap(parent) || parent.flow || parent.items.length === 0) return undefined;
    const first = parent.items[0].key;
    const last = parent.items[parent.items.length - 1].value;
    if (!isScalar(first) || !first.range || !(last as { range?: number[] } | null)?.range) return undefined;
    const column = first.range[0] - text.lastIndexOf("\n", first.range[0] - 1) - 1;
    const lastEnd = (last as { range: number[] }).range[1];
    const lineEnd = text.indexOf("\n", lastEnd - 1);
    const at = lineEnd < 0 ? text.length : lineEnd;
    const line = `${" ".repeat(column)}${segments[segments.length - 1]}: ${YAML.stringify(value).trim()}`;
    return `${text.slice(0, at)}\n${line}${text.slice(at)}`;
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
    return commitsTouching(projectDir, [file]).flatMap((commit) => {
        const releases = releasesAtCommit(projectDir, file, commit);
        return releases ? [{ commit, releases }] : [];
    });
}

/** What a stack ran at every commit that changed its pins or the release defaults, newest first. */
export function effectiveReleaseHistory(projectDir: string, stack: string): Array<{ commit: string; releases: Releases }> {
    const file = stackFileName(stack);
    return commitsTouching(projectDir, [file, RELEASE_DEFAULTS_FILE]).map((commit) => {
        let defaults: Releases = {};
        try {
            defaults = defaultReleases(JSON.parse(git(projectDir, ["show", `${commit}:${RELEASE_DEFAULTS_FILE}`])) as ReleaseDefaults);
        } catch {
            // no release defaults at that commit
        }
        let pinned: Releases = {};
        try {
            pinned = releasesAtCommit(projectDir, file, commit) ?? {};
        } catch {
            // no stack file at that commit
        }
        return { commit, releases: mergeReleases(defaults, pinned) };
    });
}

function commitsTouching(projectDir: string, files: string[]): string[] {
    try {
        // Main's own history: a commit of a merged branch never ran anywhere, so it proves nothing.
        return git(projectDir, ["log", "--first-parent", "--format=%H", "--", ...files])
            .split("\n")
            .filter(Boolean);
    } catch {
        throw new PromotionError([`${files[0]}: no git history here (run inside the repository)`]);
    }
}

function releasesAtCommit(projectDir: string, file: string, commit: string): Releases | undefined {
    const node = YAML.parseDocument(git(projectDir, ["show", `${commit}:${file}`])).getIn(RELEASES_PATH, true);
    return isMap(node) ? (releasesFromNode(node) as Releases) : undefined;
}

/** The releases of the stack file at `ref` (a commit, tag or branch). */
export function releasesAt(projectDir: string, stack: string, ref: string): { commit: string; releases: Releases } {
    const file = stackFileName(stack);
    const commit = resolveCommit(projectDir, ref);
    if (!commit) throw new PromotionError([`--to ${ref}: not a commit of this repository`]);
    let releases: Releases | undefined;
    try {
        releases = releasesAtCommit(projectDir, file, commit);
    } catch {
        throw new PromotionError([`--to ${ref}: ${file} does not exist at ${commit.slice(0, 8)}`]);
    }
    if (!releases) throw new PromotionError([`--to ${ref}: ${file} has no ${RELEASES_KEY} at ${commit.slice(0, 8)}`]);
    return { commit, releases };
}

/** Equal on every key both pin (a pin added or removed later is not a release change). */
export function sameReleases(a: Releases, b: Releases): boolean {
    const right = leaves(b);
    return [...leaves(a)].every(([key, value]) => !right.has(key) || right.get(key) === value);
}

/**
 * The releases the current ones replaced: those in force just before the current releases first
 * appeared in history (newest first). After a rollback to S1 from S2 the current S1 first
 * appeared before S2, so a second rollback goes further back to S0 instead of flipping to S2.
 */
export function releasesBefore(
    history: Array<{ commit: string; releases: Releases }>,
    current: Releases,
): { commit: string; releases: Releases } | undefined {
    const oldestFirst = [...history].reverse();
    const first = oldestFirst.findIndex((h) => sameReleases(h.releases, current));
    const before = first === -1 ? oldestFirst : oldestFirst.slice(0, first);
    for (let i = before.length - 1; i >= 0; i--) if (!sameReleases(before[i].releases, current)) return before[i];
    return undefined;
}

export function readText(projectDir: string, stack: string): string {
    const file = stackFileNameOrError(stack);
    try {
        return readFileSync(path.join(projectDir, file), "utf8");
    } catch {
        throw new PromotionError([`${file}: cannot read the stack file`]);
    }
}

/** `Pulumi.<stack>.yaml`, or a PromotionError naming a bad stack name. */
export function stackFileNameOrError(stack: string): string {
    if (!STACK_NAME.test(stack)) throw new PromotionError([`"${stack}" is not a stack name (letters, digits, "_", "." and "-")`]);
    return stackFileName(stack);
}

/** Runs a promotion command: its problems become stderr lines and exit 1; nothing else is caught. */
export async function runPromotionCommand(io: Io, work: () => void | Promise<void>): Promise<number> {
    try {
        await work();
        return 0;
    } catch (error) {
        if (!(error instanceof PromotionError)) throw error;
        for (const problem of error.problems) io.err(problem);
        return 1;
    }
}
