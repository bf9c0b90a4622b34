// The monitoring section of the plan's summary.md: sizes, alert rules by severity, dashboards.
import { defaultRetentionSize } from "../config/monitoring";
import { PlatformConfig } from "../config/schema";
import { table } from "../lib/markdown";
import type { Monitoring } from "./monitoring";
import { isAlert } from "./rules";

/** `monitoring`: the built component, with the rule groups and dashboards it serves. */
export function monitoringSummary(config: PlatformConfig, monitoring: Monitoring | undefined): string {
    const m = config.monitoring;
    if (!monitoring) return "## Monitoring\n\nDisabled (`finbot:monitoring.enabled: false`).";
    const { ruleGroups: groups, dashboards } = monitoring;
    const alerts = groups.flatMap((g) => g.rules.filter(isAlert));
    const bySeverity = (severity: string) => {
        const names = alerts
            .filter((a) => a.labels.severity === severity)
            .map((a) => (a.labels.slo ? `${a.alert} (${a.labels.service}/${a.labels.slo})` : a.alert));
        return [...new Set(names)].join(", ");
    };
    const recordings = groups.flatMap((g) => g.rules).length - alerts.length;
    const receivers = [
        m.alerting.pagerduty ? "page → PagerDuty" : "page → nobody",
        m.alerting.slack ? `ticket → Slack ${m.alerting.slack.channel}` : "ticket → nobody",
        m.alerting.deadMansSwitch ? "Watchdog → dead man's switch" : "Watchdog → nobody",
    ].join("; ");
    return [
        "## Monitoring (kube-prometheus-stack " + config.releases.charts["kube-prometheus-stack"] + ")",
        "",
        table(
            ["part", "replicas", "retention", "storage", "requests cpu / memory", "limits memory"],
            [
                [
                    "Prometheus",
                    m.prometheus.replicas,
                    `${m.prometheus.retention} or ${m.prometheus.retentionSize ?? defaultRetentionSize(m.prometheus.storage)}`,
                    m.prometheus.storage,
                    `${m.prometheus.resources.requests.cpu} / ${m.prometheus.resources.requests.memory}`,
                    m.prometheus.resources.limits.memory,
                ],
                [
                    "Alertmanager",
                    m.alertmanager.replicas,
                    "",
                    m.alertmanager.storage,
                    `${m.alertmanager.resources.requests.cpu} / ${m.alertmanager.resources.requests.memory}`,
                    m.alertmanager.resources.limits.memory,
                ],
                [
                    "Grafana",
                    1,
                    "",
                    m.grafana.storage,
                    `${m.grafana.resources.requests.cpu} / ${m.grafana.resources.requests.memory}`,
                    m.grafana.resources.limits.memory,
                ],
            ],
        ),
        "",
        `Alert routing: ${receivers}. Uptime objective ${m.uptime.objective}%, probed every ${m.uptime.interval}.`,
        "",
        table(
            ["severity", "alerts"],
            [
                ["page", bySeverity("page")],
                ["ticket", bySeverity("ticket")],
            ],
        ),
        "",
        `${alerts.length} alerting and ${recordings} recording rules in ${groups.length} groups, on top of the chart's default rules.`,
        "",
        table(
            ["dashboard", "uid"],
            dashboards.map((d) => [d.title, d.uid]),
        ),
    ].join("\n");
}
