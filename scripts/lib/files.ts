// File writes the scripts make: atomic replacement of files people track, and the rules for
// folders a tool may fill (never the working directory, its parents, or anything git tracks).
import { execFileSync } from "node:child_process";
import {
    existsSync,
    lstatSync,
    mkdirSync,
    readFileSync,
    readdirSync,
    realpathSync,
    renameSync,
    rmSync,
    statSync,
    writeFileSync,
} from "node:fs";
import * as path from "node:path";

/** Writes `text` to `file` through a temporary sibling and a rename: readers see the old or the new file, never half of one. */
export function writeFileAtomic(file: string, text: string): void {
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
        writeFileSync(temporary, text);
        renameSync(temporary, file);
    } finally {
        rmSync(temporary, { force: true });
    }
}

/** The path with symbolic links of its nearest existing ancestor resolved (the path itself may not exist yet). */
function resolvedPath(target: string): string {
    const absolute = path.resolve(target);
    let existing = absolute;
    while (!existsSync(existing)) existing = path.dirname(existing);
    return path.join(realpathSync(existing), path.relative(existing, absolute));
}

const isWithin = (child: string, parent: string) =>
    child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** Paths git tracks at or below `target`, from the top of its repository (none when git or a repository is absent). */
function trackedPaths(target: string): string[] {
    let dir = target;
    while (!existsSync(dir)) dir = path.dirname(dir);
    if (!statSync(dir).isDirectory()) dir = path.dirname(dir);
    try {
        return execFileSync("git", ["ls-files", "--full-name", "--", path.relative(dir, target) || "."], {
            cwd: dir,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
        })
            .split("\n")
            .filter(Boolean);
    } catch {
        return [];
    }
}

/** Why a tool must never write at `target`: the working directory, one of its parents, or a path git tracks. */
export function unsafeLocation(target: string, cwd: string): string | undefined {
    const dir = resolvedPath(path.resolve(cwd, target));
    if (isWithin(resolvedPath(cwd), dir)) return `${target} is the current directory or one of its parents`;
    const tracked = trackedPaths(dir);
    if (tracked.length > 0)
        return `${target} holds files tracked by git (${tracked.slice(0, 3).join(", ")}${tracked.length > 3 ? ", ..." : ""})`;
    return undefined;
}

/**
 * Why `target` is not a folder a tool may empty and fill, or undefined when it is: a safe location
 * (see unsafeLocation) that is missing, empty, or holds only `owned` entries (what the tool wrote
 * before) including `marker` (e.g. plan.json). `safeFolder`: a folder the caller found safe
 * already; when `target` resolves to a place below it, git tracks nothing there either.
 */
export function outputDirProblem(
    target: string,
    cwd: string,
    owned: readonly string[],
    marker: string,
    safeFolder?: string,
): string | undefined {
    const below =
        safeFolder !== undefined && isWithin(resolvedPath(path.resolve(cwd, target)), resolvedPath(path.resolve(cwd, safeFolder)));
    const unsafe = below ? undefined : unsafeLocation(target, cwd);
    if (unsafe) return unsafe;
    const dir = path.resolve(cwd, target);
    if (!existsSync(dir)) return undefined;
    if (!statSync(dir).isDirectory()) return `${target} is a file, not a folder`;
    const entries = readdirSync(dir);
    if (entries.length === 0) return undefined;
    if (!entries.includes(marker)) return `${target} is not empty and holds no earlier ${marker}`;
    const foreign = entries.filter((e) => !owned.includes(e));
    if (foreign.length > 0) return `${target} holds more than an earlier plan (${foreign.slice(0, 3).join(", ")})`;
    return undefined;
}

/**
 * Why `target` is not a file a tool may write, or undefined when it is: a safe location (see
 * unsafeLocation) where no file is yet, or an earlier output of the same tool (its text starts with
 * `marker`). So a report never replaces README.md, a stack file or /etc/passwd.
 */
export function outputFileProblem(target: string, cwd: string, marker: string): string | undefined {
    const unsafe = unsafeLocation(target, cwd);
    if (unsafe) return unsafe;
    const file = path.resolve(cwd, target);
    if (!existsSync(file)) return existsSync(path.dirname(file)) ? undefined : `${target}: its folder does not exist`;
    if (!statSync(file).isFile()) return `${target} is not a file`;
    if (!readFileSync(file, "utf8").startsWith(marker)) return `${target} exists and is not an earlier report`;
    return undefined;
}

/**
 * Makes the `owned` entries of a folder that passed `outputDirProblem` hold exactly `files` (paths
 * relative to it, with their text), as if emptied and written again: a regular file that already
 * holds its text is left as it is, and whatever else an earlier run left there is removed. Writing
 * only what changed takes a tenth of the time of removing and writing every file again; anything
 * but a folder or a regular file (a symbolic link) is removed, never written through.
 */
export function replaceOwned(dir: string, owned: readonly string[], files: ReadonlyMap<string, string>): void {
    const earlierFiles = new Set<string>();
    const earlierFolders: string[] = [];
    const collect = (relative: string) => {
        const full = path.join(dir, relative);
        const stat = lstatSync(full, { throwIfNoEntry: false });
        if (stat?.isDirectory()) {
            earlierFolders.push(relative);
            for (const entry of readdirSync(full)) collect(path.join(relative, entry));
        } else if (stat?.isFile()) earlierFiles.add(relative);
        else if (stat) rmSync(full, { force: true });
    };
    for (const entry of owned) collect(entry);
    for (const [relative, text] of files) {
        const full = path.join(dir, relative);
        if (earlierFiles.has(relative) && readFileSync(full, "utf8") === text) continue;
        mkdirSync(path.dirname(full), { recursive: true });
        writeFileSync(full, text);
    }
    for (const relative of earlierFiles) if (!files.has(relative)) rmSync(path.join(dir, relative), { force: true });
    // Folders (deepest first) that hold none of the new files.
    const needed = new Set([...files.keys()].flatMap((file) => ancestors(file)));
    for (const folder of earlierFolders.reverse())
        if (!needed.has(folder)) rmSync(path.join(dir, folder), { recursive: true, force: true });
}

/** `a/b/c.yaml` -> `a`, `a/b`. */
function ancestors(file: string): string[] {
    const out: string[] = [];
    for (let folder = path.dirname(file); folder !== "."; folder = path.dirname(folder)) out.push(folder);
    return out;
}
