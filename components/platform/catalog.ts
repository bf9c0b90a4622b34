// Everything the monitoring area provisions for a config: rule groups and dashboards of every
// enabled area. The program, the plan summary and the tests use the same lists.
import { DashboardDefinition, coreDashboards } from "../../dashboards";
import { PlatformConfig } from "../config/schema";
import { dataTierDashboards, dataTierRuleGroups } from "../data";
import { loggingDashboards, loggingRuleGroups } from "../logging";
import { monitoringRuleGroups } from "../monitoring/monitoring";
import { RuleGroup } from "../monitoring/rules";
import { UiRoute } from "../traffic/routes";

/** Namespaces whose persistent volumes are watched for filling up. */
export function watchedVolumeNamespaces(config: PlatformConfig): string[] {
    return [config.namespaces.monitoring, config.namespaces.data, config.namespaces.logging];
}

/** Rule groups contributed by areas other than monitoring itself. */
export function areaRuleGroups(config: PlatformConfig): RuleGroup[] {
    return [...dataTierRuleGroups(config), ...loggingRuleGroups(config)];
}

/** Every rule group Prometheus gets. */
export function allRuleGroups(config: PlatformConfig): RuleGroup[] {
    return [
        ...monitoringRuleGroups({
            config: config.monitoring,
            appsNamespace: config.namespaces.apps,
            services: config.services,
            volumeNamespaces: watchedVolumeNamespaces(config),
            certificates: config.traffic.enabled,
        }),
        ...areaRuleGroups(config),
    ];
}

/** Every dashboard Grafana gets. */
export function allDashboards(config: PlatformConfig): DashboardDefinition[] {
    return [
        ...coreDashboards({
            appsNamespace: config.namespaces.apps,
            services: config.services,
            businessMetrics: config.monitoring.businessMetrics,
        }),
        ...dataTierDashboards(config),
        ...loggingDashboards(config),
    ];
}

/** In-cluster Prometheus URL (kube-prometheus-stack's Service). */
export const PROMETHEUS_URL = (monitoringNamespace: string) =>
    `http://kube-prometheus-stack-prometheus.${monitoringNamespace}.svc.cluster.local:9090`;

/** The operator UIs the gateway routes, for the areas that are on. */
export function operatorUis(config: PlatformConfig): UiRoute[] {
    const ns = config.namespaces;
    return [
        ...(config.monitoring.enabled
            ? [
                  { name: "grafana", namespace: ns.monitoring, service: "kube-prometheus-stack-grafana", port: 80, basicAuth: false },
                  {
                      name: "prometheus",
                      namespace: ns.monitoring,
                      service: "kube-prometheus-stack-prometheus",
                      port: 9090,
                      basicAuth: true,
                  },
                  {
                      name: "alertmanager",
                      namespace: ns.monitoring,
                      service: "kube-prometheus-stack-alertmanager",
                      port: 9093,
                      basicAuth: true,
                  },
              ]
            : []),
        ...(config.logging.enabled
            ? [{ name: "kibana", namespace: ns.logging, service: "logs-kb-http", port: 5601, basicAuth: false }]
            : []),
    ];
}
