// PostgreSQL roles of FinBot's services and workers: one login role per consumer that owns only its
// schema, a reader role per consumer for the reader URL, and a monitoring role for the exporters.
// The SQL is idempotent (a Job re-runs it) and the same in both modes; a test runs it on a real
// server. Pure.
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";

/** A service or worker that uses the database. */
export interface DatabaseConsumer {
    /** Service or worker name. */
    name: string;
    /** Its own schema read-write (and a reader), or read only (every schema, through pg_read_all_data). */
    access: "read" | "readWrite";
}

/** PostgreSQL identifiers: lower-case, `_` for `-`. */
const ident = (name: string) => name.toLowerCase().replace(/[^a-z0-9_]/g, "_");

/** The login role (and schema) of a consumer with read-write access. */
export const ownerRole = (consumer: string) => ident(consumer);
/** The read-only login role of a consumer. */
export const readerRole = (consumer: string) => `${ident(consumer)}_reader`;
/** The role the exporters log in as: pg_monitor only. */
export const MONITOR_ROLE = "finbot_monitor";

/**
 * A platform part with a database of its own (Grafana's state): a login role of the same name owns
 * it, and no other role may connect to it (so no reader of FinBot's data, pg_read_all_data
 * included, reads its sessions); it gets no access to FinBot's database.
 */
export const ownDatabaseRole = (database: string) => ident(database);

/** A platform part's own database, and the namespace its pods run in. */
export interface OwnDatabase {
    /** Database and owner role. */
    name: string;
    /** Namespace of the pods that use it. */
    namespace: string;
}

/** The Secret (data namespace) holding a role's password: CloudNativePG and the role Jobs read it. */
export const roleSecretName = (role: string) => `pg-role-${role.replace(/_/g, "-")}`;

/** The psql variable holding a role's SCRAM verifier (`psql -v`): the server never sees the password itself. */
export const verifierVariable = (role: string) => `${role}_verifier`;

/** PostgreSQL's default SCRAM iteration count (scram_iterations). */
const SCRAM_ITERATIONS = 4096;

/**
 * A role's password as the SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802/7677, PostgreSQL's
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`): `ALTER ROLE ... PASSWORD '<verifier>'`
 * sets it without the password ever reaching the server, its logs or pg_stat_statements. The salt
 * is derived from the role and the (random, secret) password, so the same password gives the same
 * verifier on every run. Passwords here are ASCII (SASLprep leaves them as they are).
 */
export function scramVerifier(password: string, role: string): string {
    const salt = createHash("sha256").update(`finbot-scram:${role}:${password}`).digest().subarray(0, 16);
    const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, "sha256");
    const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();
    const storedKey = createHash("sha256").update(hmac(salted, "Client Key")).digest();
    const serverKey = hmac(salted, "Server Key");
    const b64 = (b: Buffer) => b.toString("base64");
    return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/** Every login role the consumers need, with what it is for. */
