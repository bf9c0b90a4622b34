// The git questions the release scripts ask of the project's history. Each runs git in the project
// and returns its output without the trailing newline.
import { execFileSync } from "node:child_process";

export function git(projectDir: string, args: string[]): string {
    return execFileSync("git", args, { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The commit a ref (a commit, tag or branch) names, or undefined when the repository has none. */
export function resolveCommit(projectDir: string, ref: string): string | undefined {
    try {
        return git(projectDir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch {
        return undefined;
    }
}

/** Whether a commit is on main's own (first-parent) history: a merged branch's commits never ran anywhere. */
export function onFirstParentHistory(projectDir: string, commit: string): boolean {
    return git(projectDir, ["rev-list", "--first-parent", "HEAD"]).split("\n").includes(commit);
}
