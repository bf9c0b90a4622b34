// How the project's tools load code (scripts/preload.cjs): faster, but the same modules doing the
// same things. Each case runs a fresh Node with the loader, as the npm scripts do.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "./harness";

const PRELOAD = path.join(PROJECT_DIR, "scripts", "preload.cjs");

/** What a script prints when Node runs it with the loader, from `cwd`. */
function withLoader(script: string, cwd = PROJECT_DIR): string {
    return execFileSync(process.execPath, ["--require", PRELOAD, "-e", script], { cwd, encoding: "utf8", timeout: 30_000 }).trim();
}

describe("the tools' loader", () => {
    it("loads a Pulumi SDK namespace when the program first reads it, with its resource types", () => {
        const script = `
            const loaded = (folder) => Object.keys(require.cache).some((f) => f.includes("/@pulumi/aws/" + folder + "/"));
            const aws = require("@pulumi/aws");
            const before = [loaded("chime"), loaded("iam")];
            const role = typeof aws.iam.Role;
            console.log(JSON.stringify({ before, role, iamAfter: loaded("iam"), chimeAfter: loaded("chime"),
                listed: Object.keys(aws).includes("chime"), sameObject: aws.iam === require("@pulumi/aws/iam") }));`;
        assert.deepEqual(JSON.parse(withLoader(script)), {
            before: [false, false],
            role: "function",
            iamAfter: true,
            chimeAfter: false,
            listed: true,
            sameObject: true,
        });
    });

    it("runs a package's changed code, not the compiled code cached for its earlier version", () => {
        // A package installed in the project (the loader caches only those), at a fixed path so that
        // its cached code is replaced, not added to, run after run.
        const dir = path.join(PROJECT_DIR, "node_modules", ".cache", "finbot-loader-probe");
        const pkg = path.join(dir, "node_modules", "finbot-loader-probe");
        try {
            mkdirSync(pkg, { recursive: true });
            const write = (answer: string) =>
                writeFileSync(
                    path.join(pkg, "index.js"),
                    `module.exports = { answer: "${answer}", here: require.resolve("./index.js") === __filename, dir: __dirname };\n`,
                );
            const probe = `const p = require("finbot-loader-probe"); console.log(p.answer + " " + p.here + " " + (p.dir === ${JSON.stringify(pkg)}))`;
            write("aaaa");
            assert.equal(withLoader(probe, dir), "aaaa true true");
            assert.equal(withLoader(probe, dir), "aaaa true true", "from the cache");
            // The same length: V8 alone would accept the old cache for it.
            write("bbbb");
            assert.equal(withLoader(probe, dir), "bbbb true true");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
