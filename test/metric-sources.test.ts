// Every metric a plan reads (its alert and recording rules, its dashboards' panels and variables,
// prometheus-adapter's rules) is written by something that plan deploys, against the target it is
// given: postgres_exporter's replication collector is not counted on Aurora, per-queue RabbitMQ
// metrics need per-object metrics on, a k6 series needs the check that writes it and a Prometheus
// that accepts remote writes. Metric names come from PromQL's own grammar (Prometheus's Lezer
// parser), not from a pattern over the text.
import * as assert from "node:assert/strict";
import { PlatformRun, RecordedResource, perRun, revealSecrets, runStack, runStackFile } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** The parts of Prometheus's Lezer PromQL parser used here (an ES module, loaded through its CommonJS build). */
interface PromqlSyntaxNode {
    name: string;
    from: number;
    to: number;
    type: { isError: boolean };
    node: { parent: { name: string } | null };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require("@prometheus-io/lezer-promql") as {
    parser: { parse(text: string): { iterate(visit: { enter(node: PromqlSyntaxNode): void }): void } };
};

/** The metric names a PromQL expression selects (Grafana's interval variables stand in as durations). */
function metricNames(expr: string): string[] {
    const promql = expr.replace(/\$__(rate_interval|interval|range)/g, "5m").replace(/\$\{?\w+\}?/g, "x");
    const names: string[] = [];
    let broken = false;
    parser.parse(promql).iterate({
        enter(node) {
            if (node.type.isError) broken = true;
            if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") names.push(promql.slice(node.from, node.to));
        },
    });
    if (broken) throw new Error(`not PromQL: ${expr}`);
    return names;
}

/** Where each metric is read, by metric name. */
function metricsRead(run: PlatformRun): Map<string, Set<string>> {
    const read = new Map<string, Set<string>>();
    const add = (where: string, expr: string) => {
        for (const name of metricNames(expr)) read.set(name, (read.get(name) ?? new Set()).add(where));
    };
    for (const resource of run.resources) {
        const inputs = revealSecrets(resource.inputs) as Any;
        if (resource.type.endsWith(":PrometheusRule"))
            for (const group of inputs.spec.groups)
                for (const rule of group.rules) add(`rule ${rule.alert ?? rule.record}`, String(rule.expr));
        if (resource.type === "kubernetes:core/v1:ConfigMap" && inputs.metadata?.labels?.grafana_dashboard === "1") {
            const model = JSON.parse(Object.values(inputs.data)[0] as string);
            for (const panel of model.panels.flatMap((p: Any) => [p, ...(p.panels ?? [])]))
                for (const target of panel.targets ?? []) add(`panel ${model.uid}/${panel.title}`, String(target.expr));
            for (const variable of model.templating?.list ?? []) {
                const query = String(variable.query?.query ?? variable.query ?? "");
                const series = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1];
                if (series) add(`variable ${model.uid}/${variable.name}`, series);
            }
        }
        if (resource.type === "kubernetes:helm.sh/v3:Release" && inputs.chart === "prometheus-adapter")
            for (const rule of inputs.values?.rules?.custom ?? []) add("prometheus-adapter", rule.seriesQuery);
    }
    return read;
}

const allReleases = perRun((run) => run.ofType("kubernetes:helm.sh/v3:Release").map((r) => revealSecrets(r.inputs) as Any));
const releases = (run: PlatformRun, chart: string): Any[] => allReleases(run).filter((r) => r.chart === chart);
const WORKLOAD_POD_SPEC: Record<string, (spec: Any) => Any> = {
    "kubernetes:apps/v1:Deployment": (spec) => spec.template.spec,
    "kubernetes:apps/v1:StatefulSet": (spec) => spec.template.spec,
    "kubernetes:batch/v1:CronJob": (spec) => spec.jobTemplate.spec.template.spec,
    "kubernetes:batch/v1:Job": (spec) => spec.template.spec,
};
const podSpecs = perRun((run): Any[] =>
    run.resources
        .filter((r: RecordedResource) => r.type in WORKLOAD_POD_SPEC)
        .map((r) => WORKLOAD_POD_SPEC[r.type]((revealSecrets(r.inputs) as Any).spec)),
);
const containers = (run: PlatformRun, image: RegExp): Any[] =>
    podSpecs(run).flatMap((pod) => pod.containers.filter((c: Any) => image.test(c.image)));
