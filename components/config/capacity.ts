// Capacity arithmetic, in one place: the seed's success metric (every public service serves 10x its
// expected peak at maxReplicas), the pods and nodes that 10x needs against the Karpenter pools, the
// database's connections and reads at 10x, and the per-service capacity report with the HPA's
// scale-up time. The config checks, Karpenter, the node pools and the plan's summary all read it.
// Pure; the assumptions are named constants (docs/capacity.md states them).
import type { ClusterConfig } from "./cluster";
import { isNumber } from "./primitives";
import { parseBytes, parseCpu } from "./quantities";
import type { PlatformConfig, ServiceConfig } from "./schema";

// ---- The 10x check per service ----
// The seed's success metric as a config rule: in production every public service must be able to
// serve 10x its expected peak at maxReplicas.

export const CAPACITY_FACTOR = 10;

/** The replicas serving CAPACITY_FACTOR x `peak` at `perPod` requests/s each (may exceed maxReplicas). */
export function replicasForTarget(capacity: { peakRequestsPerSecond: number; requestsPerSecondPerPod: number }): number {
    return Math.ceil((CAPACITY_FACTOR * capacity.peakRequestsPerSecond) / capacity.requestsPerSecondPerPod);
}

/** Why a service fails the 10x check, or undefined (also when it has no capacity facts). */
export function capacityProblem(service: unknown): string | undefined {
    const s = service as {
        name?: unknown;
        replicas?: { max?: unknown };
        capacity?: { requestsPerSecondPerPod?: unknown; peakRequestsPerSecond?: unknown };
    };
    const max = s?.replicas?.max;
    const perPod = s?.capacity?.requestsPerSecondPerPod;
    const peak = s?.capacity?.peakRequestsPerSecond;
    if (!isNumber(max) || !isNumber(perPod) || !isNumber(peak)) return undefined;
    const throughput = max * perPod;
    if (throughput >= CAPACITY_FACTOR * peak) return undefined;
    const needed = replicasForTarget({ peakRequestsPerSecond: peak, requestsPerSecondPerPod: perPod });
    return (
        `enough replicas for ${CAPACITY_FACTOR}x peak: ${max} replicas x ${perPod} req/s = ${throughput} req/s is ` +
        `${Number((throughput / peak).toFixed(2))}x the peak of ${peak} req/s; ${needed} replicas are needed`
    );
}

// ---- The nodes at 10x ----
// The 10x check at the node level: the pods FinBot's services and workers need at 10x peak, and
// the platform's own, against what the Karpenter pools may grow to. Pure; the assumptions are
// named constants (docs/capacity.md states them).

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

/** What the TLS front beside each public service's pod requests (lib/tlsFrontend.ts, ghostunnel). */
export const TLS_FRONT_REQUESTS = { cpu: "10m", memory: "16Mi" };

/** Whether a service runs a TLS front beside it: a public one, which the gateway reaches (traffic on). */
export const hasTlsFront = (service: { public: boolean }, trafficEnabled: boolean): boolean => service.public && trafficEnabled;

/** A pod's requests with its TLS front's added. */
function podWithFront(requests: { cpu: string; memory: string }): { cpu: string; memory: string } {
    return {
        cpu: `${parseCpu(requests.cpu)! + parseCpu(TLS_FRONT_REQUESTS.cpu)!}m`,
        memory: `${(parseBytes(requests.memory)! + parseBytes(TLS_FRONT_REQUESTS.memory)!) / 1024 ** 2}Mi`,
    };
}

/**
 * FinBot's pods at 10x peak: each service (and its canary) at the replicas 10x needs, capped at
 * maxReplicas (at maxReplicas when it declares no capacity), with the TLS front a public one runs
 * beside it behind the gateway; each worker at maxReplicas.
 */
