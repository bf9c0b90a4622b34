// Third-party calls and their spend, from the egress gateway's own Envoy metrics: requests, errors,
// latency and bytes per provider, what they cost (requests × price, bytes × price per GB),
// month-to-date spend and its forecast to the month's end, and the alerts on them. Pure.
//
// Envoy Gateway v1.9 names the upstream cluster of an HTTPRoute rule `httproute/<ns>/<name>/rule/<i>`
// (internal/gatewayapi/helpers.go irRouteDestinationName), which Envoy's default tag extractor turns
// into the `envoy_cluster_name` label (envoy source/common/config/well_known_names.cc). Latencies are
// in milliseconds. The local rate limit's filter has one stat prefix, http_local_rate_limiter
// (internal/xds/translator/local_ratelimit.go), which Envoy's tag extractor turns into
// envoy_http_local_rate_limit_rate_limited{envoy_local_http_ratelimit_prefix=...}: its counter carries no
// route, so it is the gateway's as a whole.
import { ThirdPartyConfig } from "../config/thirdParties";
import { RuleGroup } from "../monitoring/rules";
import { egressRouteName } from "./egress";

/** The recorded series, by provider (`provider` label). */
export const THIRD_PARTY_SERIES = {
    requests: "finbot:third_party_requests:rate5m",
    errors: "finbot:third_party_errors:rate5m",
    errorRatio: "finbot:third_party_errors:ratio_rate5m",
    latencyP95: "finbot:third_party_latency_seconds:p95",
    sentBytes: "finbot:third_party_sent_bytes:rate5m",
    receivedBytes: "finbot:third_party_received_bytes:rate5m",
    pricePerRequest: "finbot:third_party_price_usd:per_request",
    pricePerGbSent: "finbot:third_party_price_usd:per_gb_sent",
    pricePerGbReceived: "finbot:third_party_price_usd:per_gb_received",
    budget: "finbot:third_party_budget_usd:monthly",
    objectiveErrorRatio: "finbot:third_party_objective:error_ratio",
    objectiveLatency: "finbot:third_party_objective:latency_p95_seconds",
    /** USD a second, over 5 minutes and over an hour. */
    spendRate: "finbot:third_party_spend_usd:rate5m",
    spendRate1h: "finbot:third_party_spend_usd:rate1h",
    monthToDate: "finbot:third_party_spend_usd:month_to_date",
    forecast: "finbot:third_party_spend_usd:forecast_month",
} as const;

/** The calendar month's first second (UTC), as seen at the evaluation time of the whole query. */
const MONTH_START = "scalar(last_over_time((time() - (day_of_month() - 1) * 86400 - time() % 86400)[1m:1m] @ end()))";
/** Seconds left in the calendar month. */
const SECONDS_LEFT = "scalar((days_in_month() - day_of_month() + 1) * 86400 - time() % 86400)";

/** The spend guard's and the objectives' alerts link this runbook. */
const RUNBOOK = "third-party-apis";

