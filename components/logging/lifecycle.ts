// Log retention as Elasticsearch itself enforces it: an index lifecycle policy (rollover, then
// delete after the configured days) and an index template that attaches it to FinBot's log data
// streams. Applied by an idempotent Job (see Logging). Pure.
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

/** The requests the Job makes: method, API path, body file. */
export const LIFECYCLE_REQUESTS = [
    { method: "PUT", path: `/_ilm/policy/${LIFECYCLE_POLICY}`, file: "ilm-policy.json" },
    { method: "PUT", path: `/_index_template/${INDEX_TEMPLATE}`, file: "index-template.json" },
] as const;

/** Shell script of the Job: waits for Elasticsearch, then applies every request (PUTs are idempotent). */
export function lifecycleScript(esUrl: string): string {
    const curl = 'curl -fsS --cacert /es-ca/ca.crt -u "elastic:${ELASTIC_PASSWORD}" -H "Content-Type: application/json"';
    return [
        "set -eu",
        `until ${curl} "${esUrl}/_cluster/health?wait_for_status=yellow&timeout=30s" >/dev/null; do echo "waiting for Elasticsearch"; sleep 10; done`,
        ...LIFECYCLE_REQUESTS.map((r) => `${curl} -X ${r.method} "${esUrl}${r.path}" --data-binary @/requests/${r.file}; echo`),
    ].join("\n");
}
