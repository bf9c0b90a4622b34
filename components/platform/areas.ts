// The areas the platform is made of, and what each gives it: the flows of its namespaces, its rule
// groups and its dashboards. The platform only loops over them; adding an exporter, an alert, a
// dashboard or a flow touches its area alone (test/codebase.test.ts holds each area to this).
import { DashboardDefinition } from "../../dashboards";
import { PlatformConfig } from "../config/schema";
import { dataArea } from "../data";
import { FlowContext } from "../lib/flowContext";
import { NamespaceFlows } from "../lib/networkPolicy";
import { loggingArea } from "../logging";
import { RuleGroup, monitoringArea } from "../monitoring";
import { trafficArea } from "../traffic";
import { workloadsArea } from "../workloads";

export interface PlatformArea {
    name: string;
    /** The flows of the namespaces the area runs in (each namespace denies everything else). */
    flows(context: FlowContext): NamespaceFlows[];
    /** Its Prometheus rule groups, for the stack's config (none when it is off). */
    ruleGroups(config: PlatformConfig): RuleGroup[];
    /** Its Grafana dashboards (none when it is off). */
    dashboards(config: PlatformConfig): DashboardDefinition[];
}

/** In the order their rule groups and dashboards are served. */
export const AREAS: PlatformArea[] = [monitoringArea, dataArea, loggingArea, trafficArea, workloadsArea];

/** The rule groups the platform's Prometheus serves for a config (none without monitoring). */
export function platformRuleGroups(config: PlatformConfig): RuleGroup[] {
    return config.monitoring.enabled ? AREAS.flatMap((area) => area.ruleGroups(config)) : [];
}
