// Every stack file the project ships plans: the committed stacks and the test stacks that switch
// on what the committed ones leave off (test/stacks/*.yaml), with every object in a namespace the
// plan creates.
import * as assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR, PlatformRun, runStackFile } from "./harness";

/** Namespaces the program does not create but applies to: the RabbitMQ operator's own (its manifest creates it). */
const EXTERNAL_NAMESPACES = new Set(["rabbitmq-system"]);

export const TEST_STACKS = readdirSync(path.join(PROJECT_DIR, "test", "stacks"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => path.join("test", "stacks", f));

/** Namespaces objects of a run are placed in that the run does not create. */
function strayNamespaces(run: PlatformRun): string[] {
    const created = new Set(
        run.ofType("kubernetes:core/v1:Namespace").map((ns) => (ns.inputs as { metadata: { name: string } }).metadata.name),
    );
    const known = (ns: unknown) => typeof ns !== "string" || created.has(ns) || EXTERNAL_NAMESPACES.has(ns);
    const stray: string[] = [];
    for (const r of run.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
        const inputs = r.inputs as { metadata?: { namespace?: unknown }; namespace?: unknown; values?: Record<string, unknown> };
        for (const ns of [inputs.metadata?.namespace, inputs.namespace]) if (!known(ns)) stray.push(`${r.name}: ${String(ns)}`);
        // Charts that place their own objects elsewhere (a ServiceMonitor's `namespace` value).
        const walk = (value: unknown, at: string) => {
            if (value === null || typeof value !== "object") return;
            for (const [key, child] of Object.entries(value)) {
                if (key === "namespace" && !known(child)) stray.push(`${r.name}: values${at}.namespace = ${String(child)}`);
                walk(child, `${at}.${key}`);
            }
        };
        walk(inputs.values, "");
    }
    return stray;
}

describe("stack files", () => {
    it("the test stacks switch on what the committed stacks leave off", () => {
        assert.ok(TEST_STACKS.includes(path.join("test", "stacks", "everything.yaml")));
    });

    for (const file of TEST_STACKS) {
        it(`${file} plans, with every object in a namespace the plan creates`, async () => {
            const run = await runStackFile(file);
            assert.deepEqual(strayNamespaces(run), []);
            // Everything optional is there.
            const config = run.config;
            assert.ok(
                config.monitoring.pushgateway &&
                    config.traffic.loadTest.enabled &&
                    config.errorTracking.enabled &&
                    config.traffic.cdn.enabled,
            );
            const pushgateway = run.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-pushgateway").inputs as {
                values: { serviceMonitor: unknown };
            };
            assert.deepEqual(pushgateway.values.serviceMonitor, { enabled: true, namespace: config.namespaces.monitoring });
            assert.ok(run.ofType("kubernetes:batch/v1:Job").some((j) => j.name.startsWith("finbot-load-test-")));
            assert.ok(run.ofType("aws:cloudfront/distribution:Distribution").length === 1);
        });
    }

    it("the namespace check can fail: a chart value pointing elsewhere is reported", async () => {
        const run = await runStackFile(path.join("test", "stacks", "everything.yaml"));
        const release = run.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-pushgateway");
        const broken = new PlatformRun(run.stack, run.config, run.platform, [
            ...run.resources.filter((r) => r !== release),
            { ...release, inputs: { ...release.inputs, values: { serviceMonitor: { enabled: true, namespace: "monitoring" } } } },
        ]);
        assert.deepEqual(strayNamespaces(broken), ["finbot-monitoring-pushgateway: values.serviceMonitor.namespace = monitoring"]);
    });
});
