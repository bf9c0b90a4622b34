// The 10x check at the node level: the pods FinBot's services and workers need at 10x peak, and
// the platform's own, against what the Karpenter pools may grow to. Pure; the assumptions are
// named constants (docs/capacity.md states them).
import { replicasForTarget } from "./capacityRule";
import type { ClusterConfig } from "./cluster";
import { parseBytes, parseCpu } from "./quantities";
import type { PlatformConfig } from "./schema";

/** Karpenter's pools: on-demand for the platform, spot and on-demand for FinBot's services and workers. */
export type PoolName = "platform" | "services";

/** Pods of one part and the requests of each. */
export interface PodLine {
    part: string;
    pods: number;
    cpu: string;
    memory: string;
}

const GI = 1024 ** 3;

/** The node size the estimate counts in (an m-class 2xlarge); Karpenter picks sizes freely, the limit counts capacity. */
export const ASSUMED_NODE = { millicores: 8000, bytes: 32 * GI } as const;
/** Share of a node's capacity pods can request: kubelet and system reserve, eviction threshold, bin-packing slack. */
export const SCHEDULABLE_SHARE = 0.85;
/** Requests of the EKS add-ons on every node (VPC CNI, kube-proxy, EBS CSI node, Pod Identity agent). */
export const ADDONS_PER_NODE = { millicores: 150, bytes: 256 * 1024 ** 2 } as const;

export interface PoolFit {
    pool: PoolName;
    /** Pods the pool must hold (daemon pods aside). */
    pods: number;
    /** Their requests. */
    millicores: number;
    bytes: number;
    /** Nodes of ASSUMED_NODE size those pods need, with each node's daemons and add-ons. */
    nodes: number;
    /** The pool's limits. */
    limitMillicores: number;
    limitBytes: number;
    fits: boolean;
}

type Quantity = { millicores: number; bytes: number };

/** Requests of the pods every node runs: Filebeat and the add-ons (node-exporter declares none). */
export function perNodeRequests(config: Pick<PlatformConfig, "logging">): Quantity {
    const filebeat = config.logging.enabled ? config.logging.filebeat.resources.requests : undefined;
    return {
        millicores: ADDONS_PER_NODE.millicores + (filebeat ? parseCpu(filebeat.cpu)! : 0),
        bytes: ADDONS_PER_NODE.bytes + (filebeat ? parseBytes(filebeat.memory)! : 0),
    };
}

/**
 * FinBot's pods at 10x peak: each service (and its canary) at the replicas 10x needs, capped at
 * maxReplicas (at maxReplicas when it declares no capacity), each worker at maxReplicas.
 */
export function servicesAtTenTimes(config: Pick<PlatformConfig, "services" | "workers">): PodLine[] {
    const services = config.services.flatMap((s) => {
        const pods = Math.min(s.capacity ? replicasForTarget(s.capacity) : Infinity, s.replicas.max);
        const line = { pods, ...s.resources.requests };
        return s.canary
            ? [
                  { part: `service ${s.name}`, ...line },
                  { part: `service ${s.name}-canary`, ...line },
              ]
            : [{ part: `service ${s.name}`, ...line }];
    });
    const workers = config.workers.map((w) => ({ part: `worker ${w.name}`, pods: w.replicas.max, ...w.resources.requests }));
    return [...services, ...workers];
}

/** Whether the lines fit under a pool's limits, counted in assumed nodes with their per-node pods. */
export function poolFit(pool: PoolName, limits: ClusterConfig["platformPool"], lines: PodLine[], perNode: Quantity): PoolFit {
    const pods = lines.reduce((n, l) => n + l.pods, 0);
    const millicores = lines.reduce((n, l) => n + l.pods * (parseCpu(l.cpu) ?? 0), 0);
    const bytes = lines.reduce((n, l) => n + l.pods * (parseBytes(l.memory) ?? 0), 0);
    const room = {
        millicores: ASSUMED_NODE.millicores * SCHEDULABLE_SHARE - perNode.millicores,
        bytes: ASSUMED_NODE.bytes * SCHEDULABLE_SHARE - perNode.bytes,
    };
    const nodes = pods === 0 ? 0 : Math.ceil(Math.max(millicores / room.millicores, bytes / room.bytes));
    const limitMillicores = limits.cpuLimit * 1000;
    const limitBytes = limits.memoryLimitGi * GI;
    return {
        pool,
        pods,
        millicores,
        bytes,
        nodes,
        limitMillicores,
        limitBytes,
        fits: nodes * ASSUMED_NODE.millicores <= limitMillicores && nodes * ASSUMED_NODE.bytes <= limitBytes,
    };
}

/** Why a pool does not fit, in one line with its numbers; undefined when it does. */
export function poolProblem(fit: PoolFit, what: string): string | undefined {
    if (fit.fits) return undefined;
    const gi = (b: number) => Math.round(b / GI);
    return (
        `room for ${what}: ${fit.pods} pods requesting ${fit.millicores / 1000} vCPU / ${gi(fit.bytes)} GiB need ${fit.nodes} nodes ` +
        `of ${ASSUMED_NODE.millicores / 1000} vCPU / ${gi(ASSUMED_NODE.bytes)} GiB (${(fit.nodes * ASSUMED_NODE.millicores) / 1000} vCPU / ` +
        `${gi(fit.nodes * ASSUMED_NODE.bytes)} GiB), over the ${fit.pool} pool's limits of ${fit.limitMillicores / 1000} vCPU / ${gi(fit.limitBytes)} GiB`
    );
}
