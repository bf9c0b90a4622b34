// The namespaces the platform creates: FinBot's `part-of` label, and the Pod Security Standard
// the namespace enforces: `restricted` where its pods allow it, `baseline` (warning and auditing
// at `restricted`) where a chart's pods need it, `privileged` only for node agents.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PART_OF_LABELS } from "./services";

/** Pod Security Admission levels, strictest first. */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

const PSA = "pod-security.kubernetes.io";

/** The enforced Pod Security Standard (warnings and audit at restricted below it). */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
    return {
        [`${PSA}/enforce`]: level,
        [`${PSA}/enforce-version`]: "latest",
        ...(level === "baseline" ? { [`${PSA}/warn`]: "restricted", [`${PSA}/audit`]: "restricted" } : {}),
    };
}

/** Namespace labels: part-of (which the gateways and network policies select on), and the Pod Security Standard. */
export function namespaceLabels(level: PodSecurityLevel): Record<string, string> {
    return { ...PART_OF_LABELS, ...podSecurityLabels(level) };
}

/** A namespace of the platform; in production protected (deleting it would delete everything in it). */
export function platformNamespace(
    resourceName: string,
    args: { name: string; podSecurity: PodSecurityLevel; protect?: boolean },
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        resourceName,
        { metadata: { name: args.name, labels: namespaceLabels(args.podSecurity) } },
        { ...opts, protect: args.protect, retainOnDelete: args.protect },
    );
}
