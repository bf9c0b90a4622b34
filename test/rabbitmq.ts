// A real RabbitMQ node for tests (Debian's rabbitmq-server): a throwaway node with its own name,
// directories, config, Erlang cookie and epmd, every listener (AMQP, Erlang distribution, epmd,
// the CLI's own distribution port) on 127.0.0.1 and free ports; started with a bounded wait and
// stopped by its PID. It runs as whoever runs the tests: Debian's /usr/sbin wrappers switch to the
// `rabbitmq` user and refuse other users, so the scripts under /usr/lib/rabbitmq/bin are run
// directly; the node keeps nothing outside its temporary directory.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "./postgres";

const SCRIPTS = "/usr/lib/rabbitmq/bin";

/** Debian's rabbitmq-server is installed. */
export const rabbitmqInstalled = () => existsSync(path.join(SCRIPTS, "rabbitmq-server"));

/** The installed server's version (e.g. 3.10.8), from its directory name. */
export function rabbitmqVersion(): string | undefined {
    try {
        return readdirSync("/usr/lib/rabbitmq/lib")
            .map((d) => /^rabbitmq_server-([\d.]+)$/.exec(d)?.[1])
            .find((v) => v !== undefined);
    } catch {
        return undefined;
    }
}

/** Waits (at most `ms`) for a child to exit; true when it did. */
const exited = (child: ChildProcess, ms: number) =>
    child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), ms);
              child.once("exit", () => {
                  clearTimeout(timer);
                  resolve(true);
              });
          });

/** Something accepts TCP connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
    new Promise<boolean>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port });
        socket.setTimeout(1_000);
        const done = (up: boolean) => {
            socket.destroy();
            resolve(up);
        };
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
        socket.once("timeout", () => done(false));
    });

const signal = (pid: number | undefined, sig: NodeJS.Signals) => {
    try {
        if (pid) process.kill(pid, sig);
    } catch {
        // already gone
    }
};

/** One epmd for the test's nodes and CLI calls, on 127.0.0.1 and a free port (never the machine's 4369). */
export class Epmd {
    private constructor(
        public readonly port: number,
        private readonly process: ChildProcess,
    ) {}

    static async start(): Promise<Epmd> {
        const port = await freePort();
        const child = spawn("epmd", ["-address", "127.0.0.1", "-port", String(port)], { stdio: "ignore" });
        for (let i = 0; i < 50; i++) {
            if (spawnSync("epmd", ["-port", String(port), "-names"]).status === 0) return new Epmd(port, child);
            await new Promise((r) => setTimeout(r, 100));
        }
        signal(child.pid, "SIGKILL");
        throw new Error("epmd did not start within 5 s");
    }

    /** Stops epmd by its PID (after the nodes). */
    async stop(): Promise<void> {
        signal(this.process.pid, "SIGTERM");
        if (!(await exited(this.process, 5_000))) signal(this.process.pid, "SIGKILL");
    }
}

/**
 * Erlang's schedulers spin a while before they sleep (+sbwt, busy wait threshold), which on a
 * machine the test shares with others only burns CPU: they sleep at once here.
 */
const IDLE_SCHEDULERS_SLEEP = "+sbwt none +sbwtdcpu none +sbwtdio none";

export class RabbitNode {
    private constructor(
        /** finbot-test-<random>@localhost */
        public readonly name: string,
        /** AMQP 0-9-1 on 127.0.0.1. */
        public readonly port: number,
        /** Its temporary directory: config, data (mnesia), logs, PID file. */
        public readonly dir: string,
        private readonly env: NodeJS.ProcessEnv,
        private readonly process: ChildProcess,
    ) {}

    /**
     * Starts a node with empty data (mnesia) and no plugins, waiting at most `timeoutMs` for it
     * to boot. Nodes given the same `home` share its Erlang cookie.
     */
    static async start(options: { epmd: Epmd; home: string; timeoutMs?: number }): Promise<RabbitNode> {
        const name = `finbot-test-${randomBytes(4).toString("hex")}@localhost`;
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-rabbitmq-"));
        const [port, distPort] = [await freePort(), await freePort()];
        const config = path.join(dir, "rabbitmq.conf");
        writeFileSync(config, [`listeners.tcp.default = 127.0.0.1:${port}`, "distribution.listener.interface = 127.0.0.1", ""].join("\n"));
        writeFileSync(path.join(dir, "enabled_plugins"), "[].\n");
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            HOME: options.home,
            ERL_EPMD_ADDRESS: "127.0.0.1",
            ERL_EPMD_PORT: String(options.epmd.port),
            RABBITMQ_CONF_ENV_FILE: path.join(dir, "rabbitmq-env.conf"), // none: /etc/rabbitmq's is not read
            RABBITMQ_NODENAME: name,
            RABBITMQ_NODE_PORT: String(port),
            RABBITMQ_DIST_PORT: String(distPort),
            RABBITMQ_CONFIG_FILE: config,
            RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"), // none
            RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
            RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
            RABBITMQ_LOG_BASE: path.join(dir, "log"),
            RABBITMQ_PID_FILE: path.join(dir, "node.pid"),
            // The CLI is an Erlang node too: its distribution listener on 127.0.0.1 only.
            RABBITMQ_CTL_ERL_ARGS: `-kernel inet_dist_use_interface {127,0,0,1} ${IDLE_SCHEDULERS_SLEEP}`,
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: IDLE_SCHEDULERS_SLEEP,
        };
        const child = spawn(path.join(SCRIPTS, "rabbitmq-server"), [], { env, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr?.on("data", (chunk) => (stderr += String(chunk)));
        const node = new RabbitNode(name, port, dir, env, child);
        const timeoutMs = options.timeoutMs ?? 45_000;
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline && child.exitCode === null) {
            // The AMQP listener opens last in the boot; until then a call would only take CPU from
            // the booting node. Then the node confirms with the call `rabbitmqctl await_startup`
            // makes (its 3.10.8 AwaitStartupCommand beam: one rabbit_misc:rpc_call to
            // rabbit:await_startup/3), evaluated in it without booting the CLI's own VM.
            if ((await listening(port)) && (await node.eval("rabbit:await_startup(node(), false, 20000)", 25_000)).output === "ok")
                return node;
            await new Promise((r) => setTimeout(r, 200));
        }
        await node.stop();
        throw new Error(`rabbitmq-server did not start within ${timeoutMs} ms: ${stderr}\n${node.log().slice(-3000)}`);
    }

