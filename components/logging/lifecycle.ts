// Log retention as Elasticsearch itself enforces it: an index lifecycle policy (rollover, then
// delete after the configured days) attached to FinBot's log data streams and to the RUM page
// loads APM Server writes. Applied by an idempotent Job (see Logging). Pure.
import { LoggingConfig } from "../config/logging";

export const LIFECYCLE_POLICY = "finbot-logs";
export const INDEX_TEMPLATE = "finbot-logs";
/** The data streams Logstash writes: logs-finbot-<environment>. */
export const DATA_STREAM_PATTERN = "logs-finbot-*";

export function ilmPolicy(logging: LoggingConfig): Record<string, unknown> {
    return {
        policy: {
            _meta: { managed_by: "finbot platform (pulumi)" },
            phases: {
                hot: {
                    min_age: "0ms",
                    actions: {
                        rollover: { max_age: logging.rollover.maxAge, max_primary_shard_size: logging.rollover.maxPrimaryShardSize },
                        set_priority: { priority: 100 },
                    },
                },
                delete: { min_age: `${logging.retentionDays}d`, actions: { delete: {} } },
            },
        },
    };
}

export function indexTemplate(logging: LoggingConfig): Record<string, unknown> {
    return {
        index_patterns: [DATA_STREAM_PATTERN],
        data_stream: {},
        // Above the built-in logs-*-* template (priority 100), so FinBot's retention applies.
        priority: 200,
        composed_of: ["logs@mappings", "logs@settings", "ecs@mappings"],
        template: {
            settings: {
                "index.lifecycle.name": LIFECYCLE_POLICY,
                "index.number_of_replicas": logging.elasticsearch.nodes > 1 ? 1 : 0,
            },
        },
        _meta: { managed_by: "finbot platform (pulumi)", retention_days: logging.retentionDays },
    };
}

/** The data stream APM Server writes browsers' page loads to (RUM transactions). */
const RUM_DATA_STREAM = "traces-apm.rum";

/**
 * The `@custom` component template APM's own index template composes for RUM: it puts real
 * users' page loads under FinBot's lifecycle policy, so they are kept as long as the logs.
 */
export function rumRetentionTemplate(logging: LoggingConfig): Record<string, unknown> {
    return {
        template: { settings: { "index.lifecycle.name": LIFECYCLE_POLICY } },
        _meta: { managed_by: "finbot platform (pulumi)", retention_days: logging.retentionDays },
    };
}

export const SNAPSHOT_REPOSITORY = "finbot-snapshots";
export const SNAPSHOT_POLICY = "finbot-daily";
/** Where a single-node cluster keeps snapshots when there is no object store (a volume of its own). */
export const FS_SNAPSHOT_PATH = "/usr/share/elasticsearch/snapshots";

/** Where snapshots go: an S3 bucket (production), or a volume of the only node (a laptop). */
export type SnapshotTarget = { type: "s3"; bucket: string } | { type: "fs" };

export function snapshotRepository(target: SnapshotTarget): Record<string, unknown> {
    return target.type === "s3"
        ? { type: "s3", settings: { bucket: target.bucket, base_path: "logs", server_side_encryption: true } }
        : { type: "fs", settings: { location: FS_SNAPSHOT_PATH } };
}

/** A snapshot of FinBot's logs every night, kept as long as the logs themselves. */
export function snapshotPolicy(logging: LoggingConfig): Record<string, unknown> {
    return {
        schedule: "0 30 1 * * ?",
        name: "<finbot-logs-{now/d}>",
        repository: SNAPSHOT_REPOSITORY,
        config: { indices: [DATA_STREAM_PATTERN], include_global_state: false, ignore_unavailable: true },
        retention: { expire_after: `${logging.retentionDays}d`, min_count: 3, max_count: logging.retentionDays + 7 },
    };
}

/** The requests the Job makes: method, API path, body file. */
export const LIFECYCLE_REQUESTS = [
    { method: "PUT", path: `/_ilm/policy/${LIFECYCLE_POLICY}`, file: "ilm-policy.json" },
    { method: "PUT", path: `/_index_template/${INDEX_TEMPLATE}`, file: "index-template.json" },
    { method: "PUT", path: `/_snapshot/${SNAPSHOT_REPOSITORY}`, file: "snapshot-repository.json" },
    { method: "PUT", path: `/_slm/policy/${SNAPSHOT_POLICY}`, file: "snapshot-policy.json" },
    { method: "PUT", path: `/_component_template/${RUM_DATA_STREAM}@custom`, file: "rum-retention.json" },
] as const;

/** Shell script of the Job: waits for Elasticsearch, then applies every request (PUTs are idempotent) as the lifecycle user. */
export function lifecycleScript(esUrl: string): string {
    const curl = 'curl -fsS --cacert /es-ca/ca.crt -u "${ES_USER}:${ES_PASSWORD}" -H "Content-Type: application/json"';
    return [
        "set -eu",
        `until ${curl} "${esUrl}/_cluster/health?wait_for_status=yellow&timeout=30s" >/dev/null; do echo "waiting for Elasticsearch"; sleep 10; done`,
        ...LIFECYCLE_REQUESTS.map((r) => `${curl} -X ${r.method} "${esUrl}${r.path}" --data-binary @/requests/${r.file}; echo`),
    ].join("\n");
}
