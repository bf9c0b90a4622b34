// Real servers the tests start on 127.0.0.1, each stopped by its PID and bounded in time.
import { ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";

/** A TCP port nothing listens on right now (on 127.0.0.1). */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number };
            server.close(() => resolve(port));
        });
    });
}

/** A Prometheus server on 127.0.0.1 over `dataDir` with `config` (prometheus.yml's text), ready within 10 s. */
export async function startPrometheus(
    dir: string,
    dataDir: string,
    config = "global: {}\n",
): Promise<{ process: ChildProcess; url: string }> {
    const port = await freePort();
    const file = path.join(dir, "prometheus.yml");
    writeFileSync(file, config);
    const child = spawn(
        "prometheus",
        [
            `--config.file=${file}`,
            `--storage.tsdb.path=${dataDir}`,
            "--storage.tsdb.retention.time=100y",
            `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    return waitReady(child, `http://127.0.0.1:${port}`, "prometheus");
}

/** An Alertmanager on 127.0.0.1 with `config` (alertmanager.yml's text), no cluster peers, ready within 10 s. */
export async function startAlertmanager(dir: string, config: string): Promise<{ process: ChildProcess; url: string }> {
    const port = await freePort();
    const file = path.join(dir, "alertmanager.yml");
    writeFileSync(file, config);
    const child = spawn(
        "prometheus-alertmanager",
        [`--config.file=${file}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    return waitReady(child, `http://127.0.0.1:${port}`, "alertmanager");
}

/** Resolves once `url`/-/ready answers (at most 10 s); kills the child and throws with its log otherwise. */
async function waitReady(child: ChildProcess, url: string, what: string): Promise<{ process: ChildProcess; url: string }> {
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) break;
        try {
            if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) return { process: child, url };
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    child.kill();
    throw new Error(`${what} did not become ready within 10 s:\n${log}`);
}

/** Stops a server by its PID: SIGTERM, and SIGKILL after 5 s. */
export async function stopServer(child: ChildProcess | undefined): Promise<void> {
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
}
