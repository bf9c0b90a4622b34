// Everything the monitoring area provisions for a config: rule groups and dashboards of every
// enabled area. The program, the plan summary and the tests use the same lists.
import { DashboardDefinition, coreDashboards } from "../../dashboards";
import { PlatformConfig } from "../config/schema";
import { dataTierDashboards, dataTierRuleGroups } from "../data";
import { loggingDashboards, loggingRuleGroups } from "../logging";
import { monitoringRuleGroups } from "../monitoring/monitoring";
import { RuleGroup } from "../monitoring/rules";

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
