// Alerts on the data tier, created when the part is enabled. Pure.
import { CacheConfig, DatabaseConfig, QueueConfig } from "../config/data";
import { RuleGroup, selector } from "../monitoring/rules";

/** PostgreSQL: CloudNativePG's exporter in the cluster, postgres_exporter on Aurora's writer and reader endpoints. */
export function databaseRules(config: DatabaseConfig, namespace: string): RuleGroup {
    const slowSeconds = config.slowQueryMs / 1000;
    const inCluster = config.mode === "in-cluster";
    const ns = selector({ namespace });
    const up = inCluster ? `cnpg_collector_up${ns}` : `pg_up${ns}`;
    // Aurora's from aurora_replica_status() (the exporter's replication collector fails there).
    const lag = inCluster ? `cnpg_pg_replication_lag${ns}` : `aurora_replica_lag_seconds${ns}`;
    const meanTime = inCluster
        ? `sum by (datname, queryid) (rate(cnpg_pg_stat_statements_total_exec_seconds${ns}[10m])) / sum by (datname, queryid) (rate(cnpg_pg_stat_statements_calls${ns}[10m]))`
        : `sum by (datname, queryid) (rate(pg_stat_statements_seconds_total${ns}[10m])) / sum by (datname, queryid) (rate(pg_stat_statements_calls_total${ns}[10m]))`;
    const connections = inCluster
        ? `sum by (pod) (cnpg_backends_total${ns}) / max by (pod) (cnpg_pg_settings_setting${selector({ namespace, name: "max_connections" })})`
        : `sum by (aurora_endpoint) (pg_stat_database_numbackends${ns}) / max by (aurora_endpoint) (pg_settings_max_connections${ns})`;
    return {
        name: "finbot-postgresql",
        rules: [
            {
                alert: "FinbotPostgresDown",
                // Also when the series is gone (the instance and its exporter vanished together).
                expr: `${up} == 0 or absent(${up})`,
                for: "2m",
                labels: { severity: "page" },
                annotations: {
                    summary: "PostgreSQL {{ $labels.pod }}{{ $labels.aurora_endpoint }} is down",
                    description: "The exporter cannot reach PostgreSQL, or no exporter reports at all.",
                    runbook: "postgresql" as const,
                },
            },
            {
                alert: "FinbotPostgresReplicationLag",
                expr: `${lag} > 30`,
                for: "5m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Read replica {{ $labels.pod }}{{ $labels.server_id }} is more than 30s behind the primary",
                    description: "Readers see stale data: {{ $value | humanizeDuration }} behind.",
                    runbook: "postgresql" as const,
                },
            },
            {
                alert: "FinbotPostgresConnectionsHigh",
                expr: `${connections} > 0.8`,
                for: "10m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "PostgreSQL connections above 80% of max_connections",
                    description: "Clients should connect through the pooler (DATABASE_POOLED_URL).",
                    runbook: "postgresql" as const,
                },
            },
            {
                alert: "FinbotPostgresSlowQueries",
                expr: `(${meanTime}) > ${slowSeconds}`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: `Queries averaging over ${config.slowQueryMs} ms`,
                    description:
                        "Query {{ $labels.queryid }} in {{ $labels.datname }} averages {{ $value | humanizeDuration }}; see the PostgreSQL dashboard and the slow-query log.",
                    runbook: "postgresql" as const,
                },
            },
        ],
    };
}

/** Keys that never expire (redis_exporter's redis_db_keys less redis_db_keys_expiring, from INFO keyspace). */
export const KEYS_WITHOUT_EXPIRY = "cache:keys_without_expiry:sum";
/** Keys without expiry that may appear in an hour before a ticket: a consumer caching without a TTL. */
export const KEYS_WITHOUT_EXPIRY_GROWTH_PER_HOUR = 1000;

