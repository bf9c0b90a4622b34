// What the monitoring area gives the platform: the flows of its namespace, its own rule groups
// (RED and SLOs per service, uptime, page load, the platform's alerts) and dashboards.
import { DashboardDefinition, alertQualityDashboard, coreDashboards, costDashboard, pageLoadDashboard } from "../../dashboards";
import { stackDefaults } from "../config/resolve";
import { PlatformConfig } from "../config/schema";
import { edgeProbes, measuredPages } from "../traffic/pages";
import { hostFor } from "../traffic/routes";
import { ALERTS_FIRING, ALERT_STARTS } from "./alertQualityRules";
import { monitoringFlows } from "./flows";
import { monitoringRuleGroups } from "./monitoring";
import { BUDGET_SERIES, PAGE_SERIES } from "./pageLoadRules";
import { OBSERVABILITY_SHARE } from "./platformRules";
import { RuleGroup } from "./rules";
import { CPU_USAGE_SERIES, MEMORY_USAGE_SERIES } from "./usageRules";

/** Where the platform's own observability runs: monitoring, logging and the node agents (Filebeat, node-exporter). */
const observabilityNamespaces = (config: PlatformConfig) => [
    config.namespaces.monitoring,
    config.namespaces.logging,
    config.namespaces.nodeAgents,
];

function ruleGroups(config: PlatformConfig): RuleGroup[] {
    if (!config.monitoring.enabled) return [];
    const ns = config.namespaces;
    return monitoringRuleGroups({
        config: config.monitoring,
        appsNamespace: ns.apps,
        services: config.services,
        volumeNamespaces: [ns.monitoring, ns.data, ns.logging],
        certificates: stackDefaults(config).pki,
        pages: measuredPages(config),
        edgeProbes: edgeProbes(config),
        observabilityNamespaces: observabilityNamespaces(config),
    });
}

function dashboards(config: PlatformConfig): DashboardDefinition[] {
    if (!config.monitoring.enabled) return [];
    const ns = config.namespaces;
    return [
        ...coreDashboards({
            appsNamespace: ns.apps,
            services: config.services,
            businessMetrics: config.monitoring.businessMetrics,
            usageSeries: { cpu: CPU_USAGE_SERIES, memory: MEMORY_USAGE_SERIES },
            observabilityShare: { series: OBSERVABILITY_SHARE, ceilingPercent: config.monitoring.overheadCeilingPercent },
            deploys: { loadTests: config.traffic.loadTest.enabled, pushgateway: config.monitoring.pushgateway },
        }),
        alertQualityDashboard({
            series: { starts: ALERT_STARTS, firing: ALERTS_FIRING },
            pagesPerWeek: config.monitoring.noise.pagesPerWeek,
        }),
        ...(config.monitoring.cost ? [costDashboard(ns.apps)] : []),
        ...(measuredPages(config).length > 0
            ? [
                  pageLoadDashboard({
                      series: { p75: PAGE_SERIES, budget: BUDGET_SERIES },
                      kibanaUrl: config.logging.enabled ? `https://${hostFor("kibana", config.traffic.domain)}` : undefined,
                      cdn: config.traffic.cdn.enabled,
                  }),
              ]
            : []),
    ];
}

export const monitoringArea = { name: "monitoring", flows: monitoringFlows, ruleGroups, dashboards };
