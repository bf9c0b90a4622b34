// Alerts on the logging pipeline (Elasticsearch exporter metrics). Pure.
import { LoggingConfig } from "../config/logging";
import { RuleGroup, selector } from "../monitoring/rules";

export function elasticsearchRules(config: LoggingConfig, namespace: string): RuleGroup {
    const ns = selector({ namespace });
    const annotations = (summary: string, description: string) => ({ summary, description, runbook: "elasticsearch" as const });
    const yellow = {
        alert: "FinbotElasticsearchClusterYellow",
        expr: `max(elasticsearch_cluster_health_status${selector({ namespace, color: "yellow" })}) == 1`,
        for: "30m",
        labels: { severity: "ticket" },
        annotations: annotations("Elasticsearch cluster is yellow", "Replica shards are unassigned: one more node failure loses data."),
    };
    return {
        name: "finbot-elasticsearch",
        rules: [
            {
                alert: "FinbotElasticsearchClusterRed",
                expr: `max(elasticsearch_cluster_health_status${selector({ namespace, color: "red" })}) == 1`,
                for: "5m",
                labels: { severity: "page" },
                annotations: annotations(
                    "Elasticsearch cluster is red",
                    "A primary shard is unassigned: some logs cannot be written or searched.",
                ),
            },
            // With a single node, replica shards can never be assigned: yellow is the normal state.
            ...(config.elasticsearch.nodes > 1 ? [yellow] : []),
            {
                alert: "FinbotElasticsearchTooFewNodes",
                expr: `max(elasticsearch_cluster_health_number_of_nodes${ns}) < ${config.elasticsearch.nodes} or absent(elasticsearch_cluster_health_number_of_nodes${ns})`,
                for: "10m",
                labels: { severity: config.elasticsearch.nodes > 1 ? "page" : "ticket" },
                annotations: annotations(
                    `Fewer than ${config.elasticsearch.nodes} Elasticsearch nodes`,
                    "A node is missing (or the exporter cannot reach the cluster).",
                ),
            },
            {
                alert: "FinbotElasticsearchHeapHigh",
                expr: `max by (name) (elasticsearch_jvm_memory_used_bytes${selector({ namespace, area: "heap" })} / elasticsearch_jvm_memory_max_bytes${selector({ namespace, area: "heap" })}) > 0.9`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: annotations(
                    "Elasticsearch heap above 90%",
                    "Node {{ $labels.name }} is close to OutOfMemory and long GC pauses.",
                ),
            },
            {
                alert: "FinbotElasticsearchDiskWatermark",
                expr: `min by (name) (elasticsearch_filesystem_data_available_bytes${ns} / elasticsearch_filesystem_data_size_bytes${ns}) < 0.15`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: annotations(
                    "Elasticsearch disk past the high watermark soon",
                    "Node {{ $labels.name }} has under 15% disk free: at 10% (high watermark) shards move away, at 5% indices go read-only. Shorten retention or grow the volume.",
                ),
            },
        ],
    };
}
