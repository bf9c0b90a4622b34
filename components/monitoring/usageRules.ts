// Recording rules for right-sizing (npm run rightsize): the CPU and memory each workload's
// container uses, per Deployment rather than per pod, so that a query over 7 or 14 days reads two
// cheap series instead of joining cAdvisor with kube-state-metrics at every step. Pure.
//
// A pod is mapped to its Deployment through kube-state-metrics: kube_pod_owner (pod -> ReplicaSet)
// and kube_replicaset_owner (ReplicaSet -> Deployment). Requests are per pod, so the recorded
// value is the busiest pod's at each moment (max over the Deployment's pods), not their sum.
import { RuleGroup, selector } from "./rules";

/** The busiest pod's CPU use of a workload's container, in cores: its 5-minute rate. */
export const CPU_USAGE_SERIES = "finbot:container_cpu_usage:rate5m";
/** The busiest pod's working set of a workload's container, in bytes: its peak over the last 5 minutes. */
export const MEMORY_USAGE_SERIES = "finbot:container_memory_working_set_bytes:max5m";
/** Labels of both series. */
export const USAGE_LABELS = ["namespace", "workload", "container"] as const;

/** Which workloads and containers a usage expression covers (regex matchers for `selector`, e.g. `~api|worker`). */
export interface UsageFilter {
    /** Deployment names (the `workload` label). @default every Deployment */
    workloads?: string;
    /** Container names. @default every container */
    containers?: string;
}

/** One series per pod of a Deployment in `namespace`: `{namespace, pod, workload} 1`. */
export function podWorkload(namespace: string, filter: UsageFilter = {}): string {
    const pods = selector({ namespace, owner_kind: "ReplicaSet" });
    const replicaSets = selector({ namespace, owner_kind: "Deployment", ...(filter.workloads ? { owner_name: filter.workloads } : {}) });
    return (
        `max by (namespace, pod, workload) (` +
        `label_replace(kube_pod_owner${pods}, "replicaset", "$1", "owner_name", "(.*)") ` +
        `* on (namespace, replicaset) group_left (workload) ` +
        `max by (namespace, replicaset, workload) (label_replace(kube_replicaset_owner${replicaSets}, "workload", "$1", "owner_name", "(.*)"))` +
        `)`
    );
}

function containers(namespace: string, filter: UsageFilter): string {
    // `image` is empty on cAdvisor's cgroup totals of a pod; `container` on the pod's own cgroup.
    return selector({ namespace, container: filter.containers ?? "~.+", image: "~.+" });
}

/** The busiest pod's 5-minute CPU rate per (namespace, workload, container), in cores. */
export function cpuUsage(namespace: string, filter: UsageFilter = {}): string {
    return (
        `max by (namespace, workload, container) (` +
        `rate(container_cpu_usage_seconds_total${containers(namespace, filter)}[5m]) ` +
        `* on (namespace, pod) group_left (workload) ${podWorkload(namespace, filter)}` +
        `)`
    );
}

/** The busiest pod's peak working set over the last 5 minutes per (namespace, workload, container), in bytes. */
export function memoryUsage(namespace: string, filter: UsageFilter = {}): string {
    return (
        `max by (namespace, workload, container) (` +
        `max_over_time(container_memory_working_set_bytes${containers(namespace, filter)}[5m]) ` +
        `* on (namespace, pod) group_left (workload) ${podWorkload(namespace, filter)}` +
        `)`
    );
}

/** The recording rules of CPU_USAGE_SERIES and MEMORY_USAGE_SERIES for the apps namespace. */
export function usageRecordingRules(appsNamespace: string): RuleGroup {
    return {
        name: "finbot-usage",
        rules: [
            { record: CPU_USAGE_SERIES, expr: cpuUsage(appsNamespace) },
            { record: MEMORY_USAGE_SERIES, expr: memoryUsage(appsNamespace) },
        ],
    };
}
