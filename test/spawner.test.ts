import * as assert from "node:assert/strict";
import { execFileSync, execSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "./harness";
import { spawningInWorker } from "./spawner";

/** An object's own fields and, for an error, its message; the child's PID left out. */
function fields(value: object): Record<string, unknown> {
    const copy: Record<string, unknown> = { ...value };
    delete copy.pid;
    if (value instanceof Error) copy.message = value.message;
    if (copy.error instanceof Error) copy.error = fields(copy.error);
    return copy;
}

/** What a test sees of a synchronous spawn: what it returns or throws. */
function seen(run: () => unknown): unknown {
    try {
        const result = run();
        return typeof result === "object" && result !== null && !Buffer.isBuffer(result) ? fields(result) : { returned: result };
    } catch (thrown) {
        return { thrown: fields(thrown as Error) };
    }
}

describe("the test workers' spawner (test/spawner.ts)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-spawner-test-"));
    const cases: Array<[string, () => unknown]> = [
        ["output as text", () => execFileSync("echo", ["a", "b"], { encoding: "utf8" })],
        ["input, exit status and both outputs", () => spawnSync("sh", ["-c", "cat; echo oops >&2; exit 3"], { input: "in" })],
        ["a failing command as execFileSync throws it", () => execFileSync("sh", ["-c", "echo why >&2; exit 4"], { stdio: "pipe" })],
        ["a signal", () => spawnSync("sh", ["-c", "kill -TERM $$"])],
        ["a missing program", () => spawnSync("finbot-no-such-program", ["x"])],
        ["a timeout", () => spawnSync("sleep", ["5"], { timeout: 100 })],
        [
            "output over maxBuffer (how much was read before the kill varies)",
            () => {
                const { signal, error } = spawnSync("head", ["-c", "300000", "/dev/zero"], { maxBuffer: 100_000 });
                return { signal, error: error?.message };
            },
        ],
        ["cwd, env and a shell", () => execSync('pwd; echo "$FINBOT_X"', { cwd: dir, env: { PATH: process.env.PATH, FINBOT_X: "x" } })],
        ["an ignored stream", () => spawnSync("sh", ["-c", "echo out; echo err >&2"], { stdio: ["pipe", "ignore", "pipe"] })],
        ["an input over 1 MiB", () => spawnSync("wc", ["-c"], { input: "x".repeat(2 ** 21), encoding: "utf8" })],
    ];
    for (const [what, run] of cases) {
        it(`behaves as the worker's own spawnSync: ${what}`, () => {
            assert.deepEqual(
                seen(run),
                spawningInWorker(() => seen(run)),
            );
        });
    }

    it("starts children from where the worker is now", () => {
        const before = process.cwd();
        try {
            process.chdir(dir);
            assert.equal(execFileSync("pwd", { encoding: "utf8" }).trim(), dir);
        } finally {
            process.chdir(before);
        }
    });

    it("starts them from a process other than the worker, and the worker's own spawn from the worker", () => {
        const parent = () => Number(execFileSync("sh", ["-c", "echo $PPID"], { encoding: "utf8" }));
        assert.notEqual(parent(), process.pid);
        assert.equal(
            spawningInWorker(() => parent()),
            process.pid,
        );
    });

    it("is what npm test runs under: required by the mocha config", () => {
        const config = JSON.parse(readFileSync(path.join(PROJECT_DIR, ".mocharc.json"), "utf8")) as { require: string[] };
        assert.ok(config.require.includes("./test/spawner.ts"), ".mocharc.json requires test/spawner.ts");
    });
});