const envOf = (container: Any): Record<string, string> => Object.fromEntries((container.env ?? []).map((e: Any) => [e.name, e.value]));
const kps = (run: PlatformRun) => releases(run, "kube-prometheus-stack")[0]?.values;
/** k6 writes reach the platform's Prometheus: a receiver accepts them and a federation monitor brings its k6_ series over. */
const remoteWrites = (run: PlatformRun) =>
    customResources(run, "Prometheus").some((p) => p.spec?.enableRemoteWriteReceiver === true) &&
    customResources(run, "PodMonitor").some((m) =>
        m.spec.podMetricsEndpoints.some((e: Any) => e.path === "/federate" && e.params?.["match[]"]?.includes('{__name__=~"k6_.+"}')),
    );
const customResources = (run: PlatformRun, kind: string): Any[] =>
    run.resources.filter((r) => r.type.endsWith(`:${kind}`)).map((r) => revealSecrets(r.inputs) as Any);
const configMapsText = (run: PlatformRun) =>
    run
        .ofType("kubernetes:core/v1:ConfigMap")
        .map((r) => JSON.stringify((r.inputs as Any).data ?? {}))
        .join("\n");

/** postgres_exporter's containers, with their flags (Aurora's: its collectors chosen for Aurora). */
const postgresExporters = (run: PlatformRun) => containers(run, /postgres-exporter/).map((c) => (c.args ?? []) as string[]);

/** A writer of metrics: the names it writes, and whether (and how) the plan deploys it. */
interface Producer {
    what: string;
    names: RegExp;
    deployed(run: PlatformRun): boolean;
}

