// The real program (index.ts) under mocks, with the stack config handed over the way the Pulumi
// engine does (every value a string, structured values as JSON).
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../components/config/load";
import { platformSchema } from "../components/config/schema";
import { PROJECT_DIR, awaitOutput, exclusively, installMocks, waitForRegistrations } from "./harness";

const INDEX = path.join(PROJECT_DIR, "index.ts");
const TOP_LEVEL_KEYS = Object.keys(platformSchema.shape);

function engineConfig(stack: string, edit: (values: Record<string, unknown>) => void = () => undefined): Record<string, string> {
    const values = engineConfigValues(stack);
    edit(values);
    return Object.fromEntries(
        Object.entries(values).map(([key, value]) => [`finbot:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    );
}

function engineConfigValues(stack: string): Record<string, unknown> {
    const read = readStackFile(stack, PROJECT_DIR);
    if (!read.ok) throw new Error(read.errors.join("\n"));
    return read.raw.values;
}

/** Loads index.ts afresh under mocks; returns its exports, or the error it stopped with. */
/** The top-level keys holding a secret: what `pulumi config set --secret --path` leaves encrypted. */
const SECRET_KEYS = ["finbot:monitoring", "finbot:errorTracking", "finbot:traffic", "finbot:services"];

function runProgram(stack: string, config: Record<string, string>, secretKeys = SECRET_KEYS) {
    return exclusively(async () => {
        const registered = await installMocks(stack);
        pulumi.runtime.setAllConfig(
            config,
            secretKeys.filter((k) => k in config),
        );
        delete require.cache[require.resolve(INDEX)];
        // The program downloads release manifests; here the network is a stand-in that answers with a comment.
        const realFetch = globalThis.fetch;
        globalThis.fetch = async () => new Response("# release manifest stand-in\n");
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require(INDEX) as Record<string, pulumi.Output<unknown> | undefined> & {
                serviceUrls: pulumi.Output<Record<string, string>>;
            };
            const serviceUrls = await awaitOutput(program.serviceUrls);
            await waitForRegistrations();
            return { registered, serviceUrls, exports: program, error: undefined };
        } catch (error) {
            return { registered, serviceUrls: undefined, exports: undefined, error: error as Error };
        } finally {
            globalThis.fetch = realFetch;
        }
    });
}

describe("the program (index.ts)", () => {
    it("deploys the dev stack from the engine's config and exports the service URLs", async () => {
        const result = await runProgram("dev", engineConfig("dev"));
        assert.equal(result.error, undefined);
        assert.deepEqual(result.serviceUrls, { api: "http://api.finbot-apps.svc.cluster.local:9898" });
        assert.ok(result.registered.some((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"));
    });

    it("refuses prod while placeholders are left, naming each, before registering anything", async () => {
        const result = await runProgram("prod", engineConfig("prod"));
        assert.ok(result.error && pulumi.RunError.isInstance(result.error), String(result.error));
        assert.match(
            result.error.message,
            /Pulumi\.prod\.yaml: finbot:cluster\.amiAlias: expected a real value in place of the placeholder, given "al2023@vREPLACE_ME"/,
        );
        assert.equal(result.registered.length, 0);
    });

    it("deploys prod once the placeholders are replaced", async () => {
        // Real ids and, for secrets, what `pulumi config set --secret --path` leaves behind (the
        // engine hands the program decrypted values).
        const replaced = JSON.parse(
            JSON.stringify(engineConfigValues("prod"))
                .replace(/:REPLACE_ME:/g, ":123456789012:")
                .replace(/REPLACE_ME/g, "0abc123")
                .replace(/replace-me/g, "live"),
        );
        // ...and the checksums of the release manifests that `npm run manifests:pin` records.
        for (const pin of Object.values(replaced.releases.manifests) as Array<{ sha256: string | null }>) pin.sha256 = "0".repeat(64);
        const config = engineConfig("prod", (values) => Object.assign(values, replaced));
        const result = await runProgram("prod", config);
        assert.equal(result.error, undefined, String(result.error));
        assert.ok(result.registered.length > 0);
    });

    it("exports every output that carries a secret as a secret", async () => {
        const result = await runProgram("dev", engineConfig("dev"));
        assert.ok(result.exports);
        const secretLike = Object.keys(result.exports).filter((name) => /password|token|secret|key|dsn/i.test(name));
        assert.ok(secretLike.includes("uiPassword"), secretLike.join(", "));
        for (const name of secretLike) {
            const output: pulumi.Output<unknown> | undefined = result.exports[name];
            if (output === undefined) continue;
            assert.equal(await pulumi.isSecret(output), true, `${name} is exported in plain text`);
        }
        // The check can fail: an unsecret'ed output is plain.
        assert.equal(await pulumi.isSecret(pulumi.unsecret(pulumi.secret("x"))), false);
    });

    it("stops on bad config with one line per problem and nothing registered", async () => {
        const config = engineConfig("dev", (values) => {
            (values.services as Array<Record<string, unknown>>)[0].replicas = { min: 9, max: 2 };
            values.unknownKey = true;
        });
        const result = await runProgram("dev", config);
        assert.ok(result.error && pulumi.RunError.isInstance(result.error));
        assert.deepEqual(result.error.message.split("\n"), [
            "invalid stack config:",
            "Pulumi.dev.yaml: finbot:services[0].replicas.min: expected a value <= replicas.max (2), given 9",
            `Pulumi.dev.yaml: finbot:unknownKey: unknown key (expected one of: ${TOP_LEVEL_KEYS.map((k) => `finbot:${k}`).join(", ")})`,
        ]);
        assert.equal(result.registered.length, 0);
    });
});
