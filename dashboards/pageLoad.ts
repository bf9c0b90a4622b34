// Page load as users feel it: p75 LCP and TTFB per page from the synthetic browser checks, each
// against its budget and against the same week a month earlier (the plan's "50% faster" is the
// last panel), with real users' view (RUM) one click away in Kibana.
import { DashboardDefinition, FOLDER, finbotDashboard, query, statPanel, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-page-load";

/** Last week's average p75 over the same week four weeks earlier: 0.5 is "50% faster". */
const monthOverMonth = (series: string) => `avg_over_time(${series}[1w]) / avg_over_time(${series}[1w] offset 4w)`;

/** The recorded series the page-load rules write, per Web Vital (seconds). */
export interface PageLoadSeries {
    p75: { lcp: string; ttfb: string };
    budget: { lcp: string; ttfb: string };
}

export function pageLoad(args: { series: PageLoadSeries; kibanaUrl?: string; cdn: boolean }): DashboardDefinition {
    const { p75: PAGE_SERIES, budget: BUDGET_SERIES } = args.series;
    const vital = (name: string, series: string, budget: string, what: string) =>
        timeseriesPanel(
            `p75 ${name} per page`,
            `${what} at the 75th percentile of the last 15 minutes' checks, and the page's budget.`,
            "s",
            [query(series, "{{page}}"), query(budget, "{{page}} budget")],
        );
    const notes = [
        "**Synthetic**: k6 with Chromium loads each page a few times per run, on the schedule of finbot:traffic.pageChecks, " +
            (args.cdn ? "through CloudFront as users do." : "through the gateway."),
        "**Real users**: the Elastic RUM agent in FinBot's web app sends page loads to APM Server; " +
            (args.kibanaUrl
                ? `[Kibana → Observability → User Experience](${args.kibanaUrl}/app/ux) shows them by page group.`
                : "Kibana shows them."),
        args.cdn
            ? "**CDN**: CloudFront's cache hit ratio is in the CloudFront console (*Reports & analytics → Cache statistics*); a drop there shows up here as TTFB."
            : "**CDN**: none in this stack.",
    ].join(" ");
    const builder = finbotDashboard(UID, "FinBot / Page load")
        .withRow(new dashboard.RowBuilder("Against the budget"))
        .withPanel(vital("LCP", PAGE_SERIES.lcp, BUDGET_SERIES.lcp, "Largest Contentful Paint"))
        .withPanel(vital("TTFB", PAGE_SERIES.ttfb, BUDGET_SERIES.ttfb, "Time To First Byte"))
        .withRow(new dashboard.RowBuilder("Against a month earlier"))
        .withPanel(
            statPanel(
                "LCP: last week / same week a month earlier",
                "Average p75 LCP of the last 7 days over the 7 days four weeks before. 0.5 means pages load 50% faster (the plan's goal); above 1, slower.",
                "percentunit",
                query(monthOverMonth(PAGE_SERIES.lcp)),
                12,
            ),
        )
        .withPanel(
            statPanel(
                "TTFB: last week / same week a month earlier",
                "Average p75 TTFB of the last 7 days over the 7 days four weeks before (the CDN's and backend's share of the load time).",
                "percentunit",
                query(monthOverMonth(PAGE_SERIES.ttfb)),
                12,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "p75 LCP: now and four weeks ago",
                "The same series, and itself shifted by four weeks.",
                "s",
                [query(PAGE_SERIES.lcp, "{{page}}"), query(`${PAGE_SERIES.lcp} offset 4w`, "{{page}} 4 weeks ago")],
                24,
            ),
        )
        .description(notes);
    if (args.kibanaUrl)
        builder.link(
            new dashboard.DashboardLinkBuilder("Real users (Kibana User Experience)")
                .type(dashboard.DashboardLinkType.Link)
                .url(`${args.kibanaUrl}/app/ux`)
                .targetBlank(true),
        );
    return { uid: UID, title: "FinBot / Page load", folder: FOLDER, model: builder.build() };
}
