// Platform overview: is FinBot healthy right now? Traffic, errors, latency and error budget per
// service, firing alerts, and the cluster's CPU and memory.
import { DashboardContext, DashboardDefinition, FOLDER, finbotDashboard, query, statPanel, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-platform-overview";

export function platformOverview(ctx: DashboardContext): DashboardDefinition {
    const builder = finbotDashboard(UID, "FinBot / Platform overview")
        .withRow(new dashboard.RowBuilder("Now"))
        .withPanel(
            statPanel(
                "Requests/s (all services)",
                "Requests per second over every FinBot service (RED recording rules).",
                "reqps",
                query("sum(service:requests:rate5m)"),
            ),
        )
        .withPanel(
            statPanel(
                "Error ratio (all services)",
                "Share of requests answered with an error status, all services.",
                "percentunit",
                query("sum(service:errors:rate5m) / sum(service:requests:rate5m)"),
            ),
        )
        .withPanel(
            statPanel(
                "Firing pages",
                "Page alerts firing now.",
                "short",
                query('count(ALERTS{alertstate="firing", severity=~"page|critical"}) or vector(0)'),
            ),
        )
        .withPanel(
            statPanel(
                "Firing tickets",
                "Ticket alerts firing now.",
                "short",
                query('count(ALERTS{alertstate="firing", severity=~"ticket|warning"}) or vector(0)'),
            ),
        )
        .withRow(new dashboard.RowBuilder("Services"))
        .withPanel(
            timeseriesPanel("Requests/s by service", "Requests per second by service.", "reqps", [
                query("service:requests:rate5m", "{{service}}"),
            ]),
        )
        .withPanel(
            timeseriesPanel("p95 latency by service", "p95 latency by service (RED recording rules).", "s", [
                query("service:latency_seconds:p95", "{{service}}"),
            ]),
        )
        .withPanel(
            timeseriesPanel(
                "Error budget remaining (30d)",
                "Share of each SLO's 30-day error budget still unspent; below 0 the SLO is broken.",
                "percentunit",
                [query("slo:error_budget_remaining:ratio", "{{service}} {{slo}}")],
            ),
        )
        .withPanel(
            timeseriesPanel("Replicas by service", "Replicas each service runs (HPA).", "short", [
                query(`kube_deployment_status_replicas_available{namespace="${ctx.appsNamespace}"}`, "{{deployment}}"),
            ]),
        )
        .withRow(new dashboard.RowBuilder("Cluster"))
        .withPanel(
            timeseriesPanel("Node CPU utilisation", "CPU utilisation per node.", "percentunit", [
                query('1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))', "{{instance}}"),
            ]),
        )
        .withPanel(
            timeseriesPanel("Node memory utilisation", "Memory utilisation per node.", "percentunit", [
                query("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "{{instance}}"),
            ]),
        );
    return { uid: UID, title: "FinBot / Platform overview", folder: FOLDER, model: builder.build() };
}
