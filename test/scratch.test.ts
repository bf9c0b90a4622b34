import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "./harness";
import { endScratchRun, startScratchRun } from "./scratch";

describe("the test run's scratch directory", () => {
    it("takes what the tests leave in the temporary directory and is gone, with it, when the run ends", () => {
        const before = tmpdir();
        const run = startScratchRun();
        try {
            assert.equal(path.dirname(run.dir), before);
            const left = mkdtempSync(path.join(tmpdir(), "finbot-left-"));
            writeFileSync(path.join(left, "data"), "a server's data directory");
            assert.equal(path.dirname(left), run.dir);
        } finally {
            endScratchRun(run);
        }
        assert.equal(existsSync(run.dir), false);
        assert.equal(tmpdir(), before);
    });

    it("is what npm test runs under: the mocha config's global fixtures", () => {
        const config = JSON.parse(readFileSync(path.join(PROJECT_DIR, ".mocharc.json"), "utf8")) as { require: string[] };
        assert.ok(config.require.includes("./test/scratch.ts"), ".mocharc.json requires test/scratch.ts");
    });
});