    /** rabbitmqctl against this node (`-q`), bounded by `timeoutMs`. */
    ctl(args: string[], timeoutMs = 30_000): { status: number | null; output: string } {
        const result = spawnSync(path.join(SCRIPTS, "rabbitmqctl"), ["-n", this.name, "-q", ...args], {
            env: this.env,
            encoding: "utf8",
            timeout: timeoutMs,
        });
        return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
    }

    /**
     * Empties the node as if it were new: what `rabbitmqctl stop_app`, `reset` and `start_app` do
     * (rabbit:stop/0, rabbit_mnesia:reset/0, rabbit:start/0; the 3.10.8 CLI's ResetCommand beam calls
     * rabbit_mnesia:reset through rabbit_misc:rpc_call): no queues, users or policies, the
     * default vhost and user back. Much cheaper than booting another node, which is mostly loading code.
     */
    reset(): Promise<{ status: number | null; output: string }> {
        return this.eval("ok = rabbit:stop(), ok = rabbit_mnesia:reset(), ok = rabbit:start()", 60_000);
    }

    /**
     * Evaluates Erlang `expressions` (comma-separated, no final `.`) in the node, as `rabbitmqctl
     * eval` does, and returns the value as it prints it (`~p`, on one line). Through erl_call (erlang-base), a
     * small C client of the node's Erlang distribution: a rabbitmqctl call boots an Erlang VM of its
     * own, which took 0.6 s and most of a core each time. Its cookie comes from the node's HOME; each
     * call asks the node for a name of its own (-R), so that calls can run at once.
     */
    eval(expressions: string, timeoutMs = 30_000): Promise<{ status: number | null; output: string }> {
        const child = spawn("erl_call", ["-sname", this.name, "-R", "-e"], { env: this.env, timeout: timeoutMs });
        const done = collected(child);
        // io_lib:print with no line length: ~p alone breaks a long value over lines, which erl_call shows as `\n`.
        child.stdin.end(`lists:flatten(io_lib:print(begin ${expressions} end, 1, 1000000, -1)).\n`);
        return done.then(({ status, output }) => {
            // erl_call prints {ok, Value} or {error, Reason}; Value is the printed text, unquoted.
            const value = /^\{ok, "([\s\S]*)"\}$/.exec(output)?.[1];
            return status === 0 && value !== undefined ? { status, output: value.trim() } : { status: status || 1, output };
        });
    }

    /** rabbitmqctl without blocking, so that several run at once (each starts an Erlang VM of its own). */
    ctlAsync(args: string[], timeoutMs = 30_000): Promise<{ status: number | null; output: string }> {
        return collected(spawn(path.join(SCRIPTS, "rabbitmqctl"), ["-n", this.name, "-q", ...args], { env: this.env, timeout: timeoutMs }));
    }

    /** The node's log (for failure messages). */
    log(): string {
        try {
            return readFileSync(path.join(this.dir, "log", `${this.name}.log`), "utf8");
        } catch {
            return "";
        }
    }

    /** Stops the node by the Erlang VM's PID (SIGTERM: a clean shutdown), waiting at most 20 s, then kills it. */
    async stop(): Promise<void> {
        if (this.process.exitCode !== null || this.process.signalCode !== null) return;
        let vm: number | undefined;
        try {
            vm = Number(readFileSync(this.env.RABBITMQ_PID_FILE!, "utf8").trim());
        } catch {
            vm = undefined;
        }
        // Without the VM's PID (it had not written it yet), the wrapper script forwards SIGTERM to it.
        signal(vm ?? this.process.pid, "SIGTERM");
        if (!(await exited(this.process, 20_000))) {
            signal(vm, "SIGKILL");
            signal(this.process.pid, "SIGKILL");
        }
    }
}

/** A HOME for the test's nodes and CLI calls, holding the Erlang cookie they share. */
export function erlangHome(): string {
    const home = mkdtempSync(path.join(tmpdir(), "finbot-erlang-"));
    writeFileSync(path.join(home, ".erlang.cookie"), randomBytes(16).toString("hex").toUpperCase(), { mode: 0o400 });
    return home;
}

/** What a child printed (stdout and stderr together, trimmed) and its exit status, once it closes. */
function collected(child: ChildProcess): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
        let output = "";
        child.stdout?.on("data", (chunk) => (output += String(chunk)));
        child.stderr?.on("data", (chunk) => (output += String(chunk)));
        child.on("close", (status) => resolve({ status, output: output.trim() }));
    });
}
