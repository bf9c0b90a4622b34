// The infrastructure alerts (uptime, saturation, volumes, certificates, the data tier, page
// load) under synthetic series, checked by promtool: one invocation for every scenario of the
// file, each scenario against the rule groups it exercises only. Its own file so that mocha runs
// it beside the SLO scenarios (test/alerting.test.ts) in parallel.
import { edgeUptimeObjective, sloRuleGroup } from "../components/monitoring/slo";
import { PromtoolTestCase, scratchDir } from "../scripts/lib/promtool";
import { PromtoolScenarios, sloTestService } from "./alertRules";
import { platformRuleGroups } from "../components/platform/areas";
import { loadStackConfig } from "./harness";
import { requireTool } from "./tools";

describe("platform alerts (promtool)", function () {
    const dev = loadStackConfig("dev").config;
    const ns = dev.namespaces.apps;
    const scenarios = new PromtoolScenarios();
    const scenario = scenarios.add.bind(scenarios);

    before(function () {
        requireTool(this, "promtool", "prometheus");
        // The infrastructure alerts and the uptime SLO; the request SLOs are the other file's.
        const groups = platformRuleGroups({ ...dev, services: [sloTestService(dev)] }).filter(
            (g) => !["red-api", "slo-api-availability", "slo-api-latency"].includes(g.name),
        );
        // The uptime from outside in, as a stack with a CDN has it (dev has no public edge).
        groups.push(sloRuleGroup(edgeUptimeObjective("api", dev.monitoring.uptime.objective)));
        scenarios.run(scratchDir("platform-rules"), groups);
    });
    const base = { interval: "1m" };

    scenario("uptime: a failing health probe pages; a passing one does not", () => {
        const probe = `probe_success{service="api", probe="uptime", instance="http://api/readyz", job="uptime"}`;
        return [
            {
                ...base,
                input_series: [{ series: probe, values: "1x360 0x30" }],
                alert_rule_test: [
                    {
                        eval_time: "363m",
                        alertname: "SLOErrorBudgetBurn",
                        exp_alerts: [
                            { exp_labels: { severity: "page", service: "api", slo: "uptime" } },
                            { exp_labels: { severity: "ticket", service: "api", slo: "uptime" } },
                        ],
                    },
                ],
            },
            {
                ...base,
                input_series: [{ series: probe, values: "1x400" }],
                alert_rule_test: [{ eval_time: "390m", alertname: "SLOErrorBudgetBurn", exp_alerts: [] }],
            },
        ];
    });

    scenario("Prometheus' head growing past what its memory holds for 30 minutes opens a ticket; a head within it does not", () => {
        // dev's Prometheus has a 768Mi limit: 80% of it at 8 KiB a series is 78643 series.
        const head = `prometheus_tsdb_head_series{job="kube-prometheus-stack-prometheus", namespace="finbot-monitoring", pod="prometheus-0"}`;
        return [
            {
                ...base,
                input_series: [{ series: head, values: "50000x10 90000x40" }],
                alert_rule_test: [
                    { eval_time: "30m", alertname: "FinbotPrometheusHeadSeriesHigh", exp_alerts: [] },
                    {
                        eval_time: "45m",
                        alertname: "FinbotPrometheusHeadSeriesHigh",
                        exp_alerts: [{ exp_labels: { severity: "ticket", namespace: "finbot-monitoring", pod: "prometheus-0" } }],
                    },
                ],
            },
            {
                ...base,
                input_series: [{ series: head, values: "78000x60" }],
                alert_rule_test: [{ eval_time: "55m", alertname: "FinbotPrometheusHeadSeriesHigh", exp_alerts: [] }],
            },
        ];
    });

    scenario("the edge: probes through the public address failing page as uptime-edge while the in-cluster probe stays green", () => {
        const inCluster = `probe_success{service="api", probe="uptime", instance="http://api/readyz", job="uptime"}`;
        const edge = `probe_success{service="api", probe="edge", instance="https://app.example.com/readyz", job="uptime-edge"}`;
        return [
            {
                ...base,
                input_series: [
                    { series: inCluster, values: "1x400" },
                    { series: edge, values: "1x360 0x30" },
                ],
                alert_rule_test: [
                    {
                        eval_time: "363m",
                        alertname: "SLOErrorBudgetBurn",
                        exp_alerts: [
                            { exp_labels: { severity: "page", service: "api", slo: "uptime-edge" } },
                            { exp_labels: { severity: "ticket", service: "api", slo: "uptime-edge" } },
                        ],
                    },
                ],
            },
        ];
    });

    scenario("an HPA at its maximum for 30 minutes opens a ticket; 20 minutes do not", () => {
        const labels = `namespace="${ns}", horizontalpodautoscaler="api"`;
        const atMax = (minutesAtMax: number): PromtoolTestCase => ({
            ...base,
            input_series: [
                { series: `kube_horizontalpodautoscaler_spec_max_replicas{${labels}}`, values: "4x90" },
                {
                    series: `kube_horizontalpodautoscaler_status_current_replicas{${labels}}`,
                    values: `2x${89 - minutesAtMax} 4x${minutesAtMax}`,
                },
            ],
            alert_rule_test: [
                {
                    eval_time: "89m",
                    alertname: "FinbotHPAAtMaxReplicas",
                    exp_alerts:
                        minutesAtMax > 30
                            ? [{ exp_labels: { severity: "ticket", service: "api", namespace: ns, horizontalpodautoscaler: "api" } }]
                            : [],
                },
            ],
        });
        return [atMax(40), atMax(20)];
    });

    scenario("memory rising steadily towards the limit opens a ticket; flat memory does not", () => {
        const labels = `namespace="${ns}", pod="api-1", container="api", image="podinfo"`;
        const mi = 2 ** 20;
        const series = (working: string): PromtoolTestCase["input_series"] => [
            { series: `container_memory_working_set_bytes{${labels}}`, values: working },
            {
                series: `kube_pod_container_resource_limits{namespace="${ns}", pod="api-1", container="api", resource="memory"}`,
                values: `${128 * mi}x600`,
            },
        ];
        return [
            {
                ...base,
                // +0.2 MiB a minute from 40 MiB: the 4h prediction crosses the 128 MiB limit after
                // 3h20m; an hour later the alert fires.
                input_series: series(`${40 * mi}+${0.2 * mi}x600`),
                alert_rule_test: [
                    {
                        eval_time: "600m",
                        alertname: "FinbotMemoryLeakSuspected",
                        exp_alerts: [
                            {
                                exp_labels: {
                                    severity: "ticket",
                                    service: "api",
                                    namespace: ns,
                                    pod: "api-1",
                                    container: "api",
                                    image: "podinfo",
                                },
                            },
                        ],
                    },
                ],
            },
            {
                ...base,
                input_series: series(`${60 * mi}x600`),
                alert_rule_test: [{ eval_time: "600m", alertname: "FinbotMemoryLeakSuspected", exp_alerts: [] }],
            },
        ];
    });

    scenario("a volume about to fill pages; a full but stable one does not", () => {
        const labels = `namespace="finbot-monitoring", persistentvolumeclaim="prometheus-db"`;
        const gi = 2 ** 30;
        const volume = (available: string): PromtoolTestCase["input_series"] => [
            { series: `kubelet_volume_stats_capacity_bytes{${labels}}`, values: `${10 * gi}x400` },
            { series: `kubelet_volume_stats_available_bytes{${labels}}`, values: available },
        ];
        return [
            {
                ...base,
                // 12% free, losing 2 MiB a minute: under 5% free after 6h, empty within 4h.
                input_series: volume(`${1.2 * gi}-${2 * 2 ** 20}x400`),
                alert_rule_test: [
                    {
                        eval_time: "400m",
                        alertname: "FinbotVolumeFillingUp",
                        exp_alerts: [
                            {
                                exp_labels: {
                                    severity: "ticket",
                                    namespace: "finbot-monitoring",
                                    persistentvolumeclaim: "prometheus-db",
                                },
                            },
                            {
                                exp_labels: {
                                    severity: "page",
                                    namespace: "finbot-monitoring",
                                    persistentvolumeclaim: "prometheus-db",
                                },
                            },
                        ],
                    },
                ],
            },
            {
                ...base,
                input_series: volume(`${0.3 * gi}x400`),
                alert_rule_test: [{ eval_time: "400m", alertname: "FinbotVolumeFillingUp", exp_alerts: [] }],
            },
        ];
    });

    scenario("a certificate expiring within 14 days opens a ticket, within 3 days pages", () => {
        const labels = `name="finbot-gateway", namespace="finbot-traffic"`;
        const day = 86400;
        const expiry = (days: number): PromtoolTestCase => ({
            ...base,
            input_series: [
                { series: `certmanager_certificate_expiration_timestamp_seconds{${labels}}`, values: `${days * day + 2 * 3600}x120` },
            ],
            alert_rule_test: [
                {
                    eval_time: "90m",
                    alertname: "FinbotCertificateExpiresSoon",
                    exp_alerts: (days < 3 ? ["ticket", "page"] : days < 14 ? ["ticket"] : []).map((severity) => ({
                        exp_labels: { severity, name: "finbot-gateway", namespace: "finbot-traffic" },
                    })),
                },
            ],
        });
        return [expiry(10), expiry(2), expiry(30)];
    });

    scenario(
        "p95 latency 50% above last week's opens a ticket; the same latency as last week does not",
        () => {
            const target = `namespace="${ns}", service="api"`;
            const week = (7 * 24 * 60) / 15; // samples at 15-minute steps
            const count = `0+6000x${week + 12}`;
            // All requests under 0.1s for a week; then the same traffic between 0.1s and 0.25s.
            const regressed: PromtoolTestCase["input_series"] = [
                { series: `http_request_duration_seconds_bucket{${target}, le="0.1"}`, values: `0+6000x${week} ${6000 * week}x12` },
                { series: `http_request_duration_seconds_bucket{${target}, le="0.25"}`, values: count },
                { series: `http_request_duration_seconds_bucket{${target}, le="+Inf"}`, values: count },
                { series: `http_requests_total{${target}, status="200"}`, values: count },
            ];
            const steady = regressed.map((s, i) => (i === 0 ? { ...s, values: count } : s));
            const at = `${(week + 12) * 15}m`;
            return [
                {
                    interval: "15m",
                    input_series: regressed,
                    alert_rule_test: [
                        {
                            eval_time: at,
                            alertname: "FinbotLatencyRegression",
                            exp_alerts: [{ exp_labels: { severity: "ticket", service: "api" } }],
                        },
                    ],
                },
                {
                    interval: "15m",
                    input_series: steady,
                    alert_rule_test: [{ eval_time: at, alertname: "FinbotLatencyRegression", exp_alerts: [] }],
                },
            ];
        },
        "15m",
    );

    scenario(
        "page load: p75 LCP over its budget for 30 minutes opens a ticket; under budget does not, whatever one rating band's p75 says",
        () => {
            const page = (lcp: number, ttfb: number) => ({
                interval: "5m",
                input_series: [
                    { series: `k6_finbot_page_lcp_p75{page="home", scenario="load"}`, values: `${lcp}x12` },
                    { series: `k6_finbot_page_ttfb_p75{page="home", scenario="load"}`, values: `${ttfb}x12` },
                ],
            });
            const expect = (alerts: Array<Record<string, string>>) => [
                { eval_time: "55m", alertname: "FinbotPageLoadOverBudget", exp_alerts: alerts.map((exp_labels) => ({ exp_labels })) },
            ];
            return [
                // dev's home page: LCP budget 2500 ms, TTFB 800 ms.
                { ...page(3.2, 0.3), alert_rule_test: expect([{ severity: "ticket", vital: "lcp", page: "home" }]) },
                { ...page(2.0, 0.9), alert_rule_test: expect([{ severity: "ticket", vital: "ttfb", page: "home" }]) },
                { ...page(2.0, 0.3), alert_rule_test: expect([]) },
                // k6's own web vitals beside them, as k6 v2.2.0 writes them: a p75 per rating band.
                // One poor load in three puts 4.5 s in the poor band's p75; the page's p75 over its
                // three loads is still 2.0 s, under budget: no ticket.
                {
                    interval: "5m",
                    input_series: [
                        ...page(2.0, 0.3).input_series,
                        ...[
                            ["good", 1.9],
                            ["poor", 4.5],
                        ].map(([rating, lcp]) => ({
                            series: `k6_browser_web_vital_lcp_p75{page="home", scenario="load", rating="${rating}", url="https://app/", name="https://app/"}`,
                            values: `${lcp}x12`,
                        })),
                    ],
                    alert_rule_test: expect([]),
                },
            ];
        },
        "5m",
    );

    scenario(
        "page load: p75 LCP 25% slower than a week ago opens a ticket, even under budget; the same as last week does not",
        () => {
            const week = (7 * 24 * 60) / 20; // samples at 20-minute steps
            const lcp = (values: string) => [
                { series: `k6_finbot_page_lcp_p75{page="home", scenario="load"}`, values },
                { series: `k6_finbot_page_ttfb_p75{page="home", scenario="load"}`, values: `0.3x${week + 6}` },
            ];
            const at = `${(week + 6) * 20}m`;
            return [
                {
                    interval: "20m",
                    input_series: lcp(`1.5x${week} 2.0x6`),
                    alert_rule_test: [
                        {
                            eval_time: at,
                            alertname: "FinbotPageLoadRegressed",
                            exp_alerts: [{ exp_labels: { severity: "ticket", vital: "lcp", page: "home" } }],
                        },
                    ],
                },
                {
                    interval: "20m",
                    input_series: lcp(`1.5x${week + 6}`),
                    alert_rule_test: [{ eval_time: at, alertname: "FinbotPageLoadRegressed", exp_alerts: [] }],
                },
            ];
        },
        "20m",
    );

    scenario("data tier: a queue growing for 15 minutes opens a ticket; a steady one does not", () => {
        const series = (values: string) => [
            { series: `rabbitmq_queue_messages_ready{namespace="finbot-data", queue="payments.settle"}`, values },
        ];
        return [
            {
                ...base,
                input_series: series("500+50x60"),
                alert_rule_test: [
                    {
                        eval_time: "60m",
                        alertname: "FinbotQueueBacklogGrowing",
                        exp_alerts: [{ exp_labels: { severity: "ticket", namespace: "finbot-data", queue: "payments.settle" } }],
                    },
                ],
            },
            {
                ...base,
                input_series: series("5000x60"),
                alert_rule_test: [{ eval_time: "60m", alertname: "FinbotQueueBacklogGrowing", exp_alerts: [] }],
            },
        ];
    });

    scenario(
        "data tier: Redis down (or gone) pages, as do a vanished PostgreSQL exporter and uptime probe; slow statements open a ticket",
        () => {
            const pg = `namespace="finbot-data", datname="finbot", queryid="42"`;
            return [
                {
                    ...base,
                    input_series: [{ series: `redis_up{namespace="finbot-data", pod="redis-0"}`, values: "1x10 0x10" }],
                    alert_rule_test: [
                        { eval_time: "10m", alertname: "FinbotRedisDown", exp_alerts: [] },
                        {
                            eval_time: "14m",
                            alertname: "FinbotRedisDown",
                            exp_alerts: [{ exp_labels: { severity: "page", namespace: "finbot-data", pod: "redis-0" } }],
                        },
                    ],
                },
                {
                    ...base,
                    // The pod and its exporter sidecar gone: no series at all after the 5-minute staleness.
                    input_series: [
                        { series: `redis_up{namespace="finbot-data", pod="redis-0"}`, values: "1x10 _x30" },
                        { series: `cnpg_collector_up{namespace="finbot-data", pod="finbot-db-1"}`, values: "1x10 _x30" },
                        { series: `probe_success{job="uptime", service="api"}`, values: "1x10 _x30" },
                    ],
                    alert_rule_test: [
                        { eval_time: "10m", alertname: "FinbotRedisDown", exp_alerts: [] },
                        { eval_time: "10m", alertname: "FinbotUptimeProbeMissing", exp_alerts: [] },
                        {
                            eval_time: "25m",
                            alertname: "FinbotRedisDown",
                            exp_alerts: [{ exp_labels: { severity: "page", namespace: "finbot-data" } }],
                        },
                        {
                            eval_time: "25m",
                            alertname: "FinbotPostgresDown",
                            exp_alerts: [{ exp_labels: { severity: "page", namespace: "finbot-data" } }],
                        },
                        {
                            eval_time: "25m",
                            alertname: "FinbotUptimeProbeMissing",
                            exp_alerts: [{ exp_labels: { severity: "page", job: "uptime", service: "api" } }],
                        },
                    ],
                },
                {
                    ...base,
                    // 10 calls a minute taking 0.8 s each (dev's threshold is 500 ms)...
                    input_series: [
                        { series: `cnpg_pg_stat_statements_calls{${pg}}`, values: "0+10x60" },
                        { series: `cnpg_pg_stat_statements_total_exec_seconds{${pg}}`, values: "0+8x60" },
                        // ...and a fast statement that must not fire.
                        {
                            series: `cnpg_pg_stat_statements_calls{namespace="finbot-data", datname="finbot", queryid="7"}`,
                            values: "0+10x60",
                        },
                        {
                            series: `cnpg_pg_stat_statements_total_exec_seconds{namespace="finbot-data", datname="finbot", queryid="7"}`,
                            values: "0+1x60",
                        },
                    ],
                    alert_rule_test: [
                        {
                            eval_time: "40m",
                            alertname: "FinbotPostgresSlowQueries",
                            exp_alerts: [{ exp_labels: { severity: "ticket", datname: "finbot", queryid: "42" } }],
                        },
                    ],
                },
            ];
        },
    );
    scenario("alert noise: an alert starting five times in a day is flapping; one long incident is not", () => {
        const alert = (name: string) => `ALERTS{alertname="${name}", alertstate="firing", severity="ticket", service="api"}`;
        // Each start is a firing sample after a stale one (Prometheus marks a resolved alert's series stale).
        const flapping = "1 1 stale stale 1 1 stale stale 1 1 stale stale 1 1 stale stale 1 1 1 1";
        return [
            {
                ...base,
                input_series: [
                    { series: alert("FinbotFlappy"), values: flapping },
                    { series: alert("FinbotSteady"), values: "1x19" },
                ],
                promql_expr_test: [
                    {
                        expr: "sum by (alertname) (sum_over_time(finbot:alert_starts:count[1d]))",
                        eval_time: "19m",
                        exp_samples: [
                            { labels: '{alertname="FinbotFlappy"}', value: 5 },
                            { labels: '{alertname="FinbotSteady"}', value: 1 },
                        ],
                    },
                ],
                // dev's flapsPerDay is 4: five starts flap, one does not.
                alert_rule_test: [
                    {
                        eval_time: "19m",
                        alertname: "FinbotAlertFlapping",
                        exp_alerts: [{ exp_labels: { severity: "ticket", alertname: "FinbotFlappy" } }],
                    },
                ],
            },
        ];
    });

    scenario("alert noise: six pages in a week, over dev's budget of five, open a ticket; five do not", () => {
        const page = (n: number) => ({
            series: `ALERTS{alertname="FinbotPage${n}", alertstate="firing", severity="page", service="api"}`,
            values: `${"stale ".repeat(n * 3)}1 1 1`,
        });
        const expect = (alerts: Array<Record<string, string>>) => [
            { eval_time: "30m", alertname: "FinbotPagesOverNoiseBudget", exp_alerts: alerts.map((exp_labels) => ({ exp_labels })) },
        ];
        return [
            { ...base, input_series: [1, 2, 3, 4, 5, 6].map(page), alert_rule_test: expect([{ severity: "ticket" }]) },
            { ...base, input_series: [1, 2, 3, 4, 5].map(page), alert_rule_test: expect([]) },
        ];
    });
    scenario(
        "monitoring and logging requesting over dev's ceiling (70%) of the cluster's memory for an hour open a ticket; at 50% they do not",
        () => {
            const requests = (namespace: string, bytes: number) => ({
                series: `kube_pod_container_resource_requests{namespace="${namespace}", pod="p-${namespace}", container="c", resource="memory"}`,
                values: `${bytes}x90`,
            });
            const expect = (alerts: Array<Record<string, string>>) => [
                {
                    eval_time: "80m",
                    alertname: "FinbotObservabilityOverheadHigh",
                    exp_alerts: alerts.map((exp_labels) => ({ exp_labels })),
                },
            ];
            return [
                {
                    ...base,
                    // 8 GiB of 10 requested by monitoring and logging: 80%.
                    input_series: [requests("finbot-monitoring", 5e9), requests("finbot-logging", 3e9), requests("finbot-apps", 2e9)],
                    alert_rule_test: expect([{ severity: "ticket", resource: "memory" }]),
                },
                {
                    ...base,
                    input_series: [requests("finbot-monitoring", 3e9), requests("finbot-logging", 2e9), requests("finbot-apps", 5e9)],
                    alert_rule_test: expect([]),
                },
            ];
        },
    );
});
