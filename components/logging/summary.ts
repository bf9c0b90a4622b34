// The logging section of summary.md: sizes and retention.
import { formatBytes, formatCpu } from "../config/quantities";
import { stackDefaults } from "../config/resolve";
import { PlatformConfig } from "../config/schema";
import { totalRequests } from "../lib/footprint";
import { table } from "../lib/markdown";
import type { Logging } from "./logging";

export function loggingSummary(config: PlatformConfig, logging: Logging | undefined): string {
    const l = config.logging;
    if (!logging) return "## Logging\n\nDisabled (`finbot:logging.enabled: false`).";
    const { millicores: cpu, bytes: memory } = totalRequests(logging.footprint.requests);
    const tracking = config.errorTracking;
    return [
        `## Logging (ECK ${config.releases.charts["eck-operator"]}, Elastic Stack ${config.releases.elasticStack})`,
        "",
        table(
            ["part", "replicas", "requests cpu / memory", "details"],
            [
                [
                    "Elasticsearch",
                    l.elasticsearch.nodes,
                    `${l.elasticsearch.resources.requests.cpu} / ${l.elasticsearch.resources.requests.memory}`,
                    `heap ${l.elasticsearch.heapMb} MB, ${l.elasticsearch.storage} elasticsearch-data${stackDefaults(config).production ? ", zone-aware" : ""}`,
                ],
                ["Kibana", l.kibana.replicas, `${l.kibana.resources.requests.cpu} / ${l.kibana.resources.requests.memory}`, ""],
                [
                    "Logstash",
                    l.logstash.replicas,
                    `${l.logstash.resources.requests.cpu} / ${l.logstash.resources.requests.memory}`,
                    `heap ${l.logstash.heapMb} MB, JSON → logs-finbot-${config.environment}`,
                ],
                [
                    "Filebeat",
                    "one per node",
                    `${l.filebeat.resources.requests.cpu} / ${l.filebeat.resources.requests.memory}`,
                    "Kubernetes autodiscover",
                ],
                ...(l.apm.enabled
                    ? [
                          [
                              "APM Server",
                              l.apm.replicas,
                              `${l.apm.resources.requests.cpu} / ${l.apm.resources.requests.memory}`,
                              "secret token to every service",
                          ],
                      ]
                    : []),
            ],
        ),
        "",
        `Retention: ${l.retentionDays} days (rollover at ${l.rollover.maxAge} or ${l.rollover.maxPrimaryShardSize} per primary shard). ` +
            `Elasticsearch, Kibana, Logstash and APM request ${formatCpu(cpu)} and ${formatBytes(memory)}.`,
        "",
        `Error tracking: ${tracking.enabled ? (tracking.authToken ? `Sentry projects per service in ${tracking.organization}/${tracking.team}` : "Sentry, one DSN") : "off"}.`,
    ].join("\n");
}
