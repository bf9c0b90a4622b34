// A point-in-time restore practised on real servers (Debian's postgresql): what CloudNativePG's
// Barman Cloud plugin does in the cluster, with a local directory standing in for the object store.
// The source server archives every WAL segment with the program's archiving settings
// (archiveSettings: in the cluster the plugin's sidecar ships the segments to the ObjectStore's
// wals/); FinBot's database and roles are created with the program's SQL; a base backup is taken
// with pg_basebackup as a tarball (the plugin's backup stores one in the ObjectStore's base/). Then
// more payments, a noted time, more payments and an accidental DELETE; the source is stopped, and a
// FRESH data directory is restored from the tarball plus the archive up to the noted time
// (recoverySettings: restore_command, recovery_target_time, promote; CloudNativePG's recovery job
// writes the same). Only what was committed before the noted time comes back, with roles,
// passwords and grants. The restore's duration is printed for docs/runbooks/postgresql-restore.md.
import * as assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import {
    BACKUP_RETENTION,
    BASE_BACKUP_SCHEDULE,
    archiveSettings,
    recoverySettings,
    recoveryTarget,
} from "../components/data/backupSettings";
import {
    MONITOR_ROLE,
    adminSql,
    consumerRoles,
    ownerRole,
    ownerSql,
    scramVerifier,
    verifierVariable,
    readerRole,
    readerSql,
} from "../components/data/postgresRoles";
import { checkPlan, formatFinding } from "../conformance/validate";
import { PROJECT_DIR, PlatformRun, revealSecrets, runStack } from "./harness";
import { PostgresServer, postgresBin, runAsServerUser, serverUserDir } from "./postgres";
import { requireTool } from "./tools";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Keeps a server from archiving onto an existing file: each WAL segment is written once. */
const archiveCommand = (dir: string) => `test ! -f ${dir}/%f && cp %p ${dir}/%f`;

describe("backup settings", () => {
    it("names the recovery target as a PostgreSQL timestamp in UTC, the form both CloudNativePG and recovery_target_time read", () => {
        assert.deepEqual(recoveryTarget(new Date(Date.UTC(2026, 10, 26, 19, 29, 1, 517))), { targetTime: "2026-11-26 19:29:01.517000+00" });
    });

    it("keeps 14 days and takes a base backup daily at 03:00 (six-field cron, seconds first)", () => {
        assert.equal(BACKUP_RETENTION, "14d");
        assert.deepEqual(BASE_BACKUP_SCHEDULE.split(" "), ["0", "0", "3", "*", "*", "*"]);
    });
});

describe("the restore runbook follows what dev deploys", () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    type Any = any;
    const runbook = readFileSync(path.join(PROJECT_DIR, "docs", "runbooks", "postgresql-restore.md"), "utf8");
    const dev = runbook.slice(runbook.indexOf("## Dev:"), runbook.indexOf("## Prod:"));
    let run: PlatformRun;
    before(async () => {
        run = await runStack("dev");
    });
    const planned = (kind: string): Any[] =>
        run.resources.filter((r) => r.type.endsWith(`:${kind}`)).map((r) => revealSecrets(r.inputs) as Any);

    it("its restore Cluster fits the pinned CRD and names the image, plugin, ObjectStore and archive path dev runs", () => {
        const block = /```yaml\n([\s\S]*?)```/.exec(dev);
        assert.ok(block, "the Dev section holds the restore Cluster as YAML");
        const restore = YAML.parse(block[1]);
        assert.equal(restore.kind, "Cluster");
        const report = checkPlan([{ type: `kubernetes:${restore.apiVersion}:Cluster`, name: "runbook", inputs: restore }]);
        assert.equal(report.checked, 1);
        assert.deepEqual(report.findings.map(formatFinding), []);
        const [cluster] = planned("postgresql.cnpg.io/v1:Cluster");
        const stores = planned("barmancloud.cnpg.io/v1:ObjectStore").map((o) => o.metadata.name);
        assert.equal(restore.metadata.namespace, cluster.metadata.namespace);
        assert.equal(restore.spec.imageName, cluster.spec.imageName);
        const source = restore.spec.externalClusters.find((c: Any) => c.name === restore.spec.bootstrap.recovery.source);
        assert.equal(source.plugin.name, cluster.spec.plugins[0].name);
        assert.ok(
            stores.includes(source.plugin.parameters.barmanObjectName),
            `${source.plugin.parameters.barmanObjectName} not in ${stores}`,
        );
        assert.equal(source.plugin.parameters.barmanObjectName, cluster.spec.plugins[0].parameters.barmanObjectName);
        // The archive's path is the source Cluster's name (the ObjectStore leaves serverName empty).
        assert.equal(source.plugin.parameters.serverName, cluster.metadata.name);
        assert.equal(restore.spec.plugins, undefined, "a restore must not archive into the source's path");
    });

    it("names only objects dev plans (or that its ScheduledBackup makes), with their settings", () => {
        const kinds = new Set(run.resources.map((r) => r.type.split(":").pop()!.toLowerCase()));
        const gets = [...dev.matchAll(/kubectl -n \S+ get ([a-z,]+)/g)].flatMap((m) => m[1].split(","));
        assert.ok(gets.length > 0);
        for (const kind of gets) assert.ok(kinds.has(kind) || kind === "backup" || kind === "cluster", `${kind} is not planned`);
        const [store] = planned("barmancloud.cnpg.io/v1:ObjectStore");
        const [scheduled] = planned("postgresql.cnpg.io/v1:ScheduledBackup");
        const text = dev.replace(/\s+/g, " ");
        for (const phrase of [
            `ObjectStore \`${store.metadata.name}\``,
            `retention is \`${store.spec.retentionPolicy}\``,
            `ScheduledBackup \`${scheduled.metadata.name}\``,
            `\`${scheduled.spec.schedule}\``,
            `\`method: ${scheduled.spec.method}\``,
            `\`${scheduled.spec.pluginConfiguration.name}\``,
        ])
            assert.ok(text.includes(phrase), `the runbook does not say ${phrase}`);
    });
});

