// Per service: RED (rate, errors, duration) and its SLOs: error budget remaining, burn rates
// against the page and ticket thresholds, latency percentiles.
import {
    DashboardContext,
    DashboardDefinition,
    FOLDER,
    finbotDashboard,
    query,
    serviceVariable,
    statPanel,
    timeseriesPanel,
    dashboard,
} from "./common";

export const UID = "finbot-service-slo";

export function serviceSlo(_ctx: DashboardContext): DashboardDefinition {
    const svc = 'service="$service"';
    const builder = finbotDashboard(UID, "FinBot / Service RED and SLO")
        .withVariable(serviceVariable())
        .withRow(new dashboard.RowBuilder("Error budget"))
        .withPanel(
            statPanel(
                "Availability budget left",
                "Share of the 30-day availability error budget left for the chosen service.",
                "percentunit",
                query(`slo:error_budget_remaining:ratio{${svc}, slo="availability"}`),
            ),
        )
        .withPanel(
            statPanel(
                "Latency budget left",
                "Share of the 30-day latency error budget left.",
                "percentunit",
                query(`slo:error_budget_remaining:ratio{${svc}, slo="latency"}`),
            ),
        )
        .withPanel(
            statPanel(
                "Uptime budget left (in-cluster, edge)",
                "Share of the 30-day uptime error budgets left: probes in the cluster (uptime) and through the public address (uptime-edge): an edge outage spends only the second.",
                "percentunit",
                query(`slo:error_budget_remaining:ratio{${svc}, slo=~"uptime|uptime-edge"}`, "{{slo}}"),
            ),
        )
        .withPanel(
            statPanel("Objective", "The availability objective.", "percentunit", query(`slo:objective:ratio{${svc}, slo="availability"}`)),
        )
        .withPanel(
            timeseriesPanel(
                "Burn rate (x sustainable), 1h and 6h windows",
                "Burn rate over the page windows (1h with 5m, 6h with 30m) against the page lines 14.4x and 6x.",
                "short",
                [
                    query(`slo:sli_error:ratio_rate1h{${svc}} / on (service, slo) (1 - slo:objective:ratio{${svc}})`, "1h {{slo}}"),
                    query(`slo:sli_error:ratio_rate6h{${svc}} / on (service, slo) (1 - slo:objective:ratio{${svc}})`, "6h {{slo}}"),
                    query("vector(14.4)", "page (1h)"),
                    query("vector(6)", "page (6h)"),
                ],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Burn rate (x sustainable), 1d and 3d windows",
                "Burn rate over the ticket windows (1d with 2h, 3d with 6h) against the ticket lines 3x and 1x.",
                "short",
                [
                    query(`slo:sli_error:ratio_rate1d{${svc}} / on (service, slo) (1 - slo:objective:ratio{${svc}})`, "1d {{slo}}"),
                    query(`slo:sli_error:ratio_rate3d{${svc}} / on (service, slo) (1 - slo:objective:ratio{${svc}})`, "3d {{slo}}"),
                    query("vector(3)", "ticket (1d)"),
                    query("vector(1)", "ticket (3d)"),
                ],
            ),
        )
        .withRow(new dashboard.RowBuilder("RED"))
        .withPanel(
            timeseriesPanel(
                "Requests/s",
                "Requests and errors per second.",
                "reqps",
                [query(`service:requests:rate5m{${svc}}`, "requests"), query(`service:errors:rate5m{${svc}}`, "errors")],
                8,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Error ratio",
                "Share of requests answered with an error status (5m).",
                "percentunit",
                [query(`slo:sli_error:ratio_rate5m{${svc}, slo="availability"}`, "5m")],
                8,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Latency percentiles",
                "p50, p95 and p99 latency.",
                "s",
                [
                    query(`service:latency_seconds:p50{${svc}}`, "p50"),
                    query(`service:latency_seconds:p95{${svc}}`, "p95"),
                    query(`service:latency_seconds:p99{${svc}}`, "p99"),
                ],
                8,
            ),
        );
    return { uid: UID, title: "FinBot / Service RED and SLO", folder: FOLDER, model: builder.build() };
}