export function servicesAtTenTimes(config: Pick<PlatformConfig, "services" | "workers"> & { traffic?: { enabled: boolean } }): PodLine[] {
    const services = config.services.flatMap((s) => {
        const pods = Math.min(s.capacity ? replicasForTarget(s.capacity) : Infinity, s.replicas.max);
        // The TLS front is a container of the same pod: its requests add to the pod's.
        const requests = hasTlsFront(s, config.traffic?.enabled !== false) ? podWithFront(s.resources.requests) : s.resources.requests;
        return [s.name, ...(s.canary ? [`${s.name}-canary`] : [])].map((name) => ({ part: `service ${name}`, pods, ...requests }));
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

// ---- The database at 10x ----
// The database at 10x (Aurora): client connections FinBot's pods open against what RDS Proxy may
// open to the writer and the readers, and read queries against what the readers serve at their
// maximum count. Pure; the assumptions are named constants (docs/capacity.md states them).

/** Connections each of FinBot's pods keeps in its pool (RDS Proxy multiplexes them onto fewer backends). */
export const CONNECTIONS_PER_POD = 10;
/** RDS Proxy's share of an instance's max_connections (its `maxConnectionsPercent`). */
export const PROXY_CONNECTIONS_PERCENT = 90;
/** Memory of the Aurora instance classes, GiB: max_connections follows it. */
const INSTANCE_MEMORY_GIB: Record<string, number> = { large: 16, xlarge: 32, "2xlarge": 64, "4xlarge": 128, "8xlarge": 256 };

/** Aurora PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000), for r-class instances. */
export function auroraMaxConnections(instanceClass: string): number | undefined {
    const size = /^db\.r\dg?d?\.(\w+)$/.exec(instanceClass)?.[1];
    const gib = size ? INSTANCE_MEMORY_GIB[size] : undefined;
    return gib === undefined ? undefined : Math.min(Math.floor((gib * 1024 ** 3) / 9531392), 5000);
}

export interface DatabaseAtTenTimes {
    /** Pods using the database at 10x, and the client connections they open. */
    pods: number;
    clientConnections: number;
    /** Backend connections RDS Proxy may open: to the writer, and to all readers at their maximum. */
    writerBackends: number;
    readerBackends: number;
    /** Read queries/s at 10x (undefined when no service declares its reads per request). */
    readQueriesPerSecond?: number;
    /** What the readers serve at their maximum count (undefined when not measured). */
    readerQueriesPerSecond?: number;
    /** Readers that 10x needs (undefined without both numbers). */
    readersNeeded?: number;
}

/** Read queries/s at 10x peak of the services that declare their reads per request (undefined when none does). */
export function readQueriesAtTenTimes(
    services: Array<{ capacity?: { peakRequestsPerSecond?: unknown; readQueriesPerRequest?: unknown } }>,
): number | undefined {
    const declared = services.flatMap((s) => {
        const { peakRequestsPerSecond: peak, readQueriesPerRequest: reads } = s.capacity ?? {};
        return typeof peak === "number" && typeof reads === "number" ? [CAPACITY_FACTOR * peak * reads] : [];
    });
    return declared.length > 0 ? declared.reduce((q, r) => q + r, 0) : undefined;
}

/** Undefined unless the database is Aurora with a known instance class. */
export function databaseAtTenTimes(config: Pick<PlatformConfig, "database" | "services" | "workers">): DatabaseAtTenTimes | undefined {
    const db = config.database;
    if (!db.enabled || db.mode !== "aurora") return undefined;
    const maxConnections = auroraMaxConnections(db.aurora.instanceClass);
    if (maxConnections === undefined) return undefined;
    const users = new Set(
        [...config.services, ...config.workers].filter((c) => (c.uses?.database ?? "none") !== "none").map((c) => c.name),
    );
    const lines = servicesAtTenTimes(config).filter((l) => users.has(l.part.replace(/^(service|worker) /, "").replace(/-canary$/, "")));
    const pods = lines.reduce((n, l) => n + l.pods, 0);
    const backends = Math.floor((maxConnections * PROXY_CONNECTIONS_PERCENT) / 100);
    const readQueriesPerSecond = readQueriesAtTenTimes(config.services.filter((s) => users.has(s.name)));
    const perReader = db.aurora.readQueriesPerSecondPerReader;
    return {
        pods,
        clientConnections: pods * CONNECTIONS_PER_POD,
        writerBackends: backends,
        readerBackends: backends * db.aurora.readers.max,
        readQueriesPerSecond,
        readerQueriesPerSecond: perReader === undefined ? undefined : perReader * db.aurora.readers.max,
        readersNeeded:
            perReader === undefined || readQueriesPerSecond === undefined ? undefined : Math.ceil(readQueriesPerSecond / perReader),
    };
}

// ---- The capacity report per service ----
// The capacity check: for each service, the throughput at maxReplicas against its peak, the
// replicas 10x peak needs, how long the HPA's behaviour takes to get there from minReplicas, and
// the node capacity those replicas request. Pure.

/** HPA controller sync period: the first scale-up decision comes at most this late. */
export const HPA_SYNC_SECONDS = 15;

export interface CapacityReport {
    service: string;
    perPod: number;
    peak: number;
    maxThroughput: number;
    /** maxThroughput / peak. */
    ratio: number;
    meetsTarget: boolean;
    /** Replicas needed to serve CAPACITY_FACTOR x peak (may exceed maxReplicas). */
    replicasFor10x: number;
    /** Seconds from minReplicas to replicasFor10x (or to maxReplicas when that is lower). */
    scaleUpSeconds: number;
    /** Scale-up periods that takes. */
    scaleUpSteps: number;
    /** Requests of replicasFor10x pods. */
    cpuMillicores: number;
    memoryBytes: number;
}

/**
 * Walks the HPA scale-up behaviour: each period the replica count may grow by the larger (Max)
 * of `percent` and `pods`, capped at maxReplicas; the first change waits for the stabilization
 * window and the controller's sync. Metric collection lag (scrape interval, metrics-server) comes
 * on top and is not modelled.
 */
export function scaleUpTime(service: ServiceConfig, target: number): { seconds: number; steps: number } {
    const { scaleUp } = service.scaling;
    const goal = Math.min(target, service.replicas.max);
    let replicas = service.replicas.min;
    let steps = 0;
    while (replicas < goal) {
        const byPercent = Math.ceil(replicas * (1 + scaleUp.percent / 100));
        const byPods = replicas + scaleUp.pods;
        replicas = Math.min(Math.max(byPercent, byPods), service.replicas.max);
        steps++;
    }
    if (steps === 0) return { seconds: 0, steps: 0 };
    return { seconds: HPA_SYNC_SECONDS + scaleUp.stabilizationSeconds + (steps - 1) * scaleUp.periodSeconds, steps };
}

export function capacityReport(service: ServiceConfig): CapacityReport | undefined {
    if (!service.capacity) return undefined;
    const { requestsPerSecondPerPod: perPod, peakRequestsPerSecond: peak } = service.capacity;
    const maxThroughput = service.replicas.max * perPod;
    const replicasFor10x = replicasForTarget(service.capacity);
    const { seconds, steps } = scaleUpTime(service, replicasFor10x);
    const pods = Math.min(replicasFor10x, service.replicas.max);
    return {
        service: service.name,
        perPod,
        peak,
        maxThroughput,
        ratio: maxThroughput / peak,
        meetsTarget: maxThroughput >= CAPACITY_FACTOR * peak,
        replicasFor10x,
        scaleUpSeconds: seconds,
        scaleUpSteps: steps,
        cpuMillicores: pods * parseCpu(service.resources.requests.cpu)!,
        memoryBytes: pods * parseBytes(service.resources.requests.memory)!,
    };
}
