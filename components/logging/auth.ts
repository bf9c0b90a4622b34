// Who may do what in Elasticsearch: a role per client, each with only what it needs, instead of
// the `elastic` superuser. Users live in ECK's file realm (one basic-auth Secret each). Pure.
import YAML from "yaml";
import { DATA_STREAM_PATTERN } from "./lifecycle";

/** Elasticsearch's users for the platform's clients: name, role, and what the role is for. */
export const ES_USERS = {
    exporter: { username: "finbot-exporter", role: "finbot_exporter" },
    lifecycle: { username: "finbot-lifecycle", role: "finbot_lifecycle" },
    logstash: { username: "finbot-logstash", role: "finbot_logstash_writer" },
    viewer: { username: "finbot-viewer", role: "finbot_log_reader" },
} as const;

export type EsClient = keyof typeof ES_USERS;

/** The roles, as `roles.yml` of the file realm. */
export function rolesYaml(): string {
    const roles = {
        // Cluster and index statistics, lifecycle and snapshot status: no document is readable.
        [ES_USERS.exporter.role]: {
            cluster: ["monitor", "read_ilm", "read_slm"],
            indices: [{ names: ["*"], privileges: ["monitor"], allow_restricted_indices: false }],
        },
        // Lifecycle policies, index templates, snapshot policies, and the snapshot repository
        // (registering one needs `manage`, which excludes security and every document).
        [ES_USERS.lifecycle.role]: {
            cluster: ["manage", "manage_ilm", "manage_index_templates", "manage_slm"],
            indices: [],
        },
        // Appends to FinBot's log data streams and nothing else.
        [ES_USERS.logstash.role]: {
            cluster: ["monitor"],
            indices: [{ names: [DATA_STREAM_PATTERN], privileges: ["create_doc", "auto_configure", "view_index_metadata"] }],
        },
        // People: read logs and traces in Discover and dashboards, change nothing.
        [ES_USERS.viewer.role]: {
            cluster: [],
            indices: [{ names: ["logs-*", "traces-apm*", "metrics-apm*"], privileges: ["read", "view_index_metadata"] }],
            applications: [
                {
                    application: "kibana-.kibana",
                    privileges: ["feature_discover.read", "feature_dashboard.read", "feature_apm.read"],
                    resources: ["space:default"],
                },
            ],
        },
    };
    return YAML.stringify(roles);
}
