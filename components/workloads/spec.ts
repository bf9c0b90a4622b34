// Pure functions deciding how a FinBot service runs: labels, pod template, probes, topology
// spread and autoscaling behaviour. No Pulumi here, so every decision is testable directly.
import { tlsFrontendContainer, tlsFrontendVolume } from "../lib/tlsFrontend";
import type * as k8s from "@pulumi/kubernetes";
import { containerResources } from "../config/primitives";
import { ServiceConfig } from "../config/schema";
import { CA_MOUNT_PATH } from "../lib/certificates";
import { FINBOT_SERVICES } from "../lib/priority";
import { hardenedContainer } from "../lib/security";

export type PodSpec = k8s.types.input.core.v1.PodSpec;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
export type HpaBehavior = k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerBehavior;
export type ZoneSpread = "required" | "preferred";

export const PART_OF = "finbot";
export const HTTP_PORT_NAME = "http";

/** Labels that select the service's pods: stable across releases. */
export function selectorLabels(serviceName: string): Record<string, string> {
    return { "app.kubernetes.io/name": serviceName, "app.kubernetes.io/part-of": PART_OF };
}

/** Labels on every object of the service; the version is the image tag or digest. */
export function serviceLabels(serviceName: string, image: string): Record<string, string> {
    return {
        ...selectorLabels(serviceName),
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/version": imageVersion(image),
    };
}

/** "ghcr.io/x/y:1.2.3" -> "1.2.3"; a digest -> its first 12 hex digits (label values are <= 63 chars). */
export function imageVersion(image: string): string {
    const digest = /@sha256:([a-f0-9]{12})/.exec(image);
    if (digest) return `sha256-${digest[1]}`;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    return lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : "unknown";
}

/** Kubernetes volume name for a writable path: "/tmp" -> "writable-tmp". */
export function volumeName(mountPath: string): string {
    const slug =
        mountPath
            .replace(/[^a-z0-9]+/gi, "-")
            .replace(/^-|-$/g, "")
            .toLowerCase() || "root";
    return `writable-${slug}`.slice(0, 63).replace(/-$/, "");
}

/**
 * Spread across zones (strictly in production: a zone outage must not take every replica) and
 * across nodes (best effort, so a small cluster can still schedule).
 */
export function topologySpread(serviceName: string, zoneSpread: ZoneSpread): k8s.types.input.core.v1.TopologySpreadConstraint[] {
    const labelSelector = { matchLabels: selectorLabels(serviceName) };
    return [
        {
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: zoneSpread === "required" ? "DoNotSchedule" : "ScheduleAnyway",
            labelSelector,
        },
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector },
    ];
}

/** HPA `behavior`: scale up fast (percent or pods per period, whichever adds more), scale down slowly. */
export function hpaBehavior(scaling: ServiceConfig["scaling"]): HpaBehavior {
    return {
        scaleUp: {
            stabilizationWindowSeconds: scaling.scaleUp.stabilizationSeconds,
            selectPolicy: "Max",
            policies: [
                { type: "Percent", value: scaling.scaleUp.percent, periodSeconds: scaling.scaleUp.periodSeconds },
                { type: "Pods", value: scaling.scaleUp.pods, periodSeconds: scaling.scaleUp.periodSeconds },
            ],
        },
        scaleDown: {
            stabilizationWindowSeconds: scaling.scaleDown.stabilizationSeconds,
            selectPolicy: "Min",
            policies: [{ type: "Percent", value: scaling.scaleDown.percent, periodSeconds: scaling.scaleDown.periodSeconds }],
        },
    };
}

/** A PodDisruptionBudget only makes sense when more than one replica can exist. */
export function needsDisruptionBudget(service: ServiceConfig): boolean {
    return service.replicas.max > 1;
}

/** Pod-level hardening: non-root, runtime-default seccomp. */
export function podSecurity(): k8s.types.input.core.v1.PodSecurityContext {
    return { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } };
}

