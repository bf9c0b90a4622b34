// The capacity check: for each service, the throughput at maxReplicas against its peak, the
// replicas 10x peak needs, how long the HPA's behaviour takes to get there from minReplicas, and
// the node capacity those replicas request. Pure.
import { CAPACITY_FACTOR, replicasForTarget } from "../config/capacityRule";
import { parseBytes, parseCpu } from "../config/quantities";
import { ServiceConfig } from "../config/schema";

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
