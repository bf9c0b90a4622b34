import * as assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { hasTool } from "./tools";

describe("hasTool: whether a test's real tool is installed", () => {
    it("finds an executable file on PATH, and not a missing name, a directory or a file that cannot run", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-tools-"));
        writeFileSync(path.join(dir, "finbot-tool"), "#!/bin/sh\n", { mode: 0o755 });
        writeFileSync(path.join(dir, "finbot-text"), "not a program\n");
        chmodSync(path.join(dir, "finbot-text"), 0o644);
        mkdirSync(path.join(dir, "finbot-dir"));
        const path_ = process.env.PATH;
        try {
            process.env.PATH = `/nonexistent${path.delimiter}${dir}`;
            assert.deepEqual(["finbot-tool", "finbot-missing", "finbot-dir", "finbot-text"].map(hasTool), [true, false, false, false]);
        } finally {
            process.env.PATH = path_;
        }
    });
});
