// Real tools the tests and measurement scripts run (promtool, amtool, redis-server, ...): is one
// installed, and run it with a bounded time.
import { spawnSync } from "node:child_process";

export function hasTool(name: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).status === 0;
}

export function run(command: string, args: string[], cwd?: string): { status: number | null; output: string } {
    const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000 });
    return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}
