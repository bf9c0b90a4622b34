// What the traffic area gives the platform: the flows of its namespaces, and the third parties' rules and
// dashboard (when there are any).
import { DashboardDefinition, thirdPartyApisDashboard } from "../../dashboards";
import { PlatformConfig } from "../config/schema";
import { RuleGroup } from "../monitoring/rules";
import { FlowContext } from "../lib/flowContext";
import { checksFlows, trafficFlows } from "./flows";
import { THIRD_PARTY_SERIES, thirdPartyRuleGroup } from "./thirdPartyRules";

const meteredEgress = (config: PlatformConfig) => config.traffic.enabled && config.thirdParties.length > 0;

export function trafficRuleGroups(config: PlatformConfig): RuleGroup[] {
    return meteredEgress(config) ? [thirdPartyRuleGroup(config.thirdParties, config.namespaces.traffic)] : [];
}

export function trafficDashboards(config: PlatformConfig): DashboardDefinition[] {
    return meteredEgress(config) ? [thirdPartyApisDashboard({ series: THIRD_PARTY_SERIES, namespace: config.namespaces.traffic })] : [];
}

export const trafficArea = {
    name: "traffic",
    flows: (context: FlowContext) => [...trafficFlows(context), ...checksFlows(context)],
    ruleGroups: trafficRuleGroups,
    dashboards: trafficDashboards,
};
