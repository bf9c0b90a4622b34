import * as assert from "node:assert/strict";
import { PlatformRun, RecordedResource, revealSecrets, runStack } from "./harness";

interface Model {
    validate(): void;
}
type ModelClass = new (data: unknown) => Model;

// kubernetes-models is ESM-only: load each API group's module once, on demand.
const modules = new Map<string, Promise<Record<string, ModelClass>>>();
function modelModule(apiVersion: string): Promise<Record<string, ModelClass>> {
    if (!modules.has(apiVersion)) modules.set(apiVersion, import(`kubernetes-models/${apiVersion}`));
    return modules.get(apiVersion)!;
}

const BUILT_IN_GROUP =
    /^(v1|(apps|autoscaling|batch|policy|rbac\.authorization\.k8s\.io|networking\.k8s\.io|storage\.k8s\.io|scheduling\.k8s\.io)\/v\d+)$/;

/** Validates an object against the Kubernetes OpenAPI schema; undefined when the API group is not built in or it is a patch. */
async function validateObject(resource: RecordedResource): Promise<string | undefined> {
    // A server-side apply patch holds only the fields it sets: not a whole object.
    if (resource.type.endsWith("Patch")) return undefined;
    const object = revealSecrets(resource.inputs) as { apiVersion: string; kind: string; metadata: Record<string, unknown> };
    if (!BUILT_IN_GROUP.test(object.apiVersion)) return undefined;
    const Model = (await modelModule(object.apiVersion))[object.kind];
    if (!Model) return `${resource.name}: no schema for ${object.apiVersion} ${object.kind}`;
    // Names come from the provider when not given; the mock supplies them like the provider does.
    const metadata = { ...object.metadata, name: (resource.state.metadata as { name: string }).name };
    try {
        new Model({ ...object, metadata }).validate();
        return "";
    } catch (error) {
        return `${resource.name} (${object.kind}): ${(error as Error).message}`;
    }
}

describe("Kubernetes OpenAPI schema", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`every built-in Kubernetes object of ${stack} validates`, async () => {
            const run: PlatformRun = await runStack(stack);
            const results = await Promise.all(run.kubernetesObjects().map(validateObject));
            const problems = results.filter((r): r is string => r !== undefined && r !== "");
            assert.deepEqual(problems, []);
            assert.ok(results.filter((r) => r === "").length >= 6, "the core objects were validated");
        });
    }

    it("catches an invalid object (the check can fail)", async () => {
        const run = await runStack("dev");
        const deployment = structuredClone(run.ofType("kubernetes:apps/v1:Deployment")[0]);
        (
            deployment.inputs as { spec: { template: { spec: { containers: Array<{ ports: unknown }> } } } }
        ).spec.template.spec.containers[0].ports = [{ containerPort: "http" }];
        assert.match((await validateObject(deployment)) ?? "", /containerPort must be integer/);
    });
});
