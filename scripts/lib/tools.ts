// Real tools the tests and measurement scripts run (promtool, amtool, redis-server, ...): is one
// installed, and run it with a bounded time.
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import * as path from "node:path";

/** Whether PATH has an executable file of this name (as `command -v` finds a program, without starting a shell). */
export function hasTool(name: string): boolean {
    return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
        const file = path.join(dir || ".", name);
        try {
            accessSync(file, constants.X_OK);
            return statSync(file).isFile();
        } catch {
            return false;
        }
    });
}

export function run(command: string, args: string[], cwd?: string): { status: number | null; output: string } {
    const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000 });
    return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}