export function thirdPartyRuleGroup(providers: ThirdPartyConfig[], namespace: string): RuleGroup {
    const S = THIRD_PARTY_SERIES;
    const routes = `httproute/${namespace}/${egressRouteName("(.+)")}/rule/0`;
    const cluster = `envoy_cluster_name=~"httproute/${namespace}/${egressRouteName(".+")}/rule/0"`;
    /** A per-cluster Envoy metric's rate, summed per provider. */
    const perProvider = (metric: string, window: string, extra = "") =>
        `sum by (provider) (label_replace(rate(${metric}{${cluster}${extra}}[${window}]), "provider", "$1", "envoy_cluster_name", "${routes}"))`;
    const spend = (window: string) =>
        [
            `${perProvider("envoy_cluster_upstream_rq_total", window)} * on (provider) ${S.pricePerRequest}`,
            `${perProvider("envoy_cluster_upstream_cx_tx_bytes_total", window)} / 1e9 * on (provider) ${S.pricePerGbSent}`,
            `${perProvider("envoy_cluster_upstream_cx_rx_bytes_total", window)} / 1e9 * on (provider) ${S.pricePerGbReceived}`,
        ].join("\n  + on (provider) ");
    const constant = (record: string, value: (p: ThirdPartyConfig) => number) =>
        providers.map((p) => ({ record, expr: `vector(${value(p)})`, labels: { provider: p.name } }));
    return {
        name: "finbot-third-parties",
        interval: "1m",
        rules: [
            // What config says, as series the queries join on.
            ...constant(S.pricePerRequest, (p) => p.price.perRequest),
            ...constant(S.pricePerGbSent, (p) => p.price.perGigabyteSent),
            ...constant(S.pricePerGbReceived, (p) => p.price.perGigabyteReceived),
            ...constant(S.budget, (p) => p.monthlyBudget),
            ...constant(S.objectiveErrorRatio, (p) => p.objective.errorRatio),
            ...constant(S.objectiveLatency, (p) => p.objective.latencyP95Seconds),
            { record: S.requests, expr: perProvider("envoy_cluster_upstream_rq_total", "5m") },
            // 5xx answered by the provider or, for a timeout or a failed connection, by Envoy on its behalf.
            { record: S.errors, expr: perProvider("envoy_cluster_upstream_rq_xx", "5m", ', envoy_response_code_class="5"') },
            { record: S.errorRatio, expr: `${S.errors} / on (provider) (${S.requests} > 0)` },
            {
                record: S.latencyP95,
                expr: `histogram_quantile(0.95, sum by (provider, le) (label_replace(rate(envoy_cluster_upstream_rq_time_bucket{${cluster}}[5m]), "provider", "$1", "envoy_cluster_name", "${routes}"))) / 1000`,
            },
            { record: S.sentBytes, expr: perProvider("envoy_cluster_upstream_cx_tx_bytes_total", "5m") },
            { record: S.receivedBytes, expr: perProvider("envoy_cluster_upstream_cx_rx_bytes_total", "5m") },
            { record: S.spendRate, expr: spend("5m") },
            { record: S.spendRate1h, expr: spend("1h") },
            // Each past hour of this month (the hourly rate recorded at each hour's end), to the last full hour.
            {
                record: S.monthToDate,
                expr: `sum by (provider) (sum_over_time((${S.spendRate1h} * 3600 and on () (vector(time()) > ${MONTH_START}))[31d:1h]))`,
            },
            {
                record: S.forecast,
                expr: `${S.monthToDate} + on (provider) avg_over_time(${S.spendRate1h}[6h]) * ${SECONDS_LEFT}`,
            },
            {
                alert: "FinbotThirdPartySpendOverBudget",
                expr: `${S.forecast} > on (provider) ${S.budget}`,
                for: "1h",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "{{ $labels.provider }} will cost more than its monthly budget",
                    description:
                        "At the last 6 hours' rate, {{ $labels.provider }} costs {{ $value | printf \"%.2f\" }} USD by the month's end, over its budget (finbot:thirdParties[].monthlyBudget). Open FinBot / Third-party APIs: which callers grew, and whether the price in config is still right.",
                    runbook: RUNBOOK,
                },
            },
            // A runaway loop: at the last 5 minutes' and the last hour's rate, one day would spend the whole month's budget.
            {
                alert: "FinbotThirdPartySpendRunaway",
                expr: `(${S.spendRate} * 86400 > on (provider) ${S.budget}) and on (provider) (${S.spendRate1h} * 86400 > on (provider) ${S.budget})`,
                for: "5m",
                labels: { severity: "page" },
                annotations: {
                    summary: "{{ $labels.provider }} is spending a month's budget a day",
                    description:
                        '{{ $labels.provider }} costs {{ $value | printf "%.0f" }} USD a day at the current rate, more than its whole monthly budget. A caller is probably looping: the runbook says how to cut it off at the egress gateway.',
                    runbook: RUNBOOK,
                },
            },
            {
                alert: "FinbotThirdPartyErrors",
                expr: `${S.errorRatio} > on (provider) ${S.objectiveErrorRatio}`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "{{ $labels.provider }} fails {{ $value | humanizePercentage }} of calls",
                    description:
                        "More of {{ $labels.provider }}'s calls fail (5xx, timeouts, refused connections) than its objective allows (finbot:thirdParties[].objective.errorRatio).",
                    runbook: RUNBOOK,
                },
            },
            {
                alert: "FinbotThirdPartySlow",
                expr: `${S.latencyP95} > on (provider) ${S.objectiveLatency}`,
                for: "15m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "{{ $labels.provider }}'s p95 is {{ $value | humanizeDuration }}",
                    description:
                        "{{ $labels.provider }} answers slower than its objective (finbot:thirdParties[].objective.latencyP95Seconds); callers wait, and may time out.",
                    runbook: RUNBOOK,
                },
            },
            {
                alert: "FinbotThirdPartyRateLimited",
                expr: `sum(rate(envoy_http_local_rate_limit_rate_limited{namespace="${namespace}"}[5m])) > 0`,
                for: "10m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "The egress gateway is refusing third-party calls by rate limit",
                    description:
                        '{{ $value | printf "%.2f" }} calls a second get 429 from the egress gateway: a provider\'s finbot:thirdParties[].rateLimitPerSecond is reached. FinBot / Third-party APIs shows whose calls flattened.',
                    runbook: RUNBOOK,
                },
            },
        ],
    };
}