/** Container-level hardening: no privilege escalation, no capabilities, read-only root file system. */
export function containerSecurity(): k8s.types.input.core.v1.SecurityContext {
    const { allowPrivilegeEscalation, readOnlyRootFilesystem, capabilities } = hardenedContainer();
    return { allowPrivilegeEscalation, readOnlyRootFilesystem, privileged: false, capabilities };
}

/** The CA bundle ConfigMap as a volume and its read-only mount at CA_MOUNT_PATH (none without a ConfigMap). */
export function caBundle(configMap: string | undefined): { volumes: Volume[]; volumeMounts: VolumeMount[] } {
    if (!configMap) return { volumes: [], volumeMounts: [] };
    return {
        volumes: [{ name: "ca-bundle", configMap: { name: configMap } }],
        volumeMounts: [{ name: "ca-bundle", mountPath: CA_MOUNT_PATH, readOnly: true }],
    };
}

export interface PodTemplateArgs {
    /** The service's validated entry of `finbot:services`. */
    service: ServiceConfig;
    /** The image reference. */
    image: string;
    /** Whether zone spreading is strict or best effort. */
    zoneSpread: ZoneSpread;
    /** The service's own ServiceAccount. */
    serviceAccountName: string;
    /** Secrets whose keys become environment variables (secretEnv, connection settings). */
    envFromSecrets: string[];
    /**
     * ConfigMap of the CA certificates servers are verified with, mounted at CA_MOUNT_PATH.
     * @default no CA bundle
     */
    caConfigMap?: string;
    /**
     * A TLS front beside the service (lib/tlsFrontend.ts), serving the gateway with this image and the certificate in this Secret.
     * @default none (plain HTTP only)
     */
    tlsFront?: { image: string; secretName: string };
}

/** The pod spec: hardened (non-root, read-only root file system, no privilege escalation), probed. */
export function podSpec(args: PodTemplateArgs): PodSpec {
    const { service } = args;
    const ca = caBundle(args.caConfigMap);
    const httpGet = (path: string) => ({ path, port: HTTP_PORT_NAME });
    return {
        serviceAccountName: args.serviceAccountName,
        automountServiceAccountToken: false,
        priorityClassName: FINBOT_SERVICES,
        // Let in-flight requests finish: readiness fails first, then SIGTERM after the grace period.
        terminationGracePeriodSeconds: 30,
        securityContext: podSecurity(),
        topologySpreadConstraints: topologySpread(service.name, args.zoneSpread),
        containers: [
            {
                name: service.name,
                image: args.image,
                imagePullPolicy: "IfNotPresent",
                args: service.args,
                ports: [{ name: HTTP_PORT_NAME, containerPort: service.port, protocol: "TCP" }],
                env: Object.entries(service.env).map(([name, value]) => ({ name, value })),
                envFrom: args.envFromSecrets.length > 0 ? args.envFromSecrets.map((name) => ({ secretRef: { name } })) : undefined,
                resources: containerResources(service.resources),
                startupProbe: {
                    httpGet: httpGet(service.health.startup ?? service.health.liveness),
                    periodSeconds: 2,
                    failureThreshold: 30,
                },
                livenessProbe: { httpGet: httpGet(service.health.liveness), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
                readinessProbe: { httpGet: httpGet(service.health.readiness), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
                securityContext: containerSecurity(),
                volumeMounts: [
                    ...service.writablePaths.map((mountPath) => ({ name: volumeName(mountPath), mountPath })),
                    ...ca.volumeMounts,
                ],
            },
            ...(args.tlsFront ? [tlsFrontendContainer({ image: args.tlsFront.image, targetPort: service.port })] : []),
        ],
        volumes: [
            ...service.writablePaths.map((mountPath) => ({ name: volumeName(mountPath), emptyDir: { sizeLimit: "256Mi" } })),
            ...ca.volumes,
            ...(args.tlsFront ? [tlsFrontendVolume(args.tlsFront.secretName)] : []),
        ],
    };
}

/** Node selector and tolerations that put pods on a node pool. */
export interface NodePlacement {
    nodeSelector: Record<string, string>;
    tolerations: k8s.types.input.core.v1.Toleration[];
}
