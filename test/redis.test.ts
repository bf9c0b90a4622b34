// The redis.conf the in-cluster cache runs with, checked by a real redis-server: auth is
// required, the memory cap and eviction policy hold under load, dangerous commands are gone.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { redisConf } from "../components/data/redisConf";
import { loadStackConfig } from "./harness";
import { scratchDir } from "../scripts/lib/promtool";
import { requireTool } from "./tools";

const PASSWORD = "test-password-for-a-local-redis";

describe("redis.conf under a real redis-server", function () {
    const cache = loadStackConfig("dev").config.cache;
    const port = 20000 + Math.floor(Math.random() * 20000);
    let server: ChildProcess | undefined;

    const cli = (args: string[], input?: string) => {
        const result = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
            encoding: "utf8",
            input,
            timeout: 60_000,
        });
        return `${result.stdout}${result.stderr}`.trim();
    };
    const authed = (...args: string[]) => cli(["-a", PASSWORD, "--no-auth-warning", ...args]);

    before(async function () {
        requireTool(this, "redis-server", "redis-server");
        requireTool(this, "redis-cli", "redis-tools");
        const dir = scratchDir("redis");
        const conf = path.join(dir, "redis.conf");
        writeFileSync(conf, redisConf({ cache, password: PASSWORD, port, dir, bind: "127.0.0.1" }));
        server = spawn("redis-server", [conf], { stdio: "ignore" });
        for (let i = 0; i < 50; i++) {
            if (authed("ping") === "PONG") return;
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error("redis-server did not start with the generated redis.conf");
    });

    after(() => server?.kill());

    it("refuses clients without the password, and a wrong one", () => {
        assert.match(cli(["ping"]), /NOAUTH/);
        assert.match(cli(["-a", "wrong", "--no-auth-warning", "ping"]), /WRONGPASS|invalid password/i);
        assert.equal(authed("ping"), "PONG");
    });

    it("caps memory at finbot:cache.maxMemoryMb with the configured eviction policy", () => {
        assert.equal(authed("config", "get", "maxmemory").split("\n")[1], String(cache.maxMemoryMb * 2 ** 20));
        assert.equal(authed("config", "get", "maxmemory-policy").split("\n")[1], cache.evictionPolicy);
    });

    it("evicts cached keys (with a TTL) instead of exceeding the cap under load", () => {
        // 1.5x maxmemory of 1 KiB values, all with a TTL like cached query results.
        const value = "x".repeat(1024);
        const count = Math.ceil((cache.maxMemoryMb * 2 ** 20 * 1.5) / 1024);
        const commands: string[] = [];
        for (let i = 0; i < count; i++) commands.push(`SET cache:${i} ${value} EX 3600`);
        const piped = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "-a", PASSWORD, "--no-auth-warning", "--pipe"], {
            input: `${commands.join("\r\n")}\r\n`,
            encoding: "utf8",
            timeout: 120_000,
        });
        assert.equal(piped.status, 0, piped.stderr);
        const info = authed("info", "stats") + authed("info", "memory");
        const evicted = Number(/evicted_keys:(\d+)/.exec(info)?.[1]);
        const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
        assert.ok(evicted > 0, "keys were evicted");
        assert.ok(used <= cache.maxMemoryMb * 2 ** 20 * 1.05, `used_memory ${used} stays at the cap`);
    });

    it("has no FLUSHALL, FLUSHDB or DEBUG over the network", () => {
        for (const command of ["flushall", "flushdb", "debug"]) assert.match(authed(command), /unknown command/i, command);
    });
});
