// Real tools some tests need (promtool, amtool, redis-server, ...). Where a tool is missing the
// test is skipped with a message saying so, unless FINBOT_REQUIRE_TOOLS=1 (set by .ci/run), which
// turns a missing tool into a failure.
import { hasTool } from "../scripts/lib/tools";

export { hasTool, run } from "../scripts/lib/tools";

/** Call in a mocha `before`/`it` with its context: skips (or fails under CI) when `name` is absent. */
export function requireTool(context: Mocha.Context, name: string, debianPackage: string): void {
    if (hasTool(name)) return;
    const message = `${name} not found: install Debian's ${debianPackage} package (apt-get install ${debianPackage})`;
    if (process.env.FINBOT_REQUIRE_TOOLS === "1") throw new Error(`${message}; FINBOT_REQUIRE_TOOLS=1 makes this test mandatory`);
    console.log(`      skipped: ${message}`);
    context.skip();
}
