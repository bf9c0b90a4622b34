// Autoscaling and capacity: HPA current/desired/max replicas, CPU and memory against requests,
// and the headroom left before the HPA hits its ceiling.
import { DashboardContext, DashboardDefinition, FOLDER, finbotDashboard, query, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-autoscaling";

// Long: the dashboard's panels in the order Grafana draws them.
export function autoscaling(ctx: DashboardContext): DashboardDefinition {
    const ns = `namespace="${ctx.appsNamespace}"`;
    let builder = finbotDashboard(UID, "FinBot / Autoscaling and capacity")
        .withRow(new dashboard.RowBuilder("HPA"))
        .withPanel(
            timeseriesPanel(
                "Replicas: current, desired, max",
                "HPA replicas per service: what runs, what the HPA wants, and its ceiling.",
                "short",
                [
                    query(`kube_horizontalpodautoscaler_status_current_replicas{${ns}}`, "{{horizontalpodautoscaler}} current"),
                    query(`kube_horizontalpodautoscaler_status_desired_replicas{${ns}}`, "{{horizontalpodautoscaler}} desired"),
                    query(`kube_horizontalpodautoscaler_spec_max_replicas{${ns}}`, "{{horizontalpodautoscaler}} max"),
                ],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Headroom: replicas left before max",
                "Replicas each service may still add before its HPA is at max: near zero means the next spike is not absorbed.",
                "short",
                [
                    query(
                        `kube_horizontalpodautoscaler_spec_max_replicas{${ns}} - on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_status_current_replicas{${ns}}`,
                        "{{horizontalpodautoscaler}}",
                    ),
                ],
            ),
        )
        .withRow(new dashboard.RowBuilder("Usage against requests"))
        .withPanel(
            timeseriesPanel(
                "CPU used / requested",
                "CPU used as a share of requests, per service: the HPA's CPU target is measured against this.",
                "percentunit",
                [
                    query(
                        `sum by (container) (rate(container_cpu_usage_seconds_total{${ns}, container!=""}[$__rate_interval])) / sum by (container) (kube_pod_container_resource_requests{${ns}, resource="cpu"})`,
                        "{{container}}",
                    ),
                ],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Memory working set / requested",
                "Memory working set as a share of requests, per service: the HPA's memory target is measured against this.",
                "percentunit",
                [
                    query(
                        `sum by (container) (container_memory_working_set_bytes{${ns}, container!=""}) / sum by (container) (kube_pod_container_resource_requests{${ns}, resource="memory"})`,
                        "{{container}}",
                    ),
                ],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Memory working set per pod (leak trend)",
                "Working set per pod over days: a line that only rises is the leak the FinbotMemoryLeakSuspected alert predicts.",
                "bytes",
                [query(`container_memory_working_set_bytes{${ns}, container!=""}`, "{{pod}}")],
            ),
        )
        .withRow(new dashboard.RowBuilder("Right-sizing (npm run rightsize)"))
        .withPanel(
            timeseriesPanel(
                "CPU requested vs used, per workload",
                "Each workload container's CPU request against the busiest pod's 5-minute use (recorded series): a wide gap is money asked for and not used.",
                "cores",
                [
                    query(`max by (container) (kube_pod_container_resource_requests{${ns}, resource="cpu"})`, "{{container}} requested"),
                    query(`max by (container) (${ctx.usageSeries.cpu}{${ns}})`, "{{container}} used"),
                ],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Memory requested vs used, per workload",
                "Each workload container's memory request against the busiest pod's peak working set (recorded series).",
                "bytes",
                [
                    query(`max by (container) (kube_pod_container_resource_requests{${ns}, resource="memory"})`, "{{container}} requested"),
                    query(`max by (container) (${ctx.usageSeries.memory}{${ns}})`, "{{container}} used"),
                ],
            ),
        )
        .withRow(new dashboard.RowBuilder("Cluster capacity"))
        .withPanel(
            timeseriesPanel(
                "Requested / allocatable",
                "Cluster requests against allocatable capacity: above ~85% new pods may not schedule.",
                "percentunit",
                [
                    query(
                        'sum(kube_pod_container_resource_requests{resource="cpu"}) / sum(kube_node_status_allocatable{resource="cpu"})',
                        "cpu",
                    ),
                    query(
                        'sum(kube_pod_container_resource_requests{resource="memory"}) / sum(kube_node_status_allocatable{resource="memory"})',
                        "memory",
                    ),
                ],
            ),
        );
    builder = builder
        .withRow(new dashboard.RowBuilder("Monitoring overhead"))
        .withPanel(
            timeseriesPanel(
                "Series per job (top 10)",
                "Samples each scrape job brings, after relabelling: a job that grows is a label with unbounded values (runbook monitoring-overhead).",
                "short",
                [query("topk(10, sum by (job) (scrape_samples_post_metric_relabeling))", "{{job}}")],
                12,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Prometheus head series",
                "Series Prometheus holds in memory; FinbotPrometheusHeadSeriesHigh opens a ticket near what its memory limit holds.",
                "short",
                [query('max by (pod) (prometheus_tsdb_head_series{job="kube-prometheus-stack-prometheus"})', "{{pod}}")],
                12,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Monitoring and logging share of requests",
                `What monitoring, logging and the node agents request of everything requested in the cluster, CPU and memory; over ${ctx.observabilityShare.ceilingPercent}% for an hour opens a ticket (finbot:monitoring.overheadCeilingPercent).`,
                "percentunit",
                [
                    query(`${ctx.observabilityShare.series}`, "{{resource}}"),
                    query(`vector(${ctx.observabilityShare.ceilingPercent / 100})`, "ceiling"),
                ],
                24,
            ),
        );
    if (!ctx.deploys.loadTests) return { uid: UID, title: "FinBot / Autoscaling and capacity", folder: FOLDER, model: builder.build() };
    // Drawn only where load tests run: elsewhere the k6 series never exist.
    builder = builder
        .withRow(new dashboard.RowBuilder("Load tests (k6, finbot:traffic.loadTest)"))
        .withPanel(
            timeseriesPanel(
                "k6 requests/s",
                "Requests per second the k6 load test sends (load tests write here while they run).",
                "reqps",
                [query("sum by (service) (rate(k6_http_reqs_total[$__rate_interval]))", "{{service}}")],
                8,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "k6 latency p95 / p99",
                "Latency the load test measures, against the SLO's threshold.",
                "s",
                [
                    query("max by (service) (k6_http_req_duration_p95)", "p95 {{service}}"),
                    query("max by (service) (k6_http_req_duration_p99)", "p99 {{service}}"),
                ],
                8,
            ),
        )
        .withPanel(
            timeseriesPanel(
                "k6 failed request rate",
                "Share of load-test requests that failed; the k6 threshold fails the Job above the error budget.",
                "percentunit",
                [query("max by (service) (k6_http_req_failed_rate)", "{{service}}")],
                8,
            ),
        );
    return { uid: UID, title: "FinBot / Autoscaling and capacity", folder: FOLDER, model: builder.build() };
}
