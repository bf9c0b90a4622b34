// What verify-full buys, on a real server (Debian's PostgreSQL 15 with TLS): the settings the roles
// Job and the exporters use (sslmode verify-full, a CA file) connect to the server whose certificate
// that CA signed for the name dialled, and refuse a server whose certificate another CA signed
// (someone in the path) before any password is sent; `require`, what they used before, connects to
// either.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { scratchDir } from "../scripts/lib/promtool";
import { PostgresServer, postgresBin, serverUserDir } from "./postgres";
import { requireTool } from "./tools";

/** A self-signed CA made with openssl, which signs server certificates for an IP address. */
function certificateAuthority(dir: string, name: string): { ca: string; sign(host: string, out: string): void } {
    const openssl = (...args: string[]) => {
        const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
        if (result.status !== 0) throw new Error(`openssl ${args[0]}: ${result.stderr}`);
    };
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        `/CN=${name}`,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
    );
    return {
        ca: path.join(dir, `${name}.pem`),
        sign(host, out) {
            openssl(
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                `/CN=${host}`,
                "-keyout",
                `${out}.key`,
                "-out",
                `${out}.csr`,
            );
            writeFileSync(path.join(dir, `${out}.ext`), `subjectAltName = IP:${host}\n`);
            openssl(
                "x509",
                "-req",
                "-in",
                `${out}.csr`,
                "-CA",
                `${name}.pem`,
                "-CAkey",
                `${name}.key`,
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                `${out}.ext`,
                "-out",
                `${out}.pem`,
            );
        },
    };
}

describe("PostgreSQL clients that verify the server (real server, TLS)", function () {
    this.timeout(60_000);
    let server: PostgresServer | undefined;
    let trusted = "";
    let other = "";

    before(async function () {
        if (!postgresBin()) requireTool(this, "postgres", "postgresql");
        requireTool(this, "openssl", "openssl");
        const dir = scratchDir("pg-tls");
        const ours = certificateAuthority(dir, "rds-ca");
        const theirs = certificateAuthority(dir, "someone-else");
        ours.sign("127.0.0.1", "server");
        [trusted, other] = [ours.ca, theirs.ca];
        // The server's key and certificate where the server's user can read them (and only it the key).
        const tls = serverUserDir("pg-tls-server");
        for (const f of ["server.pem", "server.key"]) writeFileSync(path.join(tls, f), readFileSync(path.join(dir, f)));
        chmodSync(path.join(tls, "server.key"), 0o600);
        spawnSync("chown", ["-R", `--reference=${tls}`, tls]);
        server = await PostgresServer.start({
            settings: { ssl: "on", ssl_cert_file: path.join(tls, "server.pem"), ssl_key_file: path.join(tls, "server.key") },
        });
        assert.equal(server.psql("CREATE ROLE app LOGIN PASSWORD 'pw-app-x';").status, 0);
    });
    after(async () => server?.stop());

    const connect = (env: Record<string, string>) =>
        server!.psql("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();", { user: "app", password: "pw-app-x", env });

    it("connects with verify-full to the server its CA signed for the name dialled, over TLS", () => {
        const result = connect({ PGSSLMODE: "verify-full", PGSSLROOTCERT: trusted });
        assert.equal(result.status, 0, result.output);
        assert.equal(result.output, "t");
    });

    it("refuses, before any password is sent, a server whose certificate another CA signed; require would have connected", () => {
        const verified = connect({ PGSSLMODE: "verify-full", PGSSLROOTCERT: other });
        assert.notEqual(verified.status, 0);
        assert.match(verified.output, /certificate verify failed/);
        // As the exporters and the roles Job connected before: require, no CA file (libpq verifies with one if it exists).
        const required = connect({ PGSSLMODE: "require", PGSSLROOTCERT: path.join(scratchDir("pg-tls-none"), "absent.pem") });
        assert.equal(required.status, 0, "require encrypts but trusts whoever answers");
    });
});
