import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CONFIG_DOCS, renderConfigDocs } from "../scripts/configDocs";

describe("docs", () => {
    it("docs/config.md is what the schema generates (run `npm run docs:config`)", () => {
        assert.equal(readFileSync(CONFIG_DOCS, "utf8"), renderConfigDocs());
    });

    it("documents every service key with its type and default", () => {
        const docs = renderConfigDocs();
        assert.match(docs, /\| `finbot:services\[\]\.replicas\.min` \| whole number >= 1, <= 1000 \| yes \|/);
        assert.match(docs, /\| `finbot:services\[\]\.scaling\.scaleDown\.stabilizationSeconds` \| .* \| `300` \|/);
        assert.match(docs, /\| `finbot:services\[\]\.secretEnv` \| map of secret string \|/);
    });
});
