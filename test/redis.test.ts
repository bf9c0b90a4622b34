// The redis.conf the in-cluster cache runs with, checked by a real redis-server: no default
// user, each consumer confined to its own keys, the exporter and health check to what they
// need, the memory cap and eviction policy hold under load, dangerous commands are gone.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { EXPORTER_ACL, HEALTHCHECK_ACL, consumerAcl, redisConf } from "../components/data/redisConf";
import { KEY_GROUPS } from "../components/data/cache";
import { loadStackConfig } from "./harness";
import { cacheRules } from "../components/data/rules";
import { promtoolTest, scratchDir, writeRuleFile } from "../scripts/lib/promtool";
import { freePort } from "./servers";
import { requireTool } from "./tools";

const PASSWORD = "test-password-for-a-local-redis";
const USERS = [
    { name: "api", password: PASSWORD, rules: consumerAcl("api") },
    { name: "ledger", password: "ledger-password", rules: consumerAcl("ledger") },
    { name: "exporter", password: "exporter-password", rules: EXPORTER_ACL },
    { name: "healthcheck", password: "healthcheck-password", rules: HEALTHCHECK_ACL },
];

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
    const as = (user: string, password: string, ...args: string[]) =>
        cli(["--user", user, "--pass", password, "--no-auth-warning", ...args]);
    const authed = (...args: string[]) => as("api", PASSWORD, ...args);

    before(async function () {
        requireTool(this, "redis-server", "redis-server");
        requireTool(this, "redis-cli", "redis-tools");
        const dir = scratchDir("redis");
        const conf = path.join(dir, "redis.conf");
        writeFileSync(conf, redisConf({ cache, users: USERS, port, dir, bind: "127.0.0.1" }));
        server = spawn("redis-server", [conf], { stdio: "ignore" });
        // At most 20 s: a loaded machine (the full suite on 2 cores) starts it slowly.
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
            if (authed("ping") === "PONG") return;
            if (server.exitCode !== null) break;
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error("redis-server did not start with the generated redis.conf");
    });

    after(() => server?.kill());

    it("has no default user: clients without a user of their own, or with a wrong password, get nothing", () => {
        assert.match(cli(["ping"]), /NOAUTH|NOPERM/);
        assert.match(cli(["-a", PASSWORD, "--no-auth-warning", "ping"]), /WRONGPASS|invalid|NOPERM|without any password configured/i);
        assert.match(as("api", "wrong", "ping"), /WRONGPASS|invalid password/i);
        assert.equal(authed("ping"), "PONG");
    });

    it("confines each consumer to its own key prefix", () => {
        assert.equal(authed("set", "api:session:1", "x"), "OK");
        assert.match(authed("get", "ledger:balance:1"), /NOPERM/);
        assert.match(as("ledger", "ledger-password", "get", "api:session:1"), /NOPERM/);
        assert.equal(as("ledger", "ledger-password", "set", "ledger:balance:1", "7"), "OK");
        assert.match(authed("config", "set", "maxmemory", "1"), /NOPERM/);
    });

    it("lets the exporter read statistics but no data, and the health check only PING", () => {
        assert.match(as("exporter", "exporter-password", "info", "memory"), /used_memory:/);
        assert.match(as("exporter", "exporter-password", "get", "api:session:1"), /NOPERM/);
        assert.equal(as("healthcheck", "healthcheck-password", "ping"), "PONG");
        assert.match(as("healthcheck", "healthcheck-password", "info"), /NOPERM/);
    });

    it("caps memory at finbot:cache.maxMemoryMb with the configured eviction policy", () => {
        const exporter = (...args: string[]) => as("exporter", "exporter-password", ...args);
        assert.equal(exporter("config", "get", "maxmemory").split("\n")[1], String(cache.maxMemoryMb * 2 ** 20));
        assert.equal(exporter("config", "get", "maxmemory-policy").split("\n")[1], cache.evictionPolicy);
    });

    it("evicts cached keys (with a TTL) instead of exceeding the cap under load", () => {
        // 1.5x maxmemory of 1 KiB values, all with a TTL like cached query results.
        const value = "x".repeat(1024);
        const count = Math.ceil((cache.maxMemoryMb * 2 ** 20 * 1.5) / 1024);
        const commands: string[] = [];
        for (let i = 0; i < count; i++) commands.push(`SET api:cache:${i} ${value} EX 3600`);
        const piped = spawnSync(
            "redis-cli",
            ["-h", "127.0.0.1", "-p", String(port), "--user", "api", "--pass", PASSWORD, "--no-auth-warning", "--pipe"],
            {
                input: `${commands.join("\r\n")}\r\n`,
                encoding: "utf8",
                timeout: 120_000,
            },
        );
        assert.equal(piped.status, 0, piped.stderr);
        const info = as("exporter", "exporter-password", "info", "stats") + as("exporter", "exporter-password", "info", "memory");
        const evicted = Number(/evicted_keys:(\d+)/.exec(info)?.[1]);
        const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
        assert.ok(evicted > 0, "keys were evicted");
        assert.ok(used <= cache.maxMemoryMb * 2 ** 20 * 1.05, `used_memory ${used} stays at the cap`);
    });

    it("has no FLUSHALL, FLUSHDB or DEBUG over the network", () => {
        for (const command of ["flushall", "flushdb", "debug"]) assert.match(authed(command), /unknown command/i, command);
    });

    it("shows keys written without a TTL: redis_exporter's keyspace series rise by them, and the alert fires on that growth", async function () {
        requireTool(this, "prometheus-redis-exporter", "prometheus-redis-exporter");
        requireTool(this, "promtool", "prometheus");
        const metricsPort = await freePort();
        // Debian's exporter (1.45) writes the keyspace series under the names the pinned 1.88 image does.
        const exporter = spawn(
            "prometheus-redis-exporter",
            [
                "-redis.addr",
                `redis://127.0.0.1:${port}`,
                "-redis.user",
                "exporter",
                "-web.listen-address",
                `127.0.0.1:${metricsPort}`,
                `-check-key-groups=${KEY_GROUPS}`,
            ],
            { stdio: "ignore", env: { ...process.env, REDIS_PASSWORD: "exporter-password" } },
        );
        try {
            const keyspace = async () => {
                for (let i = 0; i < 50; i++) {
                    try {
                        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
                        const value = (name: string) => Number(new RegExp(`^${name}\\{db="db0"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
                        const group = (prefix: string) =>
                            Number(
                                new RegExp(`^redis_key_group_count\\{db="db0",key_group="${prefix}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0,
                            );
                        if (/^redis_up 1$/m.test(text))
                            return {
                                keys: value("redis_db_keys"),
                                expiring: value("redis_db_keys_expiring"),
                                apiKeys: group("api"),
                                scriptErrors: /^redis_exporter_last_scrape_error\{err="[^"]+"\} 1$/m.test(text) ? text : "",
                            };
                    } catch {
                        // not listening yet
                    }
                    await new Promise((r) => setTimeout(r, 100));
                }
                throw new Error("redis_exporter did not report redis_up 1");
            };
            const before = await keyspace();
            for (let i = 0; i < 20; i++) assert.equal(authed("set", `api:quote:${i}`, "x", "ex", "600"), "OK");
            for (let i = 0; i < 30; i++) assert.equal(authed("set", `api:stale:${i}`, "x"), "OK");
            const after = await keyspace();
            // The cap is full of cached keys (the test above): keys with a TTL come and go by eviction,
            // and only keys without one stay, so their count rises by exactly the 30 written.
            assert.ok(after.expiring > 0);
            assert.equal(after.keys - after.expiring - (before.keys - before.expiring), 30, "30 more keys without expiry");
            // Keys per consumer prefix (--check-key-groups), by the exporter's user and its ACL alone.
            assert.equal(after.scriptErrors, "");
            // Every key is under the api: prefix here; the SCAN and INFO are read moments apart while the full cap evicts.
            assert.ok(Math.abs(after.apiKeys - after.keys) <= after.keys * 0.01, `${after.apiKeys} api: keys of ${after.keys}`);
        } finally {
            exporter.kill("SIGTERM");
        }
        // The alert, on series shaped as the exporter writes them.
        const dir = scratchDir("cache-expiry");
        const file = writeRuleFile(dir, [cacheRules(cache, "finbot-data")], { annotations: false });
        const series = (name: string, values: string) => ({ series: `${name}{namespace="finbot-data", pod="redis-0", db="db0"}`, values });
        const result = promtoolTest(file, [
            {
                interval: "5m",
                input_series: [series("redis_db_keys", "100+300x24"), series("redis_db_keys_expiring", "100+50x24")],
                alert_rule_test: [
                    { eval_time: "20m", alertname: "FinbotCacheKeysWithoutExpiryGrowing", exp_alerts: [] },
                    {
                        eval_time: "115m",
                        alertname: "FinbotCacheKeysWithoutExpiryGrowing",
                        exp_alerts: [{ exp_labels: { severity: "ticket", namespace: "finbot-data" } }],
                    },
                ],
            },
            {
                interval: "5m",
                input_series: [series("redis_db_keys", "100+300x24"), series("redis_db_keys_expiring", "100+295x24")],
                alert_rule_test: [{ eval_time: "115m", alertname: "FinbotCacheKeysWithoutExpiryGrowing", exp_alerts: [] }],
            },
        ]);
        assert.equal(result.status, 0, result.output);
    });
});
