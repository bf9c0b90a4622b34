// Alerts overview: what is firing now, by severity and service, and how often alerts fired
// over time (a noisy alert shows here first).
import {
    DashboardContext,
    DashboardDefinition,
    FOLDER,
    finbotDashboard,
    query,
    statPanel,
    tablePanel,
    timeseriesPanel,
    dashboard,
} from "./common";

export const UID = "finbot-alerts";

export function alertsOverview(_ctx: DashboardContext): DashboardDefinition {
    const builder = finbotDashboard(UID, "FinBot / Alerts overview")
        .withRow(new dashboard.RowBuilder("Firing"))
        .withPanel(
            statPanel(
                "Pages",
                "Alerts with severity page firing now: each reaches PagerDuty (prod).",
                "short",
                query('count(ALERTS{alertstate="firing", severity=~"page|critical"}) or vector(0)'),
                8,
            ),
        )
        .withPanel(
            statPanel(
                "Tickets",
                "Alerts with severity ticket firing now: each reaches Slack (prod).",
                "short",
                query('count(ALERTS{alertstate="firing", severity=~"ticket|warning"}) or vector(0)'),
                8,
            ),
        )
        .withPanel(
            statPanel(
                "Pending",
                "Alerts whose condition holds but whose `for` has not yet elapsed.",
                "short",
                query('count(ALERTS{alertstate="pending"}) or vector(0)'),
                8,
            ),
        )
        .withPanel(
            tablePanel(
                "Firing alerts",
                "Firing alerts over time, by severity.",
                query('ALERTS{alertstate="firing", alertname!="Watchdog"}'),
            ),
        )
        .withRow(new dashboard.RowBuilder("History"))
        .withPanel(
            timeseriesPanel(
                "Firing alerts by name",
                "Which alerts fire most: names with the count of their firing series.",
                "short",
                [query('count by (alertname) (ALERTS{alertstate="firing"})', "{{alertname}}")],
                24,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Firing alerts by service and severity",
                "Every firing alert with its service and severity; the runbook link is on the alert.",
                "short",
                [query('count by (service, severity) (ALERTS{alertstate="firing", service!=""})', "{{service}} {{severity}}")],
                24,
            ),
        );
    return { uid: UID, title: "FinBot / Alerts overview", folder: FOLDER, model: builder.build() };
}