/** Redis (in the cluster or ElastiCache, both through redis_exporter). */
export function cacheRules(_config: CacheConfig, namespace: string): RuleGroup {
    const ns = selector({ namespace });
    return {
        name: "finbot-redis",
        rules: [
            // Cached data outliving its truth: every key of FinBot's cache should expire.
            {
                record: KEYS_WITHOUT_EXPIRY,
                expr: `sum by (namespace) (redis_db_keys${ns}) - sum by (namespace) (redis_db_keys_expiring${ns})`,
            },
            {
                alert: "FinbotCacheKeysWithoutExpiryGrowing",
                expr: `delta(${KEYS_WITHOUT_EXPIRY}${ns}[1h]) > ${KEYS_WITHOUT_EXPIRY_GROWTH_PER_HOUR}`,
                for: "30m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Keys without expiry grow in Redis: {{ $value }} more in an hour",
                    description:
                        "A consumer writes cache entries without a TTL: they outlive the data they copy (stale reads) and fill maxmemory until eviction picks victims.",
                    runbook: "redis" as const,
                },
            },
            {
                alert: "FinbotRedisDown",
                expr: `redis_up${ns} == 0 or absent(redis_up${ns})`,
                for: "2m",
                labels: { severity: "page" },
                annotations: {
                    summary: "Redis is down",
                    description: "Sessions and cached queries are unavailable.",
                    runbook: "redis" as const,
                },
            },
            {
                alert: "FinbotRedisMemoryHigh",
                expr: `redis_memory_used_bytes${ns} / (redis_memory_max_bytes${ns} > 0) > 0.9`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Redis uses over 90% of maxmemory",
                    description: "Keys are being evicted soon; raise finbot:cache.maxMemoryMb or shorten TTLs.",
                    runbook: "redis" as const,
                },
            },
            {
                alert: "FinbotRedisEvictingKeys",
                expr: `increase(redis_evicted_keys_total${ns}[15m]) > 100`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Redis evicts keys",
                    description: "{{ $value }} keys evicted in 15 minutes: sessions may be lost and the cache hit rate drops.",
                    runbook: "redis" as const,
                },
            },
            {
                alert: "FinbotRedisRejectedConnections",
                expr: `increase(redis_rejected_connections_total${ns}[5m]) > 0`,
                for: "5m",
                labels: { severity: "ticket" },
                annotations: { summary: "Redis rejects connections", description: "maxclients reached.", runbook: "redis" as const },
            },
        ],
    };
}

/** RabbitMQ: node alarms, missing nodes, queues backing up, dead letters. */
export function queueRules(config: QueueConfig, namespace: string): RuleGroup {
    const ns = selector({ namespace });
    return {
        name: "finbot-rabbitmq",
        rules: [
            {
                alert: "FinbotRabbitMQNodesMissing",
                expr: `count(rabbitmq_identity_info${ns}) < ${config.replicas} or absent(rabbitmq_identity_info${ns})`,
                for: "5m",
                labels: { severity: "page" },
                annotations: {
                    summary: `Fewer than ${config.replicas} RabbitMQ nodes are up`,
                    description: "Quorum queues lose availability when a majority of nodes is gone.",
                    runbook: "rabbitmq" as const,
                },
            },
            {
                alert: "FinbotRabbitMQResourceAlarm",
                expr: `max by (instance) (rabbitmq_alarms_memory_used_watermark${ns} + rabbitmq_alarms_free_disk_space_watermark${ns}) > 0`,
                for: "2m",
                labels: { severity: "page" },
                annotations: {
                    summary: "RabbitMQ blocks publishers (memory or disk alarm)",
                    description: "{{ $labels.instance }} raised a resource alarm: publishers are blocked.",
                    runbook: "rabbitmq" as const,
                },
            },
            {
                alert: "FinbotQueueBacklogGrowing",
                expr: `(rabbitmq_queue_messages_ready${ns} > 1000) and (deriv(rabbitmq_queue_messages_ready${ns}[15m]) > 0)`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Queue {{ $labels.queue }} keeps growing",
                    description: "{{ $value }} ready messages and rising for 15 minutes: workers are at their maximum or failing.",
                    runbook: "rabbitmq" as const,
                },
            },
            {
                alert: "FinbotDeadLetters",
                expr: `rabbitmq_queue_messages_ready${selector({ namespace, queue: "~.+\\.dlq" })} > 0`,
                for: "10m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Messages dead-lettered into {{ $labels.queue }}",
                    description: "Messages failed their delivery limit; inspect and replay them.",
                    runbook: "rabbitmq" as const,
                },
            },
        ],
    };
}