export function consumerRoles(consumers: DatabaseConsumer[]): Array<{ role: string; consumer: string; kind: "owner" | "reader" }> {
    return consumers.flatMap((c) =>
        c.access === "readWrite"
            ? [
                  { role: ownerRole(c.name), consumer: c.name, kind: "owner" as const },
                  { role: readerRole(c.name), consumer: c.name, kind: "reader" as const },
              ]
            : [{ role: readerRole(c.name), consumer: c.name, kind: "reader" as const }],
    );
}

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * Run by the administrator (Aurora's master user): creates the login roles with SCRAM verifiers
 * from psql variables (never a password), the monitoring role, one schema per read-write consumer
 * owned by its role, and lets every role connect to the database and nothing else. CloudNativePG
 * declares the same roles and schemas itself (managed roles, Database), so there only `ownerSql` runs.
 */
export function adminSql(database: string, consumers: DatabaseConsumer[], ownDatabases: string[] = []): string {
    const roles = [...consumerRoles(consumers).map((r) => r.role), MONITOR_ROLE];
    const lines = [
        "\\set ON_ERROR_STOP on",
        `REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC;`,
        ...roles.flatMap((role) => [
            `SELECT format('CREATE ROLE %I LOGIN', ${literal(role)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) \\gexec`,
            `ALTER ROLE ${role} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD :'${verifierVariable(role)}';`,
            `GRANT CONNECT ON DATABASE ${ident(database)} TO ${role};`,
        ]),
        `GRANT pg_monitor TO ${MONITOR_ROLE};`,
        ...consumers.flatMap((c) =>
            c.access === "readWrite"
                ? asMemberOf(ownerRole(c.name), [`CREATE SCHEMA IF NOT EXISTS ${ownerRole(c.name)} AUTHORIZATION ${ownerRole(c.name)};`])
                : [`GRANT pg_read_all_data TO ${readerRole(c.name)};`],
        ),
        ...ownDatabases.flatMap(ownDatabaseSql),
    ];
    return `${lines.join("\n")}\n`;
}

/**
 * A database of its own and its owner role, as the administrator. CREATE DATABASE runs outside a
 * transaction: `\gexec` sends it as a statement of its own.
 */
function ownDatabaseSql(database: string): string[] {
    const role = ownDatabaseRole(database);
    return [
        `SELECT format('CREATE ROLE %I LOGIN', ${literal(role)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) \\gexec`,
        `ALTER ROLE ${role} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD :'${verifierVariable(role)}';`,
        ...asMemberOf(role, [
            `SELECT format('CREATE DATABASE %I OWNER %I', ${literal(ident(database))}, ${literal(role)}) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(ident(database))}) \\gexec`,
        ]),
    ];
}

/**
 * Statements that make something owned by `role`: the administrator is its member only while they
 * run. Aurora's master user is no superuser, and PostgreSQL lets only a role that may become the
 * owner create a schema or database for it ("must be member of role"; PostgreSQL 16+ also when the
 * administrator created the role, its membership then lacking SET).
 */
function asMemberOf(role: string, statements: string[]): string[] {
    return [`GRANT ${role} TO CURRENT_USER;`, ...statements, `REVOKE ${role} FROM CURRENT_USER;`];
}

/** Run as a database's owner role: nobody else may connect (PostgreSQL lets PUBLIC connect to a new database). */
export function ownDatabaseOwnerSql(database: string): string {
    return `\\set ON_ERROR_STOP on\nREVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC;\n`;
}

/**
 * Run as a read-write consumer's own role (it owns its schema, so it may grant on it): searches its
 * schema first, and lets its reader role read what is there and what it creates later.
 */
export function ownerSql(consumer: string): string {
    const owner = ownerRole(consumer);
    const reader = readerRole(consumer);
    return `${[
        "\\set ON_ERROR_STOP on",
        `ALTER ROLE ${owner} SET search_path = ${owner};`,
        `GRANT USAGE ON SCHEMA ${owner} TO ${reader};`,
        `GRANT SELECT ON ALL TABLES IN SCHEMA ${owner} TO ${reader};`,
        `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${owner} TO ${reader};`,
        `ALTER DEFAULT PRIVILEGES IN SCHEMA ${owner} GRANT SELECT ON TABLES TO ${reader};`,
        `ALTER DEFAULT PRIVILEGES IN SCHEMA ${owner} GRANT SELECT ON SEQUENCES TO ${reader};`,
    ].join("\n")}\n`;
}

/** Run as a read-write consumer's reader role (a role may set its own defaults): reads its owner's schema first. */
export function readerSql(consumer: string): string {
    return `\\set ON_ERROR_STOP on\nALTER ROLE ${readerRole(consumer)} SET search_path = ${ownerRole(consumer)};\n`;
}

/**
 * The shell script of the grants Job: for each read-write consumer, `ownerSql` as its role and
 * `readerSql` as its reader, each password read from `<ROLE>_PASSWORD` (mounted from its Secret).
 */
export function grantsScript(database: string, consumers: DatabaseConsumer[], ownDatabases: string[] = []): string {
    const psql = (role: string, sql: string, db = database) =>
        `PGUSER=${role} PGPASSWORD="$${role.toUpperCase()}_PASSWORD" psql -d ${ident(db)} <<'SQL'\n${sql}SQL`;
    return [
        "set -eu",
        `until pg_isready -d ${ident(database)} -q; do echo "waiting for PostgreSQL"; sleep 5; done`,
        ...consumers
            .filter((c) => c.access === "readWrite")
            .flatMap((c) => [psql(ownerRole(c.name), ownerSql(c.name)), psql(readerRole(c.name), readerSql(c.name))]),
        ...ownDatabases.map((db) => psql(ownDatabaseRole(db), ownDatabaseOwnerSql(db), db)),
    ].join("\n");
}
