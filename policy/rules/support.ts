// Helpers the rules share: where pod specs live in each workload kind, the policy config, image pins.
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { isPinnedImage } from "../../components/config/primitives";

export { isPinnedImage };

/** Policy config (`--policy-pack-config`): which environment the stack is. @default production (strictest) */
export interface PolicyConfig {
    environment: "staging" | "production";
}

export const CONFIG_SCHEMA = {
    properties: { environment: { type: "string" as const, enum: ["staging", "production"], default: "production" } },
};

export function isProduction(args: Pick<ResourceValidationArgs | StackValidationArgs, "getConfig">): boolean {
    return (args.getConfig<Partial<PolicyConfig>>().environment ?? "production") === "production";
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Props = Record<string, any>;

const POD_TEMPLATE_PATHS: Record<string, string[]> = {
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The pod spec of a workload resource, or undefined for other types. */
export function podSpecOf(type: string, props: Props): Props | undefined {
    const path = POD_TEMPLATE_PATHS[type];
    if (!path) return undefined;
    return path.reduce<Props | undefined>((node, key) => node?.[key], props);
}

export function containersOf(podSpec: Props): Props[] {
    return [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
}

export const nameOf = (props: Props): string => props?.metadata?.name ?? "?";

/** Resources of a type in a stack. */
export const ofType = (resources: PolicyResource[], type: string) => resources.filter((r) => r.type === type);
