import { logging } from "../../dashboards/logging";
import type { DashboardDefinition } from "../../dashboards";
import { PlatformConfig } from "../config/schema";
import { RuleGroup } from "../monitoring/rules";
import { loggingFlows } from "./flows";
import { elasticsearchRules } from "./rules";

export * from "./errorTracking";
export * from "./lifecycle";
export * from "./logging";
export * from "./pipeline";

/** The Secret of a service or worker with its APM and Sentry settings is `<name>-observability`. */
export const OBSERVABILITY_SUFFIX = "observability";

/** The keys of that Secret, when APM and error tracking are on. */
export const OBSERVABILITY_KEYS = [
    "ELASTIC_APM_SERVER_URL",
    "ELASTIC_APM_SECRET_TOKEN",
    "ELASTIC_APM_SERVER_CA_CERT_FILE",
    "ELASTIC_APM_SERVICE_NAME",
    "ELASTIC_APM_ENVIRONMENT",
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
];

export function loggingRuleGroups(config: PlatformConfig): RuleGroup[] {
    return config.logging.enabled ? [elasticsearchRules(config.logging, config.namespaces.logging)] : [];
}

export function loggingDashboards(config: PlatformConfig): DashboardDefinition[] {
    return config.logging.enabled ? [logging(config.namespaces.logging)] : [];
}

/** What logging gives the platform: the flows of its namespace and the node agents', its rule groups and dashboards. */
export const loggingArea = { name: "logging", flows: loggingFlows, ruleGroups: loggingRuleGroups, dashboards: loggingDashboards };
