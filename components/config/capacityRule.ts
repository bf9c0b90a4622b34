// The seed's success metric as a config rule: in production every public service must be able to
// serve 10x its expected peak at maxReplicas.
import { isNumber } from "./primitives";

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
