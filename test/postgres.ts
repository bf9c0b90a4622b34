// A real PostgreSQL server for tests (Debian's postgresql package): a throwaway cluster on
// 127.0.0.1 and a free port, started with a bounded wait and stopped by its PID. Run as root (CI
// here), the server runs as the `postgres` user, since PostgreSQL refuses root.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** The newest installed server's binaries (e.g. /usr/lib/postgresql/15/bin), or undefined. */
export function postgresBin(): string | undefined {
    try {
        const versions = readdirSync("/usr/lib/postgresql")
            .filter((v) => /^\d+$/.test(v))
            .sort((a, b) => Number(b) - Number(a));
        return versions.length > 0 ? path.join("/usr/lib/postgresql", versions[0], "bin") : undefined;
    } catch {
        return undefined;
    }
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
        });
    });
}

const asRoot = process.getuid?.() === 0;
const owner = () => {
    const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
};
/** A command as the server's user: itself when not root, `postgres` when root. */
const asServerUser = (command: string, args: string[]) =>
    asRoot ? { command: "runuser", args: ["-u", "postgres", "--", command, ...args] } : { command, args };

/** A fresh temporary directory the server's user owns (archives, base backups, restored data directories). */
export function serverUserDir(prefix: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), `finbot-${prefix}-`));
    if (asRoot) chownSync(dir, owner().uid, owner().gid);
    return dir;
}

/** Any command (tar, cp, ...) as the server's user, bounded by `timeoutMs`. */
export function runAsServerUser(command: string, args: string[], timeoutMs = 60_000): { status: number | null; output: string } {
    const run = asServerUser(command, args);
    const result = spawnSync(run.command, run.args, { encoding: "utf8", timeout: timeoutMs });
    return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

export class PostgresServer {
    private constructor(
        public readonly dataDir: string,
        public readonly port: number,
        private readonly process: ChildProcess,
        private readonly bin: string,
        /** The socket directory the superuser connects through. */
        public readonly socketDir: string,
    ) {}

    /**
     * initdb and start a server (superuser `postgres`, trust on the local socket, scram on 127.0.0.1); waits at most `timeoutMs`.
     * With `dataDir` it starts that data directory instead (e.g. a restored base backup, the server's user owning it);
     * `settings` are appended to its postgresql.auto.conf first (later lines win).
     */
    static async start(
        options: { archiveDir?: string; timeoutMs?: number; dataDir?: string; settings?: Record<string, string> } = {},
    ): Promise<PostgresServer> {
        const bin = postgresBin();
        if (!bin) throw new Error("PostgreSQL server binaries not found (apt-get install postgresql)");
        const base = mkdtempSync(path.join(tmpdir(), "finbot-pg-"));
        if (asRoot) chownSync(base, owner().uid, owner().gid);
        const dataDir = options.dataDir ?? path.join(base, "data");
        if (!options.dataDir) {
            const init = asServerUser(path.join(bin, "initdb"), [
                "-D",
                dataDir,
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ]);
            const result = spawnSync(init.command, init.args, { encoding: "utf8", timeout: 60_000 });
            if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr}`);
        }
        if (options.archiveDir) {
            writeFileSync(
                path.join(dataDir, "postgresql.auto.conf"),
                `archive_mode = on\narchive_command = 'test ! -f ${options.archiveDir}/%f && cp %p ${options.archiveDir}/%f'\nwal_level = replica\n`,
                { flag: "a" },
            );
        }
        if (options.settings) {
            const lines = Object.entries(options.settings).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'\n`);
            const autoConf = path.join(dataDir, "postgresql.auto.conf");
            writeFileSync(autoConf, lines.join(""), { flag: "a" });
            if (asRoot) chownSync(autoConf, owner().uid, owner().gid);
        }
        const port = await freePort();
        const run = asServerUser(path.join(bin, "postgres"), [
            "-D",
            dataDir,
            "-p",
            String(port),
            "-k",
            base,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ]);
        const child = spawn(run.command, run.args, { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr?.on("data", (chunk) => (stderr += String(chunk)));
        const server = new PostgresServer(dataDir, port, child, bin, base);
        const deadline = Date.now() + (options.timeoutMs ?? 20_000);
        while (Date.now() < deadline) {
            if (spawnSync(path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"]).status === 0) return server;
            if (child.exitCode !== null) throw new Error(`postgres exited: ${stderr}`);
            await new Promise((r) => setTimeout(r, 100));
        }
        await server.stop();
        throw new Error(`postgres did not start within ${options.timeoutMs ?? 20_000} ms: ${stderr}`);
    }

    /** Runs SQL through psql on 127.0.0.1 as `user` (password through PGPASSWORD); returns status and output. */
    psql(
        sql: string,
        options: {
            user?: string;
            password?: string;
            database?: string;
            variables?: Record<string, string>;
            /** libpq settings of the client (PGSSLMODE, PGSSLROOTCERT, ...). */
            env?: Record<string, string>;
        } = {},
    ): { status: number | null; output: string } {
        const args = [
            "-h",
            "127.0.0.1",
            "-p",
            String(this.port),
            "-U",
            options.user ?? "postgres",
            "-d",
            options.database ?? "postgres",
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
        ];
        for (const [k, v] of Object.entries(options.variables ?? {})) args.push("-v", `${k}=${v}`);
        const env = { ...process.env, PGPASSWORD: options.password ?? "", PGCONNECT_TIMEOUT: "5", ...options.env };
        // The superuser connects over the socket directory (trust), others with their passwords.
        if (!options.user || options.user === "postgres") args.splice(0, 2, "-h", this.socketDir);
        const run =
            !options.user || options.user === "postgres"
                ? asServerUser(path.join(this.bin, "psql"), args)
                : { command: path.join(this.bin, "psql"), args };
        const result = spawnSync(run.command, run.args, { input: sql, encoding: "utf8", env, timeout: 30_000 });
        return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
    }

    /** A server binary (pg_basebackup, pg_dump, ...) run as the server's user. */
    tool(name: string, args: string[]): { status: number | null; output: string } {
        const run = asServerUser(path.join(this.bin, name), args);
        const result = spawnSync(run.command, run.args, { encoding: "utf8", timeout: 60_000 });
        return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
    }

    /** Stops the server (fast shutdown) by the postmaster's PID (postmaster.pid), and waits at most 10 s for it. */
    async stop(): Promise<void> {
        if (this.process.exitCode !== null || this.process.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()));
        let postmaster: number | undefined;
        try {
            postmaster = Number(readFileSync(path.join(this.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
        } catch {
            postmaster = this.process.pid;
        }
        const signal = (pid: number | undefined, sig: NodeJS.Signals) => {
            try {
                if (pid) process.kill(pid, sig);
            } catch {
                // already gone
            }
        };
        signal(postmaster, "SIGINT");
        const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 10_000).unref());
        if ((await Promise.race([exited, timer])) === "timeout") {
            signal(postmaster, "SIGKILL");
            signal(this.process.pid, "SIGKILL");
        }
    }
}
