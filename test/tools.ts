// Real tools some tests need (promtool, amtool, redis-server, ...). Where a tool is missing the
// test is skipped with a message saying so, unless FINBOT_REQUIRE_TOOLS=1 (set by .ci/run), which
// turns a missing tool into a failure.
import { spawnSync } from "node:child_process";

export function hasTool(name: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).status === 0;
}

/** Call in a mocha `before`/`it` with its context: skips (or fails under CI) when `name` is absent. */
export function requireTool(context: Mocha.Context, name: string, debianPackage: string): void {
    if (hasTool(name)) return;
    const message = `${name} not found: install Debian's ${debianPackage} package (apt-get install ${debianPackage})`;
    if (process.env.FINBOT_REQUIRE_TOOLS === "1") throw new Error(`${message}; FINBOT_REQUIRE_TOOLS=1 makes this test mandatory`);
    console.log(`      skipped: ${message}`);
    context.skip();
}

export function run(command: string, args: string[], cwd?: string): { status: number | null; output: string } {
    const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000 });
    return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}
