import { postgresql } from "../../dashboards/postgresql";
import { rabbitmq } from "../../dashboards/rabbitmq";
import { redis } from "../../dashboards/redis";
import type { DashboardDefinition } from "../../dashboards";
import { PlatformConfig } from "../config/schema";
import { RuleGroup } from "../monitoring/rules";
import { dataFlows } from "./flows";
import { cacheRules, databaseRules, queueRules } from "./rules";

export * from "./cache";
export * from "./connections";
export * from "./dataTier";
export * from "./database";
export * from "./queue";

/** Alert rules of the enabled data-tier parts (for the monitoring area). */
export function dataTierRuleGroups(config: PlatformConfig): RuleGroup[] {
    const ns = config.namespaces.data;
    return [
        ...(config.database.enabled ? [databaseRules(config.database, ns)] : []),
        ...(config.cache.enabled ? [cacheRules(config.cache, ns)] : []),
        ...(config.queue.enabled ? [queueRules(config.queue, ns)] : []),
    ];
}

/** Dashboards of the enabled data-tier parts. */
export function dataTierDashboards(config: PlatformConfig): DashboardDefinition[] {
    const ns = config.namespaces.data;
    return [
        ...(config.database.enabled ? [postgresql(ns, config.database.mode)] : []),
        ...(config.cache.enabled ? [redis(ns)] : []),
        ...(config.queue.enabled ? [rabbitmq(ns)] : []),
    ];
}

/** What the data tier gives the platform: the flows of its namespaces, its rule groups and dashboards. */
export const dataArea = { name: "data", flows: dataFlows, ruleGroups: dataTierRuleGroups, dashboards: dataTierDashboards };
