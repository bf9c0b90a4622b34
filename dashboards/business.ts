// Business metrics: the panels FinBot's product owners defined in `finbot:monitoring.businessMetrics`.
import { DashboardContext, DashboardDefinition, FOLDER, finbotDashboard, query, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-business";

export function business(ctx: DashboardContext): DashboardDefinition {
    let builder = finbotDashboard(UID, "FinBot / Business metrics").withRow(new dashboard.RowBuilder("Business"));
    for (const panel of ctx.businessMetrics)
        builder = builder.withPanel(
            timeseriesPanel(panel.title, `A business metric of finbot:monitoring.businessMetrics: ${panel.expr}`, panel.unit, [
                query(panel.expr, panel.title),
            ]),
        );
    if (ctx.businessMetrics.length === 0) {
        builder = builder.withPanel(
            timeseriesPanel(
                "Requests/s (define panels in finbot:monitoring.businessMetrics)",
                "FinBot's request rate; business panels come from finbot:monitoring.businessMetrics.",
                "reqps",
                [query("sum(service:requests:rate5m)", "requests")],
                24,
            ),
        );
    }
    // Drawn only with the Pushgateway the budget's results are pushed to.
    if (ctx.deploys.pushgateway)
        builder = builder
            .withRow(new dashboard.RowBuilder("Performance budget (npm run budget)"))
            .withPanel(
                timeseriesPanel(
                    "Front-end assets, gzip size against budget",
                    "gzip size of the front-end assets per pattern against its performance budget (npm run budget pushes these).",
                    "bytes",
                    [
                        query("finbot_asset_gzip_bytes", "{{app}} {{pattern}}"),
                        query("finbot_asset_budget_bytes", "budget {{app}} {{pattern}}"),
                    ],
                    24,
                ),
            );
    return { uid: UID, title: "FinBot / Business metrics", folder: FOLDER, model: builder.build() };
}
