import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "./harness";
import { endTestRun, startTestRun } from "./environment";

describe("the test run's environment", () => {
    it("takes what the tests leave in the temporary directory and is gone, with it, when the run ends", () => {
        const before = tmpdir();
        const run = startTestRun();
        try {
            assert.equal(path.dirname(run.dir), before);
            const left = mkdtempSync(path.join(tmpdir(), "finbot-left-"));
            writeFileSync(path.join(left, "data"), "a server's data directory");
            assert.equal(path.dirname(left), run.dir);
        } finally {
            endTestRun(run);
        }
        assert.equal(existsSync(run.dir), false);
        assert.equal(tmpdir(), before);
    });

    for (const [variable, tuned, chosen] of [
        ["GOGC", "400", "off"],
        ["GOMAXPROCS", "1", "2"],
    ]) {
        it(`tunes the Go tools' ${variable} unless the caller chose one, and puts it back`, () => {
            const callers = process.env[variable];
            try {
                delete process.env[variable];
                const run = startTestRun();
                assert.equal(process.env[variable], tuned);
                endTestRun(run);
                assert.equal(process.env[variable], undefined);
                process.env[variable] = chosen;
                const withChosen = startTestRun();
                assert.equal(process.env[variable], chosen);
                endTestRun(withChosen);
                assert.equal(process.env[variable], chosen);
            } finally {
                if (callers === undefined) delete process.env[variable];
                else process.env[variable] = callers;
            }
        });
    }

    it("is what npm test runs under: the mocha config's global fixtures", () => {
        const config = JSON.parse(readFileSync(path.join(PROJECT_DIR, ".mocharc.json"), "utf8")) as { require: string[] };
        assert.ok(config.require.includes("./test/environment.ts"), ".mocharc.json requires test/environment.ts");
    });
});
