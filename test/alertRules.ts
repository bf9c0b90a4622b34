// What the promtool tests load: the rule groups the program builds for a config, and the dev API
// with both SLOs at 99.9% (the objectives the SLO scenarios are stated for).
import { PlatformConfig, ServiceConfig } from "../components/config/schema";
import { RuleGroup } from "../components/monitoring/rules";
import { runPlatform } from "./harness";

/** The rule groups Monitoring serves for a config: those the program builds. */
export async function alertRuleGroups(config: PlatformConfig, stack: string): Promise<RuleGroup[]> {
    return (await runPlatform(config, stack)).platform.monitoring?.ruleGroups ?? [];
}

/** The dev API with its latency SLO tightened to 99.9%, to test the latency SLI like availability. */
export function sloTestService(dev: PlatformConfig): ServiceConfig {
    const api = dev.services[0];
    return { ...api, slo: { ...api.slo, latency: { ...api.slo.latency, percent: 99.9 } } };
}
