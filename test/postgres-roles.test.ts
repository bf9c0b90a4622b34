// The database roles the program declares, on a real PostgreSQL server (Debian's postgresql): each
// consumer owns only its schema, its reader only reads it, a read-only consumer reads everything and
// writes nothing, the monitoring role sees every session's activity, and Grafana's role owns a
// database of its own that nobody else may connect to. The SQL runs as an administrator like
// Aurora's master user: no superuser, with CREATEROLE and CREATEDB, owning FinBot's database.
import * as assert from "node:assert/strict";
import {
    MONITOR_ROLE,
    adminSql,
    consumerRoles,
    ownDatabaseOwnerSql,
    ownDatabaseRole,
    ownerRole,
    ownerSql,
    scramVerifier,
    verifierVariable,
    readerRole,
    readerSql,
} from "../components/data/postgresRoles";
import { jsonPasswordShell } from "../components/data/roleJobs";
import { scratchDir } from "../scripts/lib/promtool";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { PostgresServer, postgresBin } from "./postgres";
import { requireTool } from "./tools";

describe("PostgreSQL roles (real server)", function () {
    this.timeout(60_000);
    const consumers = [
        { name: "api", access: "readWrite" as const },
        { name: "settlement-worker", access: "readWrite" as const },
        { name: "reporting", access: "read" as const },
    ];
    const password = (role: string) => `pw-${role}-x`;
    /** Stands in for Aurora's master user (rds_superuser is no superuser). */
    const ADMIN = "finbot_admin";
    let server: PostgresServer | undefined;

    before(async function () {
        if (!postgresBin()) requireTool(this, "postgres", "postgresql");
        server = await PostgresServer.start();
        const pg = server;
        const setup = pg.psql(
            `CREATE ROLE ${ADMIN} LOGIN CREATEROLE CREATEDB PASSWORD '${password(ADMIN)}'; CREATE DATABASE finbot OWNER ${ADMIN}; ` +
                `GRANT pg_monitor, pg_read_all_data TO ${ADMIN} WITH ADMIN OPTION;`,
        );
        assert.equal(setup.status, 0, setup.output);
        const variables = Object.fromEntries(
            [...consumerRoles(consumers).map((r) => r.role), MONITOR_ROLE, ownDatabaseRole("grafana")].map((r) => [
                verifierVariable(r),
                scramVerifier(password(r), r),
            ]),
        );
        const asAdmin = { user: ADMIN, password: password(ADMIN), database: "finbot", variables };
        const admin = pg.psql(adminSql("finbot", consumers, ["grafana"]), asAdmin);
        assert.equal(admin.status, 0, admin.output);
        // Idempotent: a second run changes nothing and fails on nothing.
        const again = pg.psql(adminSql("finbot", consumers, ["grafana"]), asAdmin);
        assert.equal(again.status, 0, again.output);
        const grafana = pg.psql(ownDatabaseOwnerSql("grafana"), { user: "grafana", password: password("grafana"), database: "grafana" });
        assert.equal(grafana.status, 0, grafana.output);
        for (const c of consumers.filter((x) => x.access === "readWrite")) {
            const owner = pg.psql(ownerSql(c.name), { user: ownerRole(c.name), password: password(ownerRole(c.name)), database: "finbot" });
            assert.equal(owner.status, 0, owner.output);
            const reader = pg.psql(readerSql(c.name), {
                user: readerRole(c.name),
                password: password(readerRole(c.name)),
                database: "finbot",
            });
            assert.equal(reader.status, 0, reader.output);
        }
    });
    after(async () => server?.stop());

    const as = (role: string, sql: string) => server!.psql(sql, { user: role, password: password(role), database: "finbot" });

    it("sets each role's password as a SCRAM verifier: the server never sees the password, and the role signs in with it", () => {
        const sql = adminSql("finbot", consumers);
        assert.ok(!/password/i.test(sql.replace(/PASSWORD :'/g, "")), "no password variable in the SQL");
        const verifier = scramVerifier(password("api"), "api");
        assert.match(verifier, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
        assert.equal(scramVerifier(password("api"), "api"), verifier, "stable from run to run");
        const stored = server!.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'api';", { database: "finbot" });
        assert.equal(
            stored.output
                .trim()
                .split("\n")
                .find((l) => l.includes("SCRAM"))
                ?.trim(),
            verifier,
        );
        // The sign-ins of the tests below use the plain passwords against these verifiers.
        assert.equal(as("api", "SELECT 1;").status, 0);
        assert.notEqual(server!.psql("SELECT 1;", { user: "api", password: "not-the-password", database: "finbot" }).status, 0);
    });

    it("a consumer creates and writes tables in its own schema only, found by its search_path", () => {
        assert.equal(
            as("api", "CREATE TABLE payments (id int primary key, amount numeric); INSERT INTO payments VALUES (1, 10);").status,
            0,
        );
        assert.equal(as("api", "SELECT current_schema();").output, "api");
        const foreign = as("settlement_worker", "SELECT * FROM api.payments;");
        assert.notEqual(foreign.status, 0);
        assert.match(foreign.output, /permission denied for schema api/);
        assert.match(as("api", "CREATE TABLE public.leak (id int);").output, /permission denied for schema public/);
    });

    it("its reader reads what the consumer creates, now and later, and writes nothing", () => {
        as("api", "CREATE TABLE refunds (id int);");
        assert.equal(as("api_reader", "SELECT count(*) FROM payments;").output, "1");
        assert.equal(as("api_reader", "SELECT count(*) FROM refunds;").output, "0");
        assert.match(as("api_reader", "INSERT INTO payments VALUES (2, 5);").output, /permission denied for table payments/);
        assert.match(as("settlement_worker_reader", "SELECT * FROM api.payments;").output, /permission denied for schema api/);
    });

    it("a read-only consumer reads every schema and changes nothing", () => {
        assert.equal(as("reporting_reader", "SELECT count(*) FROM api.payments;").output, "1");
        assert.match(as("reporting_reader", "DELETE FROM api.payments;").output, /permission denied for table payments/);
    });

    it("no consumer is a superuser or can create roles or databases; the monitor sees every session", () => {
        const flags = server!.psql(
            `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname IN ('api','api_reader','settlement_worker','reporting_reader','${MONITOR_ROLE}') ORDER BY 1;`,
            { database: "finbot" },
        );
        for (const line of flags.output.split("\n")) assert.match(line, /\|f\|f\|f$/, line);
        assert.equal(
            as(MONITOR_ROLE, "SELECT count(*) > 0 FROM pg_stat_activity WHERE query IS NOT NULL AND usename = 'postgres' OR true;").status,
            0,
        );
        assert.equal(as(MONITOR_ROLE, "SELECT pg_has_role('finbot_monitor', 'pg_monitor', 'member');").output, "t");
        assert.match(as(MONITOR_ROLE, "SELECT * FROM api.payments;").output, /permission denied/);
    });
    it("Grafana's role owns its own database and nothing else; no other role connects to it, and the administrator keeps no membership", () => {
        const grafana = (sql: string, database = "grafana") =>
            server!.psql(sql, { user: "grafana", password: password("grafana"), database });
        assert.equal(grafana("CREATE TABLE session (token text primary key); INSERT INTO session VALUES ('t');").status, 0);
        assert.equal(grafana("SELECT current_user, current_database();").output, "grafana|grafana");
        // A reader of every schema (pg_read_all_data) may not even connect; nor may a consumer.
        for (const role of ["reporting_reader", "api"]) {
            const denied = server!.psql("SELECT * FROM session;", { user: role, password: password(role), database: "grafana" });
            assert.notEqual(denied.status, 0);
            assert.match(denied.output, /permission denied for database "grafana"/);
        }
        // Grafana's role may not connect to FinBot's database.
        assert.match(grafana("SELECT 1;", "finbot").output, /permission denied for database "finbot"/);
        const flags = server!.psql("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'grafana';");
        assert.equal(flags.output, "f|f|f");
        assert.equal(server!.psql(`SELECT pg_has_role('${ADMIN}', 'grafana', 'member');`).output, "f");
    });
});

describe("the roles Job reads RDS's master password without a JSON tool", () => {
    it("extracts the password field of a Secrets Manager secret with sed, undoing JSON escapes", () => {
        for (const password of ["plain", 'with"quote', "back\\slash", "dollar$sign`tick", "colon:comma,brace}"]) {
            const file = path.join(scratchDir("master-secret"), "master.json");
            writeFileSync(file, JSON.stringify({ username: "finbot_admin", password, engine: "postgres" }));
            const out = spawnSync("sh", ["-c", jsonPasswordShell(file)], { encoding: "utf8" });
            assert.equal(out.stdout.replace(/\n$/, ""), password);
        }
    });
});