describe("PostgreSQL backup and point-in-time restore (real servers)", function () {
    this.timeout(60_000);
    const consumers = [
        { name: "api", access: "readWrite" as const },
        { name: "settlement-worker", access: "readWrite" as const },
        { name: "reporting", access: "read" as const },
    ];
    const password = (role: string) => `pw-${role}-x`;
    const roles = [...consumerRoles(consumers).map((r) => r.role), MONITOR_ROLE];
    let source: PostgresServer | undefined;
    let restored: PostgresServer | undefined;
    let archive = "";
    let backup = "";
    let restoredArchive = "";
    let restoredDir = "";

    const as = (server: PostgresServer, role: string, sql: string) =>
        server.psql(sql, { user: role, password: password(role), database: "finbot" });
    const ok = (result: { status: number | null; output: string }) => {
        assert.equal(result.status, 0, result.output);
        return result.output;
    };
    /** Inserts payments `from`..`to` as the api role, in one transaction. */
    const pay = (from: number, to: number) =>
        ok(as(source!, "api", `INSERT INTO payments (id, amount) SELECT i, (i % 1000) / 10.0 FROM generate_series(${from}, ${to}) i;`));
    /** Ends the current WAL segment and waits (at most 10 s) until the archive holds it. */
    const archiveCurrentSegment = async () => {
        const segment = ok(source!.psql("SELECT pg_walfile_name(pg_switch_wal());"));
        for (let i = 0; i < 100 && !existsSync(path.join(archive, segment)); i++) await sleep(100);
        assert.ok(existsSync(path.join(archive, segment)), `${segment} archived`);
    };

    before(async function () {
        if (!postgresBin()) requireTool(this, "postgres", "postgresql");
        archive = serverUserDir("pg-archive");
        backup = serverUserDir("pg-backup");
        restoredArchive = serverUserDir("pg-archive-restored");
        source = await PostgresServer.start({ settings: { ...archiveSettings(), archive_command: archiveCommand(archive) } });
        ok(source.psql("CREATE DATABASE finbot;"));
        const variables = Object.fromEntries(roles.map((r) => [verifierVariable(r), scramVerifier(password(r), r)]));
        ok(source.psql(adminSql("finbot", consumers), { database: "finbot", variables }));
        for (const c of consumers.filter((x) => x.access === "readWrite")) {
            ok(as(source, ownerRole(c.name), ownerSql(c.name)));
            ok(as(source, readerRole(c.name), readerSql(c.name)));
        }
        ok(as(source, "api", "CREATE TABLE payments (id bigint PRIMARY KEY, amount numeric(12, 2) NOT NULL);"));
        pay(1, 10_000);
    });
    after(async () => {
        await restored?.stop();
        await source?.stop();
        const dirs = [archive, backup, restoredArchive, restoredDir, source?.socketDir, restored?.socketDir];
        for (const dir of dirs) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("archives WAL with the program's archiving settings", async () => {
        const settings = ok(
            source!.psql(
                "SELECT name || '=' || setting || coalesce(unit, '') FROM pg_settings WHERE name IN ('archive_mode', 'archive_timeout', 'wal_level') ORDER BY 1;",
            ),
        );
        assert.deepEqual(settings.split("\n"), ["archive_mode=on", "archive_timeout=300s", "wal_level=replica"]);
        await archiveCurrentSegment();
        assert.equal(ok(source!.psql("SELECT failed_count FROM pg_stat_archiver;")), "0");
    });

    it("takes a base backup as a tarball while the archive keeps the WAL it needs", () => {
        const started = Date.now();
        // As the plugin's backup does: an online backup (a checkpoint now, not at the next timeout), data only; WAL comes from the archive.
        const connection = ["--host", source!.socketDir, "--port", String(source!.port), "--username", "postgres", "--pgdata", backup];
        const result = source!.tool("pg_basebackup", [...connection, "--format=tar", "--wal-method=none", "--checkpoint=fast"]);
        assert.equal(result.status, 0, result.output);
        const mb = statSync(path.join(backup, "base.tar")).size / 2 ** 20;
        console.log(`      base backup: ${((Date.now() - started) / 1000).toFixed(2)} s, base.tar ${mb.toFixed(1)} MB`);
        assert.ok(
            readdirSync(archive).some((f) => f.endsWith(".backup")),
            "the archive holds the backup's history file",
        );
    });

    it("restores a fresh data directory to a point in time: what was committed before it, nothing after", async () => {
        pay(10_001, 15_000);
        const expected = ok(as(source!, "api", "SELECT count(*) || '|' || max(id) || '|' || sum(amount) FROM payments;"));
        assert.match(expected, /^15000\|15000\|/);
        await sleep(20);
        const target = new Date();
        await sleep(20);
        pay(15_001, 17_500);
        ok(as(source!, "api", "DELETE FROM payments;")); // the accident the restore undoes
        await archiveCurrentSegment();
        await source!.stop(); // the source is gone; only the backup and the archive are left

        const started = Date.now();
        restoredDir = serverUserDir("pg-restored");
        const dataDir = path.join(restoredDir, "data");
        ok(runAsServerUser("mkdir", ["-m", "700", dataDir]));
        ok(runAsServerUser("tar", ["-xf", path.join(backup, "base.tar"), "-C", dataDir]));
        ok(runAsServerUser("touch", [path.join(dataDir, "recovery.signal")]));
        restored = await PostgresServer.start({
            dataDir,
            timeoutMs: 30_000,
            // The restored server archives to a place of its own: never onto the source's archive.
            settings: { ...recoverySettings(target, `cp ${archive}/%f %p`), archive_command: archiveCommand(restoredArchive) },
        });
        for (let i = 0; i < 200 && restored.psql("SELECT pg_is_in_recovery();").output !== "f"; i++) await sleep(100);
        assert.equal(ok(restored.psql("SELECT pg_is_in_recovery();")), "f", "promoted at the target");
        const seconds = (Date.now() - started) / 1000;
        const segments = readdirSync(archive).filter((f) => /^[0-9A-F]{24}$/.test(f)).length;
        console.log(
            `      restore: ${seconds.toFixed(2)} s (extract base.tar, replay WAL from an archive of ${segments} segments, promote)`,
        );

        assert.equal(ok(as(restored, "api", "SELECT count(*) || '|' || max(id) || '|' || sum(amount) FROM payments;")), expected);
        // A new timeline, archived where the restored server was told, none of it onto the source's archive.
        assert.equal(ok(restored.psql("SELECT timeline_id FROM pg_control_checkpoint();")), "2");
        for (let i = 0; i < 100 && !existsSync(path.join(restoredArchive, "00000002.history")); i++) await sleep(100);
        assert.ok(existsSync(path.join(restoredArchive, "00000002.history")));
        assert.ok(!readdirSync(archive).some((f) => f.startsWith("00000002")));
    });

    it("brings back roles, passwords and grants with the data, and takes writes", function () {
        if (!restored) this.skip();
        const pg = restored!;
        assert.equal(ok(as(pg, "api", "SELECT current_schema();")), "api");
        assert.equal(ok(as(pg, "api_reader", "SELECT count(*) FROM payments;")), "15000");
        assert.match(as(pg, "api_reader", "INSERT INTO payments VALUES (0, 1);").output, /permission denied for table payments/);
        assert.match(as(pg, "settlement_worker", "SELECT * FROM api.payments;").output, /permission denied for schema api/);
        assert.equal(ok(as(pg, "reporting_reader", "SELECT count(*) FROM api.payments;")), "15000");
        assert.equal(ok(as(pg, MONITOR_ROLE, "SELECT pg_has_role('finbot_monitor', 'pg_monitor', 'member');")), "t");
        assert.match(pg.psql("SELECT 1;", { user: "api", password: "wrong", database: "finbot" }).output, /password authentication failed/);
        ok(as(pg, "api", "INSERT INTO payments (id, amount) VALUES (17501, 1);"));
    });
});
