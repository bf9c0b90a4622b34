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
    const read = readStackFile(stack, PROJECT_DIR);
    if (!read.ok) throw new Error(read.errors.join("\n"));
    edit(read.raw.values);
    return Object.fromEntries(
        Object.entries(read.raw.values).map(([key, value]) => [`finbot:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    );
}

/** Loads index.ts afresh under mocks; returns its exports, or the error it stopped with. */
function runProgram(stack: string, config: Record<string, string>) {
    return exclusively(async () => {
        const registered = await installMocks(stack);
        pulumi.runtime.setAllConfig(config);
        delete require.cache[require.resolve(INDEX)];
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require(INDEX) as {
                serviceUrls: pulumi.Output<Record<string, string>>;
                namespaces: pulumi.Output<Record<string, string>>;
            };
            const serviceUrls = await awaitOutput(program.serviceUrls);
            await waitForRegistrations();
            return { registered, serviceUrls, error: undefined };
        } catch (error) {
            return { registered, serviceUrls: undefined, error: error as Error };
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
            /Pulumi\.prod\.yaml: finbot:network\.vpcId: expected a real value in place of the placeholder, given "vpc-REPLACE_ME"/,
        );
        assert.equal(result.registered.length, 0);
    });

    it("deploys prod once the placeholders are replaced", async () => {
        const config = engineConfig("prod", (values) => {
            values.network = {
                vpcId: "vpc-0a1b2c",
                privateSubnetIds: ["subnet-01", "subnet-02", "subnet-03"],
                nodeSecurityGroupId: "sg-0abc",
                availabilityZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
            };
            // What `pulumi config set --secret --path` leaves behind, decrypted by the engine.
            const alerting = (values.monitoring as { alerting: Record<string, Record<string, string>> }).alerting;
            alerting.pagerduty.routingKey = "a-routing-key";
            alerting.slack.webhookUrl = "https://hooks.slack.example/services/T0/B0/x";
        });
        const result = await runProgram("prod", config);
        assert.equal(result.error, undefined, String(result.error));
        assert.ok(result.registered.length > 0);
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
