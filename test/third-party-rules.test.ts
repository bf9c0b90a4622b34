// The third parties' spend and health alerts under synthetic egress-gateway series, checked by
// promtool against the rule group dev plans (its LLM: 0.002 USD a call, 20 USD a month, errors
// under 5%, p95 under 10 s): a surge pages, a steady rate under budget stays silent, a rate whose
// month ends over budget opens a ticket, month-to-date starts again with each calendar month.
import { scratchDir } from "../scripts/lib/promtool";
import { PromtoolScenarios } from "./alertRules";
import { platformRuleGroups } from "../components/platform/areas";
import { loadStackConfig } from "./harness";
import { requireTool } from "./tools";

describe("third-party alerts (promtool)", function () {
    const dev = loadStackConfig("dev").config;
    const scenarios = new PromtoolScenarios();
    const ownGroup = (g: { name: string }) => g.name === "finbot-third-parties";
    const scenario = (title: string, build: Parameters<PromtoolScenarios["add"]>[1], interval = "1m") =>
        scenarios.add(title, build, interval, ownGroup);
    const at = `envoy_cluster_name="httproute/finbot-traffic/egress-llm/rule/0", namespace="finbot-traffic", pod="envoy-finbot-egress-0"`;
    /** The LLM's calls (a counter sampled each `interval`) with a byte a second each way. */
    const calls = (values: string, bytes: string) => [
        { series: `envoy_cluster_upstream_rq_total{${at}}`, values },
        { series: `envoy_cluster_upstream_cx_tx_bytes_total{${at}}`, values: bytes },
        { series: `envoy_cluster_upstream_cx_rx_bytes_total{${at}}`, values: bytes },
    ];
    const llm = { severity: "page", provider: "llm" };

    before(function () {
        requireTool(this, "promtool", "prometheus");
        scenarios.run(scratchDir("third-party-rules"), platformRuleGroups(dev));
    });

    scenario("a surge from 0.002 to 2 calls a second (345 USD a day) pages within 15 minutes; the steady rate before it does not", () => [
        {
            interval: "1m",
            input_series: calls("0+0.12x120 134.4+120x40", "0+60x160"),
            alert_rule_test: [
                { eval_time: "118m", alertname: "FinbotThirdPartySpendRunaway", exp_alerts: [] },
                { eval_time: "136m", alertname: "FinbotThirdPartySpendRunaway", exp_alerts: [{ exp_labels: llm }] },
            ],
        },
    ]);

    scenario("a steady 0.002 calls a second (11 USD a month, under 20) neither pages nor forecasts over budget", () => [
        {
            interval: "1m",
            input_series: calls("0+0.12x480", "0+60x480"),
            alert_rule_test: [
                { eval_time: "470m", alertname: "FinbotThirdPartySpendRunaway", exp_alerts: [] },
                { eval_time: "470m", alertname: "FinbotThirdPartySpendOverBudget", exp_alerts: [] },
            ],
        },
    ]);

    scenario("0.01 calls a second (53 USD by the month's end) opens an over-budget ticket and pages nobody", () => [
        {
            interval: "1m",
            input_series: calls("0+0.6x480", "0+60x480"),
            alert_rule_test: [
                { eval_time: "50m", alertname: "FinbotThirdPartySpendOverBudget", exp_alerts: [] },
                {
                    eval_time: "420m",
                    alertname: "FinbotThirdPartySpendOverBudget",
                    exp_alerts: [{ exp_labels: { severity: "ticket", provider: "llm" } }],
                },
                { eval_time: "420m", alertname: "FinbotThirdPartySpendRunaway", exp_alerts: [] },
            ],
        },
    ]);

    scenario(
        "month-to-date counts this calendar month only: 51 USD on January 31st, under 1 USD three hours into February",
        () => [
            {
                interval: "10m",
                input_series: calls("0+6x4600", "0+600x4600"),
                promql_expr_test: [
                    {
                        expr: `finbot:third_party_spend_usd:month_to_date > bool 50`,
                        eval_time: "721h",
                        exp_samples: [{ labels: '{provider="llm"}', value: 1 }],
                    },
                    {
                        expr: `finbot:third_party_spend_usd:month_to_date < bool 1`,
                        eval_time: "747h",
                        exp_samples: [{ labels: '{provider="llm"}', value: 1 }],
                    },
                ],
            },
        ],
        "30m",
    );

    scenario("10% of calls failing for 15 minutes opens a ticket (objective 5%); 2% does not", () => [
        {
            interval: "1m",
            input_series: [
                ...calls("0+60x60", "0+60x60"),
                { series: `envoy_cluster_upstream_rq_xx{${at}, envoy_response_code_class="5"}`, values: "0+6x60" },
            ],
            alert_rule_test: [
                {
                    eval_time: "30m",
                    alertname: "FinbotThirdPartyErrors",
                    exp_alerts: [{ exp_labels: { severity: "ticket", provider: "llm" } }],
                },
            ],
        },
        {
            interval: "1m",
            input_series: [
                ...calls("0+60x60", "0+60x60"),
                { series: `envoy_cluster_upstream_rq_xx{${at}, envoy_response_code_class="5"}`, values: "0+1.2x60" },
            ],
            alert_rule_test: [{ eval_time: "30m", alertname: "FinbotThirdPartyErrors", exp_alerts: [] }],
        },
    ]);

    scenario("a p95 of 28 s (Envoy's milliseconds) opens a ticket (objective 10 s); 0.95 s does not", () => {
        const buckets = (under1s: string, under10s: string, under30s: string) => [
            ...calls("0+60x60", "0+60x60"),
            { series: `envoy_cluster_upstream_rq_time_bucket{${at}, le="1000"}`, values: under1s },
            { series: `envoy_cluster_upstream_rq_time_bucket{${at}, le="10000"}`, values: under10s },
            { series: `envoy_cluster_upstream_rq_time_bucket{${at}, le="30000"}`, values: under30s },
            { series: `envoy_cluster_upstream_rq_time_bucket{${at}, le="+Inf"}`, values: "0+60x60" },
        ];
        return [
            {
                interval: "1m",
                input_series: buckets("0+0x60", "0+30x60", "0+60x60"),
                alert_rule_test: [
                    {
                        eval_time: "30m",
                        alertname: "FinbotThirdPartySlow",
                        exp_alerts: [{ exp_labels: { severity: "ticket", provider: "llm" } }],
                    },
                ],
            },
            {
                interval: "1m",
                input_series: buckets("0+60x60", "0+60x60", "0+60x60"),
                alert_rule_test: [{ eval_time: "30m", alertname: "FinbotThirdPartySlow", exp_alerts: [] }],
            },
        ];
    });

    scenario("the gateway refusing calls by rate limit for 10 minutes opens a ticket", () => [
        {
            interval: "1m",
            input_series: [
                {
                    series: `envoy_http_local_rate_limit_rate_limited{namespace="finbot-traffic", envoy_local_http_ratelimit_prefix="http_local_rate_limiter"}`,
                    values: "0+30x30",
                },
            ],
            alert_rule_test: [
                { eval_time: "5m", alertname: "FinbotThirdPartyRateLimited", exp_alerts: [] },
                { eval_time: "25m", alertname: "FinbotThirdPartyRateLimited", exp_alerts: [{ exp_labels: { severity: "ticket" } }] },
            ],
        },
    ]);
});
