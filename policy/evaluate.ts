// Runs the pack's rules outside the Pulumi engine: over an offline plan (npm run policy) and in
// tests. The engine hands each rule the same arguments: a resource's type, properties and URN,
// the rule's config, and `isType`/`asType` for typed rules.
import type { Policy, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export interface Violation {
    policy: string;
    enforcementLevel: string;
    urn?: string;
    message: string;
}

/** A resource as a rule sees it. */
export interface EvaluatedResource {
    type: string;
    urn: string;
    name: string;
    props: Record<string, unknown>;
}

type ResourceClass = { __pulumiType?: string; isInstance?(o: unknown): boolean };
const isTypeOf = (type: string) => (cls: ResourceClass) => cls.__pulumiType === type || cls.isInstance?.({ __pulumiType: type }) === true;

/** What the engine passes a rule about one resource. */
function resourceArgs(r: EvaluatedResource, environment: string) {
    return {
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts: {},
        getConfig: <T>() => ({ environment }) as T,
        stackTags: new Map<string, string>(),
        isType: isTypeOf(r.type),
        // A typed rule that does not apply to this resource says so; the engine records nothing.
        notApplicable: () => undefined,
        asType: (cls: ResourceClass) => (isTypeOf(r.type)(cls) ? r.props : undefined),
    };
}

const isStackPolicy = (p: Policy): p is StackValidationPolicy => "validateStack" in p;

/** Every violation of `policies` over `resources` in an environment (`staging` or `production`). */
export async function evaluate(policies: Policy[], resources: EvaluatedResource[], environment: string): Promise<Violation[]> {
    const found: Violation[] = [];
    for (const policy of policies) {
        const level = policy.enforcementLevel ?? "advisory";
        if (level === "disabled") continue;
        const report = (urn?: string) => (message: string, at?: string) =>
            found.push({ policy: policy.name, enforcementLevel: level, urn: at ?? urn, message });
        if (isStackPolicy(policy)) {
            const args = {
                resources: resources.map((r) => resourceArgs(r, environment)) as unknown as PolicyResource[],
                getConfig: <T>() => ({ environment }) as T,
                stackTags: new Map(),
            };
            await policy.validateStack(args as never, report());
        } else {
            const validations = [(policy as ResourceValidationPolicy).validateResource].flat() as Array<
                NonNullable<ResourceValidationPolicy["validateResource"]>
            >;
            for (const r of resources) {
                for (const validate of validations) {
                    // As the engine does: a typed rule only sees resources of its type.
                    const only = (validate as { __pulumiType?: string }).__pulumiType;
                    if (only !== undefined && only !== r.type) continue;
                    await (validate as (a: unknown, rep: (m: string) => void) => unknown)(resourceArgs(r, environment), report(r.urn));
                }
            }
        }
    }
    return found;
}
