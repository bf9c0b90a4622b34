// Logging pipeline: Elasticsearch health, ingest rate into FinBot's log data streams, heap, disk.
import { DashboardDefinition, FOLDER, finbotDashboard, query, statPanel, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-logging";

export function logging(namespace: string): DashboardDefinition {
    const ns = `namespace="${namespace}"`;
    const builder = finbotDashboard(UID, "FinBot / Logging pipeline")
        .withRow(new dashboard.RowBuilder("Elasticsearch"))
        .withPanel(
            statPanel(
                "Cluster status (0 green, 1 yellow, 2 red)",
                "Elasticsearch cluster health: 0 green, 1 yellow (replicas missing), 2 red (primaries missing).",
                "short",
                query(
                    `max(elasticsearch_cluster_health_status{${ns}, color="yellow"}) + 2 * max(elasticsearch_cluster_health_status{${ns}, color="red"})`,
                ),
            ),
        )
        .withPanel(
            statPanel(
                "Nodes",
                "Elasticsearch nodes in the cluster.",
                "short",
                query(`max(elasticsearch_cluster_health_number_of_nodes{${ns}})`),
            ),
        )
        .withPanel(
            statPanel(
                "Unassigned shards",
                "Shards no node holds: above zero means logs are at risk or unsearchable.",
                "short",
                query(`max(elasticsearch_cluster_health_unassigned_shards{${ns}})`),
            ),
        )
        .withPanel(
            statPanel(
                "Documents/s indexed",
                "Log documents indexed per second, all nodes.",
                "ops",
                query(`sum(rate(elasticsearch_indices_indexing_index_total{${ns}}[5m]))`),
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Documents indexed/s by node",
                "Documents indexed per second by node: one node far below the others is a hot spot.",
                "ops",
                [query(`sum by (name) (rate(elasticsearch_indices_indexing_index_total{${ns}}[$__rate_interval]))`, "{{name}}")],
            ),
        )
        .withPanel(
            timeseriesPanel("Indexing latency", "Mean time to index a document.", "s", [
                query(
                    `sum(rate(elasticsearch_indices_indexing_index_time_seconds_total{${ns}}[$__rate_interval])) / sum(rate(elasticsearch_indices_indexing_index_total{${ns}}[$__rate_interval]))`,
                    "per document",
                ),
            ]),
        )
        .withPanel(
            timeseriesPanel("Heap used", "JVM heap used per node; sustained above ~85% means long GC pauses.", "percentunit", [
                query(
                    `elasticsearch_jvm_memory_used_bytes{${ns}, area="heap"} / elasticsearch_jvm_memory_max_bytes{${ns}, area="heap"}`,
                    "{{name}}",
                ),
            ]),
        )
        .withPanel(
            timeseriesPanel(
                "Disk free",
                "Free disk per node; Elasticsearch stops allocating shards at the high watermark (90%).",
                "percentunit",
                [
                    query(
                        `elasticsearch_filesystem_data_available_bytes{${ns}} / elasticsearch_filesystem_data_size_bytes{${ns}}`,
                        "{{name}}",
                    ),
                ],
            ),
        );
    return { uid: UID, title: "FinBot / Logging pipeline", folder: FOLDER, model: builder.build() };
}
