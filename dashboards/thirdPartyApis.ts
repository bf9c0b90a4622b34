// Third-party APIs: what FinBot calls through the egress gateway, per provider: calls, errors and
// p95 against its objective, and what they cost against the month's budget, with the forecast.
import { DashboardDefinition, FOLDER, dashboard, finbotDashboard, query, tablePanel, timeseriesPanel } from "./common";

export const UID = "finbot-third-party-apis";

export interface ThirdPartyApisArgs {
    /** The recorded series (THIRD_PARTY_SERIES). */
    series: {
        requests: string;
        errorRatio: string;
        latencyP95: string;
        objectiveErrorRatio: string;
        objectiveLatency: string;
        spendRate: string;
        monthToDate: string;
        forecast: string;
        budget: string;
    };
    /** The egress gateway's namespace (its rate limit counter). */
    namespace: string;
}

export function thirdPartyApisDashboard(args: ThirdPartyApisArgs): DashboardDefinition {
    const s = args.series;
    const builder = finbotDashboard(UID, "FinBot / Third-party APIs")
        .withRow(new dashboard.RowBuilder("Spend"))
        .withPanel(
            tablePanel(
                "This month per provider (USD)",
                "Spent so far this month (to the last full hour), the forecast to the month's end at the last 6 hours' rate, and the budget (finbot:thirdParties[].monthlyBudget). Spend is requests × price plus bytes × price per GB, measured at the egress gateway; token-billed providers' prices are averages (estimates).",
                query(
                    `label_replace(${s.monthToDate}, "measure", "month to date", "", "") or label_replace(${s.forecast}, "measure", "forecast", "", "") or label_replace(${s.budget}, "measure", "budget", "", "")`,
                ),
                12,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Spend rate (USD per hour)",
                "What the calls cost at the current rate. A line that jumps is a caller looping: FinbotThirdPartySpendRunaway pages when a day at this rate would spend the month's budget.",
                "currencyUSD",
                [query(`${s.spendRate} * 3600`, "{{provider}}")],
            ),
        )
        .withRow(new dashboard.RowBuilder("Calls"))
        .withPanel(
            timeseriesPanel(
                "Calls per second",
                "Requests through the egress gateway, per provider.",
                "reqps",
                [query(s.requests, "{{provider}}")],
                8,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Errors (share of calls)",
                "5xx from the provider, or from the gateway on its behalf (timeouts, refused connections), against the objective (dashed).",
                "percentunit",
                [query(s.errorRatio, "{{provider}}"), query(s.objectiveErrorRatio, "objective {{provider}}")],
                8,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "p95 latency",
                "95th percentile of a call's duration at the gateway, against the objective.",
                "s",
                [query(s.latencyP95, "{{provider}}"), query(s.objectiveLatency, "objective {{provider}}")],
                8,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Refused by the rate limit",
                "Calls the egress gateway answered with 429 (the spend guard, finbot:thirdParties[].rateLimitPerSecond), for the gateway as a whole.",
                "reqps",
                [query(`sum(rate(envoy_http_local_rate_limit_rate_limited{namespace="${args.namespace}"}[5m]))`, "refused")],
                24,
            ),
        );
    return { uid: UID, title: "FinBot / Third-party APIs", folder: FOLDER, model: builder.build() };
}
