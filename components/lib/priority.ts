// Who is evicted first when nodes run short: the platform's critical path (gateway, data tier,
// monitoring, logging, controllers) before FinBot's services, and nothing else of the platform
// after them. Every pod the program controls names one of these classes.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PART_OF_LABELS } from "./services";

/** The gateway, the data tier, monitoring, logging and the controllers deploys and scaling rely on. */
export const PLATFORM_CRITICAL = "finbot-platform-critical";
/** FinBot's services and workers. */
export const FINBOT_SERVICES = "finbot-services";
/** Synthetic checks and load tests: first to go. */
export const FINBOT_CHECKS = "finbot-checks";

/** The classes, highest first; below system-cluster-critical (2000000000), above the default 0. */
export const PRIORITY_CLASSES = [
    { name: PLATFORM_CRITICAL, value: 1_000_000, description: "FinBot platform: gateway, data tier, monitoring, logging, controllers." },
    { name: FINBOT_SERVICES, value: 100_000, description: "FinBot services and workers." },
    { name: FINBOT_CHECKS, value: 1_000, description: "FinBot synthetic checks and load tests (evicted first)." },
] as const;

/** Creates the PriorityClasses (cluster-scoped); pods reference them by name, so they come first. */
export function priorityClasses(name: string, opts: pulumi.CustomResourceOptions): k8s.scheduling.v1.PriorityClass[] {
    return PRIORITY_CLASSES.map(
        (c) =>
            new k8s.scheduling.v1.PriorityClass(
                `${name}-priority-${c.name}`,
                {
                    metadata: { name: c.name, labels: PART_OF_LABELS },
                    value: c.value,
                    globalDefault: false,
                    preemptionPolicy: "PreemptLowerPriority",
                    description: c.description,
                },
                opts,
            ),
    );
}
