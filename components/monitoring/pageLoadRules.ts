// Page load from the synthetic browser checks: p75 LCP and TTFB per page, each page's budgets as
// series (so dashboards and alerts compare on `page`), and the two tickets: over budget for 30
// minutes, or 25% slower than a week ago. Pure.
import { PageConfig } from "../config/traffic";
import { PAGE_TRENDS } from "../traffic/pageChecks";
import { RuleGroup } from "./rules";

/**
 * What the browser check writes (remote write, trend stat p(75) of its page Trends, PAGE_TRENDS):
 * one series per page, in seconds (k6 v2.2.0 internal/output/prometheusrw/remotewrite/trend.go:
 * `k6_` + the Trend's name + `_p75`, time trends divided by 1000). Not k6's own
 * `k6_browser_web_vital_*_p75`: those are split by `rating`, a p75 per rating band.
 */
const CHECK_SERIES = { lcp: `k6_${PAGE_TRENDS.lcp}_p75`, ttfb: `k6_${PAGE_TRENDS.ttfb}_p75` } as const;
/** The recorded p75 per page, in seconds: the average of the last 15 minutes' runs (three at the default schedule). */
export const PAGE_SERIES = { lcp: "finbot:page_lcp_seconds:p75", ttfb: "finbot:page_ttfb_seconds:p75" } as const;
/** Each page's budget, in seconds. */
export const BUDGET_SERIES = { lcp: "finbot:page_lcp_budget_seconds", ttfb: "finbot:page_ttfb_budget_seconds" } as const;
/** How much slower than a week ago is a regression. */
const REGRESSION_FACTOR = 1.25;

const VITALS = { lcp: "Largest Contentful Paint", ttfb: "Time To First Byte" } as const;

export function pageLoadRuleGroup(pages: PageConfig[]): RuleGroup {
    const vitals = Object.keys(VITALS) as Array<keyof typeof VITALS>;
    const budget = (page: PageConfig, vital: keyof typeof VITALS) => (vital === "lcp" ? page.lcpBudgetMs : page.ttfbBudgetMs) / 1000;
    return {
        name: "finbot-page-load",
        rules: [
            ...vitals.map((vital) => ({
                record: PAGE_SERIES[vital],
                expr: `max by (page) (avg_over_time(${CHECK_SERIES[vital]}[15m]))`,
            })),
            ...pages.flatMap((page) =>
                vitals.map((vital) => ({
                    record: BUDGET_SERIES[vital],
                    expr: `vector(${budget(page, vital)})`,
                    labels: { page: page.name },
                })),
            ),
            ...vitals.map((vital) => ({
                alert: "FinbotPageLoadOverBudget",
                expr: `${PAGE_SERIES[vital]} > on (page) ${BUDGET_SERIES[vital]}`,
                for: "30m",
                labels: { severity: "ticket", vital },
                annotations: {
                    summary: `Page {{ $labels.page }}: p75 ${VITALS[vital]} over its budget`,
                    description: `p75 ${VITALS[vital]} of page {{ $labels.page }} is {{ $value | humanizeDuration }} in the synthetic checks, over its budget for 30 minutes.`,
                    runbook: "page-load" as const,
                },
            })),
            {
                alert: "FinbotPageLoadRegressed",
                expr: `${PAGE_SERIES.lcp} > ${REGRESSION_FACTOR} * (${PAGE_SERIES.lcp} offset 1w)`,
                for: "30m",
                labels: { severity: "ticket", vital: "lcp" },
                annotations: {
                    summary: "Page {{ $labels.page }}: p75 LCP 25% slower than a week ago",
                    description: `p75 Largest Contentful Paint of page {{ $labels.page }} is {{ $value | humanizeDuration }}, over ${REGRESSION_FACTOR}x the same time last week. Compare releases and CDN changes since.`,
                    runbook: "page-load" as const,
                },
            },
        ],
    };
}
