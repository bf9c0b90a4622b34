// Shared pieces of the dashboards: the Prometheus datasource, panel helpers and the context each
// dashboard is built from. Dashboards are plain Grafana JSON models built with
// @grafana/grafana-foundation-sdk; the monitoring component provisions them as ConfigMaps.
import { ReduceDataOptionsBuilder } from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import type { MonitoringConfig } from "../components/config/monitoring";
import type { ServiceConfig } from "../components/config/schema";

/** The datasource kube-prometheus-stack provisions (`grafana.sidecar.datasources.uid`). */
export const PROMETHEUS = { type: "prometheus", uid: "prometheus" };

/** What a dashboard may depend on. */
export interface DashboardContext {
    appsNamespace: string;
    services: ServiceConfig[];
    businessMetrics: MonitoringConfig["businessMetrics"];
    /** The recorded usage series per workload container (right-sizing): CPU in cores, memory in bytes. */
    usageSeries: { cpu: string; memory: string };
    /** Monitoring, logging and the node agents' recorded share of the cluster's requests, and its ceiling. */
    observabilityShare: { series: string; ceilingPercent: number };
    /** What the stack deploys that some panels read: panels are drawn only where their metrics can exist. */
    deploys: {
        /** k6 load tests (finbot:traffic.loadTest): the k6_http_* series. */
        loadTests: boolean;
        /** The Pushgateway (finbot:monitoring.pushgateway): the performance budget's series. */
        pushgateway: boolean;
    };
}

/** A built dashboard: its stable uid, Grafana folder and JSON model. */
export interface DashboardDefinition {
    uid: string;
    title: string;
    folder: string;
    model: dashboard.Dashboard;
}

export const FOLDER = "FinBot";

export function query(expr: string, legend = ""): DataqueryBuilder {
    return new DataqueryBuilder().datasource(PROMETHEUS).expr(expr).legendFormat(legend);
}

/** Every panel says what it shows and how to read it (`description`: Grafana's info tooltip). */
export function timeseriesPanel(
    title: string,
    description: string,
    unit: string,
    queries: DataqueryBuilder[],
    width = 12,
    height = 8,
): timeseries.PanelBuilder {
    return new timeseries.PanelBuilder()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(PROMETHEUS)
        .targets(queries)
        .span(width)
        .height(height);
}

export function statPanel(title: string, description: string, unit: string, q: DataqueryBuilder, width = 6, height = 4): stat.PanelBuilder {
    return new stat.PanelBuilder()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(PROMETHEUS)
        .withTarget(q.instant())
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]))
        .span(width)
        .height(height);
}

export function tablePanel(title: string, description: string, q: DataqueryBuilder, width = 24, height = 8): table.PanelBuilder {
    return new table.PanelBuilder()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .withTarget(q.instant().format(PromQueryFormat.Table))
        .span(width)
        .height(height);
}

/** A dashboard with FinBot's defaults: tags, time range, refresh. */
export function finbotDashboard(uid: string, title: string): dashboard.DashboardBuilder {
    return new dashboard.DashboardBuilder(title)
        .uid(uid)
        .tags(["finbot", "generated"])
        .time({ from: "now-6h", to: "now" })
        .refresh("1m")
        .timezone("browser")
        .readonly();
}

/** A dropdown of FinBot's services, from the SLO recording rules. */
export function serviceVariable(): dashboard.QueryVariableBuilder {
    return new dashboard.QueryVariableBuilder("service")
        .label("Service")
        .datasource(PROMETHEUS)
        .query("label_values(slo:objective:ratio, service)")
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged);
}

export { dashboard };
