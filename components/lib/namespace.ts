// The namespaces the platform creates: FinBot's `part-of` label, and the Pod Security Standard
// the namespace enforces where its pods allow it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PART_OF_LABELS } from "./cluster";

/** Pod Security Admission levels, strictest first. */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** Namespace labels: part-of, and the enforced Pod Security Standard when one is given. */
export function namespaceLabels(level?: PodSecurityLevel): Record<string, string> {
    return {
        ...PART_OF_LABELS,
        ...(level ? { "pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": "latest" } : {}),
    };
}

/** A namespace of the platform. */
export function platformNamespace(
    resourceName: string,
    args: { name: string; podSecurity?: PodSecurityLevel },
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(resourceName, { metadata: { name: args.name, labels: namespaceLabels(args.podSecurity) } }, opts);
}