const PRODUCERS: Producer[] = [
    { what: "Prometheus itself", names: /^(ALERTS|up|scrape_[a-z_]+|prometheus_[a-z_]+)$/, deployed: (run) => kps(run) !== undefined },
    {
        what: "Alertmanager itself (kube-prometheus-stack)",
        names: /^alertmanager_[a-z_]+$/,
        deployed: (run) => kps(run) !== undefined && kps(run).alertmanager?.enabled !== false,
    },
    { what: "kube-state-metrics (kube-prometheus-stack)", names: /^kube_[a-z_]+$/, deployed: (run) => kps(run) !== undefined },
    {
        what: "the kubelets and cAdvisor (kube-prometheus-stack's kubelet ServiceMonitor)",
        names: /^(container_cpu_usage_seconds_total|container_memory_working_set_bytes|kubelet_volume_stats_[a-z_]+)$/,
        deployed: (run) => kps(run) !== undefined && kps(run).kubelet?.enabled !== false,
    },
    { what: "node-exporter", names: /^node_(cpu_seconds_total|memory_[A-Za-z_]+)$/, deployed: (run) => kps(run) !== undefined },
    {
        what: "the blackbox exporter",
        names: /^probe_[a-z_]+$/,
        deployed: (run) => releases(run, "prometheus-blackbox-exporter").length > 0,
    },
    {
        what: "OpenCost",
        names: /^(node_(cpu|ram|total)_hourly_cost|container_cpu_allocation|container_memory_allocation_bytes|kubecost_node_is_spot)$/,
        deployed: (run) => releases(run, "opencost").length > 0,
    },
    {
        what: "cert-manager (with its PodMonitor)",
        names: /^certmanager_[a-z_]+$/,
        deployed: (run) =>
            releases(run, "cert-manager").length > 0 &&
            run.ofType("kubernetes:monitoring.coreos.com/v1:PodMonitor").some((m) => (m.inputs as Any).metadata.name === "cert-manager"),
    },
    {
        what: "FinBot's services, by their metrics contract (finbot:services[].slo.sli)",
        names: /^http_request(s_total|_duration_seconds_(bucket|count|sum))$/,
        deployed: (run) =>
            run.config.services.length > 0 &&
            run.config.services.every((s) => s.slo.sli.requestsMetric === "http_requests_total") &&
            run.config.services.every((s) => s.slo.sli.durationMetric === "http_request_duration_seconds"),
    },
    {
        what: "CloudNativePG's instances",
        names: /^cnpg_(collector_up|backends_total|pg_replication_lag|pg_settings_setting)$/,
        deployed: (run) => customResources(run, "Cluster").some((c) => c.apiVersion === "postgresql.cnpg.io/v1"),
    },
    {
        what: "CloudNativePG's custom queries (pg_stat_statements)",
        names: /^cnpg_pg_stat_statements_(calls|total_exec_seconds)$/,
        deployed: (run) =>
            customResources(run, "Cluster").some((c) => c.spec?.monitoring?.customQueriesConfigMap?.length > 0) &&
            configMapsText(run).includes("pg_stat_statements"),
    },
    {
        what: "postgres_exporter's default collectors",
        names: /^pg_(up|settings_max_connections|stat_database_numbackends)$/,
        deployed: (run) => postgresExporters(run).length > 0,
    },
    {
        what: "postgres_exporter's stat_statements collector (--collector.stat_statements)",
        names: /^pg_stat_statements_(calls_total|seconds_total)$/,
        deployed: (run) => postgresExporters(run).some((args) => args.includes("--collector.stat_statements")),
    },
    {
        what: "postgres_exporter's replication and wal collectors (not on Aurora: it rejects pg_last_xact_replay_timestamp())",
        names: /^pg_(replication_[a-z_]+|wal_[a-z_]+)$/,
        deployed: (run) => postgresExporters(run).some((args) => !args.includes("--no-collector.replication")),
    },
    {
        what: "postgres_exporter's query of aurora_replica_status() (--extend.query-path)",
        names: /^aurora_replica_lag_seconds$/,
        deployed: (run) =>
            postgresExporters(run).some((args) => args.some((a) => a.startsWith("--extend.query-path"))) &&
            configMapsText(run).includes("aurora_replica_status()"),
    },
    { what: "redis_exporter", names: /^redis_(?!key_group_)[a-z_]+$/, deployed: (run) => containers(run, /redis_exporter/).length > 0 },
    {
        what: "redis_exporter's keys per prefix (--check-key-groups)",
        names: /^redis_key_group_[a-z_]+$/,
        deployed: (run) =>
            containers(run, /redis_exporter/).some((c) => (c.args ?? []).some((a: string) => a.startsWith("--check-key-groups="))),
    },
    {
        what: "RabbitMQ's Prometheus plugin (aggregated)",
        names: /^rabbitmq_(identity_info|global_[a-z_]+|alarms_[a-z_]+)$/,
        deployed: (run) => customResources(run, "RabbitmqCluster").length > 0,
    },
    {
        what: "RabbitMQ's Prometheus plugin, per queue (prometheus.return_per_object_metrics)",
        names: /^rabbitmq_queue_[a-z_]+$/,
        deployed: (run) =>
            customResources(run, "RabbitmqCluster").some((c) =>
                String(c.spec?.rabbitmq?.additionalConfig ?? "").includes("prometheus.return_per_object_metrics = true"),
            ),
    },
    {
        what: "the Elasticsearch exporter",
        names: /^elasticsearch_[a-z_]+$/,
        deployed: (run) => releases(run, "prometheus-elasticsearch-exporter").length > 0,
    },
    {
        what: "k6 load tests (remote write into the checks' receiver, federated)",
        names: /^k6_http_[a-z0-9_]+$/,
        deployed: (run) =>
            remoteWrites(run) && containers(run, /grafana\/k6:[\d.]+$/).some((c) => (c.args ?? []).includes("experimental-prometheus-rw")),
    },
    {
        what: "the browser page checks' Trends finbot_page_lcp/ttfb (p75 written into the checks' receiver, federated)",
        names: /^k6_finbot_page_(lcp|ttfb)_p75$/,
        deployed: (run) =>
            remoteWrites(run) &&
            containers(run, /grafana\/k6:.*-with-browser$/).some((c) => /p\(75\)/.test(envOf(c).K6_PROMETHEUS_RW_TREND_STATS ?? "")) &&
            configMapsText(run).includes('new Trend(\\"finbot_page_lcp\\", true)'),
    },
    {
        what: "the egress gateway's Envoy (its PodMonitor on /stats/prometheus keeps the third-party metrics)",
        names: /^envoy_(cluster_upstream_(rq_(total|xx|time_bucket)|cx_(tx|rx)_bytes_total)|http_local_rate_limit_rate_limited)$/,
        deployed: (run) =>
            customResources(run, "PodMonitor").some((m) =>
                m.spec.podMetricsEndpoints.some(
                    (e: Any) => e.path === "/stats/prometheus" && e.metricRelabelings?.some((r: Any) => r.action === "keep"),
                ),
            ),
    },
    {
        what: "the Pushgateway (CI pushes the assets budget)",
        names: /^finbot_asset_[a-z_]+$/,
        deployed: (run) => releases(run, "prometheus-pushgateway").length > 0,
    },
];

