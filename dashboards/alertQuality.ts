// Alert quality: how much the alerts cost the people they reach. Pages and tickets per alert over a
// week, how long each fires per start (minutes mean it resolves on its own), today's most frequent
// starters (flapping), and what Alertmanager sent, per integration.
import { DashboardDefinition, FOLDER, dashboard, finbotDashboard, query, statPanel, tablePanel, timeseriesPanel } from "./common";

export const UID = "finbot-alert-quality";

export interface AlertQualityArgs {
    /** The recorded series: starts (one sample per start) and firing alerts, by alertname and severity, each minute. */
    series: { starts: string; firing: string };
    /** finbot:monitoring.noise.pagesPerWeek. */
    pagesPerWeek: number;
}

export function alertQualityDashboard(args: AlertQualityArgs): DashboardDefinition {
    const { starts, firing } = args.series;
    const week = (selector: string) => `sum(sum_over_time(${starts}{${selector}}[7d])) or vector(0)`;
    const builder = finbotDashboard(UID, "FinBot / Alert quality")
        .time({ from: "now-7d", to: "now" })
        .withRow(new dashboard.RowBuilder("This week"))
        .withPanel(
            statPanel(
                "Pages (7d)",
                `Pages (severity page or critical) that started in the last 7 days; the noise budget is ${args.pagesPerWeek} (FinbotPagesOverNoiseBudget).`,
                "short",
                query(week('severity=~"page|critical"')),
                12,
            ),
        )
        .withPanel(
            statPanel(
                "Tickets (7d)",
                "Tickets (severity ticket or warning) that started in the last 7 days.",
                "short",
                query(week('severity=~"ticket|warning"')),
                12,
            ),
        )
        .withPanel(
            tablePanel(
                "Starts per alert (7d)",
                "How often each alert started firing this week, by severity: the top rows cost the most attention.",
                query(`sort_desc(sum by (alertname, severity) (sum_over_time(${starts}[7d])))`),
                12,
            ),
        )
        .withPanel(
            tablePanel(
                "Minutes firing per start (7d)",
                "Mean time an alert fires each time it starts: a few minutes means it resolves by itself, and probably paged for nothing.",
                query(`sort(sum by (alertname) (sum_over_time(${firing}[7d])) / (sum by (alertname) (sum_over_time(${starts}[7d])) > 0))`),
                12,
            ),
        )
        .withRow(new dashboard.RowBuilder("Flapping and delivery"))
        .withPanel(
            timeseriesPanel(
                "Starts per alert (24h, rolling)",
                "Alerts starting again and again in a day flap: FinbotAlertFlapping opens a ticket over finbot:monitoring.noise.flapsPerDay.",
                "short",
                [query(`sum by (alertname) (sum_over_time(${starts}[1d])) > 0`, "{{alertname}}")],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Notifications sent and failed (1h)",
                "What Alertmanager delivered per integration (PagerDuty, Slack, webhook), and what failed to send.",
                "short",
                [
                    query("sum by (integration) (increase(alertmanager_notifications_total[1h]))", "sent {{integration}}"),
                    query("sum by (integration) (increase(alertmanager_notifications_failed_total[1h]))", "failed {{integration}}"),
                ],
            ),
        );
    return { uid: UID, title: "FinBot / Alert quality", folder: FOLDER, model: builder.build() };
}
