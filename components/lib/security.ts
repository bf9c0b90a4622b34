// The hardening every container the platform runs gets: no privilege escalation, no Linux
// capabilities, a read-only root file system (writable paths are explicit volumes); and the pod spec
// of its Jobs and CronJobs: non-root, the runtime's seccomp profile, no API token it does not use.
import * as k8s from "@pulumi/kubernetes";

/** A container's securityContext: no privilege escalation, no capabilities, read-only root file system. */
export function hardenedContainer(): { allowPrivilegeEscalation: false; readOnlyRootFilesystem: true; capabilities: { drop: string[] } } {
    return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
}

/** Who a hardened pod runs as: a user, and the group and volume group where its files need them. */
export interface RunAs {
    user: number;
    group?: number;
    fsGroup?: number;
}

/**
 * The pod spec of a platform Job or CronJob: non-root as `runAs`, the runtime's seccomp profile,
 * its priority class, and no Kubernetes API token unless it names the service account whose
 * identity it uses (EKS Pod Identity).
 */
export function hardenedPodSpec(args: {
    restartPolicy: "OnFailure" | "Never";
    priorityClassName: string;
    runAs: RunAs;
    serviceAccountName?: string;
    initContainers?: k8s.types.input.core.v1.Container[];
    containers: k8s.types.input.core.v1.Container[];
    volumes?: k8s.types.input.core.v1.Volume[];
}): k8s.types.input.core.v1.PodSpec {
    const { runAs } = args;
    return {
        ...(args.serviceAccountName ? { serviceAccountName: args.serviceAccountName } : { automountServiceAccountToken: false }),
        priorityClassName: args.priorityClassName,
        restartPolicy: args.restartPolicy,
        securityContext: {
            runAsNonRoot: true,
            runAsUser: runAs.user,
            ...(runAs.group !== undefined ? { runAsGroup: runAs.group } : {}),
            ...(runAs.fsGroup !== undefined ? { fsGroup: runAs.fsGroup } : {}),
            seccompProfile: { type: "RuntimeDefault" },
        },
        ...(args.initContainers ? { initContainers: args.initContainers } : {}),
        containers: args.containers,
        ...(args.volumes ? { volumes: args.volumes } : {}),
    };
}