/** What is wrong with a plan's metrics: each read metric nobody in the plan writes, with where it is read. */
function unwrittenMetrics(run: PlatformRun): string[] {
    const recorded = new Set(
        customResources(run, "PrometheusRule").flatMap((r) =>
            r.spec.groups.flatMap((g: Any) => g.rules.filter((x: Any) => x.record).map((x: Any) => x.record)),
        ),
    );
    // finbot:monitoring.businessMetrics declares what FinBot's services write for its panels.
    const business = new Set(run.config.monitoring.businessMetrics.flatMap((m) => metricNames(m.expr)));
    const problems: string[] = [];
    for (const [name, where] of metricsRead(run)) {
        if (recorded.has(name) || business.has(name)) continue;
        const producers = PRODUCERS.filter((p) => p.names.test(name));
        if (producers.some((p) => p.deployed(run))) continue;
        const readBy = [...where].sort().join(", ");
        problems.push(
            producers.length === 0
                ? `${name}: no known writer (read by ${readBy})`
                : `${name}: ${producers.map((p) => p.what).join(" / ")} not deployed in this plan (read by ${readBy})`,
        );
    }
    return problems.sort();
}

describe("every metric a plan reads is written by what it deploys", () => {
    const stacks: Array<[string, () => Promise<PlatformRun>]> = [
        ["dev", () => runStack("dev")],
        ["prod", () => runStack("prod")],
        ["test/stacks/everything.yaml", () => runStackFile("test/stacks/everything.yaml")],
    ];
    for (const [stack, run] of stacks) {
        it(`${stack}: rules, panels, variables and prometheus-adapter read only metrics the plan's parts write`, async () => {
            const plan = await run();
            assert.ok(metricsRead(plan).size > 40, "the plan reads metrics");
            assert.deepEqual(unwrittenMetrics(plan), []);
        });
    }

    it("finds a metric read where its writer is not deployed: Aurora's replication collector, and a page check without remote writes", async () => {
        const prod = await runStack("prod");
        const withRule = (run: PlatformRun, expr: string): PlatformRun => {
            const rule = {
                type: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
                name: "planted",
                inputs: { spec: { groups: [{ name: "planted", rules: [{ alert: "Planted", expr }] }] } },
            };
            return Object.assign(Object.create(Object.getPrototypeOf(run)), run, { resources: [...run.resources, rule] });
        };
        assert.deepEqual(unwrittenMetrics(withRule(prod, "pg_replication_lag_seconds > 30")), [
            "pg_replication_lag_seconds: postgres_exporter's replication and wal collectors (not on Aurora: it rejects pg_last_xact_replay_timestamp()) not deployed in this plan (read by rule Planted)",
        ]);
        assert.deepEqual(unwrittenMetrics(withRule(prod, "rate(some_unknown_total[5m]) > 0")), [
            "some_unknown_total: no known writer (read by rule Planted)",
        ]);
        // k6's own web vitals are split by rating: nothing may read them for a page's p75.
        assert.match(
            unwrittenMetrics(withRule(prod, "k6_browser_web_vital_lcp_p75 > 2.5"))[0],
            /^k6_browser_web_vital_lcp_p75: no known writer/,
        );
        const dev = await runStack("dev");
        assert.deepEqual(unwrittenMetrics(withRule(dev, "k6_http_reqs_total > 0")), [
            "k6_http_reqs_total: k6 load tests (remote write into the checks' receiver, federated) not deployed in this plan (read by rule Planted)",
        ]);
    });
});
