// The data tier's section of summary.md: database, cache and queue topology, workers, requests.
import { formatBytes, formatCpu } from "../config/quantities";
import { PlatformConfig } from "../config/schema";
import { networkFacts } from "../lib/awsNetwork";
import { totalRequests } from "../lib/footprint";
import { table } from "../lib/markdown";
import type { DataTier } from "./dataTier";

/** `dataTier`: what the built data tier declares it runs (undefined when every part is off). */
export function dataTierSummary(config: PlatformConfig, dataTier: DataTier | undefined): string {
    const { database: db, cache, queue } = config;
    const rows: Array<Array<string | number>> = [];
    if (db.enabled) {
        rows.push(
            db.mode === "aurora"
                ? [
                      "PostgreSQL",
                      `Aurora PostgreSQL ${db.aurora.engineVersion} ${db.aurora.instanceClass}`,
                      `writer + ${db.aurora.readers.min}–${db.aurora.readers.max} readers (scaled at ${db.aurora.readers.targetCpuPercent}% CPU) over ${networkFacts(config)?.availabilityZones.join(", ")}`,
                      `RDS Proxy (TLS, read-only endpoint), encrypted, backups ${db.aurora.backupRetentionDays} d` +
                          (db.aurora.backupCopyRegion
                              ? ` copied to ${db.aurora.backupCopyRegion} (${db.aurora.backupCopyRetentionDays} d)`
                              : ""),
                  ]
                : [
                      "PostgreSQL",
                      `CloudNativePG ${config.releases.images.postgresql.split(":").pop()}`,
                      `1 primary + ${db.readReplicas} replica(s), ${db.storage} each`,
                      `PgBouncer rw + ro × ${db.pooler.instances} (transaction, pool ${db.pooler.defaultPoolSize})`,
                  ],
        );
    }
    if (cache.enabled) {
        rows.push(
            cache.mode === "elasticache"
                ? [
                      "Redis",
                      `ElastiCache ${cache.elasticache.engine} ${cache.elasticache.engineVersion} ${cache.elasticache.nodeType}`,
                      `${networkFacts(config)?.availabilityZones.length} nodes (one per zone), automatic failover`,
                      `TLS + at-rest encryption, a user per client (RBAC), ${cache.evictionPolicy}`,
                  ]
                : [
                      "Redis",
                      config.releases.images.redis,
                      `1 node, maxmemory ${cache.maxMemoryMb} MB`,
                      `${cache.evictionPolicy}, persistence ${cache.persistence ? "on" : "off"}`,
                  ],
        );
    }
    if (queue.enabled) {
        rows.push([
            "RabbitMQ",
            config.releases.images.rabbitmq,
            `${queue.replicas} node(s), ${queue.storage} each`,
            `quorum queues: ${queue.queues.map((q) => `${q.name} (max ${q.maxLength})`).join(", ") || "none"}, each with a .dlq`,
        ]);
    }
    if (rows.length === 0 || !dataTier) return "## Data tier\n\nDisabled.";
    const { requests } = dataTier.footprint;
    const total = totalRequests(requests);
    const parts = [
        "## Data tier",
        "",
        table(["part", "runs", "topology", "details"], rows),
        "",
        "Services and workers get `<name>-connections` with DATABASE_WRITER_URL, DATABASE_READER_URL, DATABASE_POOLED_URL, REDIS_URL, AMQP_URL.",
    ];
    if (config.workers.length > 0) {
        parts.push(
            "",
            table(
                ["worker", "queue", "KEDA replicas", "messages per replica"],
                config.workers.map((w) => [w.name, w.queue, `${w.replicas.min}–${w.replicas.max}`, w.messagesPerReplica]),
            ),
        );
    }
    parts.push(
        "",
        table(
            ["pods in the cluster", "count", "requests cpu / memory each"],
            requests.map((r) => [r.part, r.pods, `${r.cpu} / ${r.memory}`]),
        ),
        "",
        `Data tier requests in the cluster: ${formatCpu(total.millicores)} and ${formatBytes(total.bytes)}.`,
    );
    return parts.join("\n");
}
