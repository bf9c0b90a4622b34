// Fixed sizes of the data tier's helper pods, and what the data tier requests in all (the dev
// stack must fit a laptop: at most 1 vCPU and 2 GiB). Pure.
import { parseBytes, parseCpu } from "../config/quantities";
import { PlatformConfig } from "../config/schema";

export const CNPG_OPERATOR_RESOURCES = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } };
export const POOLER_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } };
export const EXPORTER_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } };
/** What the RabbitMQ Cluster Operator's release manifest requests (config/manager/manager.yaml). */
export const RABBITMQ_OPERATOR_REQUESTS = { cpu: "200m", memory: "500Mi" };

export interface RequestLine {
    part: string;
    pods: number;
    cpu: string;
    memory: string;
}

/** Every pod the data tier runs in the cluster, with its requests. */
export function dataTierRequests(config: PlatformConfig): RequestLine[] {
    const lines: RequestLine[] = [];
    const add = (part: string, pods: number, requests: { cpu: string; memory: string }) => {
        if (pods > 0) lines.push({ part, pods, cpu: requests.cpu, memory: requests.memory });
    };
    const { database, cache, queue } = config;
    if (database.enabled && database.mode === "in-cluster") {
        add("CloudNativePG operator", 1, CNPG_OPERATOR_RESOURCES.requests);
        add("PostgreSQL instances", 1 + database.readReplicas, database.resources.requests);
        add("PgBouncer poolers (rw + ro)", 2 * database.pooler.instances, POOLER_RESOURCES.requests);
    }
    if (database.enabled && database.mode === "rds" && config.monitoring.enabled)
        add("postgres_exporter", 1 + database.readReplicas, EXPORTER_RESOURCES.requests);
    if (cache.enabled && cache.mode === "in-cluster") add("Redis", 1, cache.resources.requests);
    if (cache.enabled && config.monitoring.enabled) add("redis_exporter", 1, EXPORTER_RESOURCES.requests);
    if (queue.enabled) {
        add("RabbitMQ Cluster Operator", 1, RABBITMQ_OPERATOR_REQUESTS);
        add("RabbitMQ nodes", queue.replicas, queue.resources.requests);
    }
    return lines;
}

export function totalRequests(lines: RequestLine[]): { millicores: number; bytes: number } {
    return lines.reduce(
        (sum, l) => ({ millicores: sum.millicores + l.pods * parseCpu(l.cpu)!, bytes: sum.bytes + l.pods * parseBytes(l.memory)! }),
        { millicores: 0, bytes: 0 },
    );
}
