// Prometheus rule types shared by the rule generators, and the PromQL helpers they use.

export interface RecordingRule {
    record: string;
    expr: string;
    labels?: Record<string, string>;
}

export interface AlertingRule {
    alert: string;
    expr: string;
    for?: string;
    /** How long it stays firing once its condition clears: one incident, one notification, however it flaps. */
    keep_firing_for?: string;
    labels: Record<string, string>;
    /** `runbook`: the name of a page in docs/runbooks; Monitoring turns it into an absolute `runbook_url`. */
    annotations: { summary: string; description: string; runbook: RunbookName };
}

/** The runbooks in docs/runbooks, by file name without `.md`. */
export type RunbookName =
    | "slo-burn"
    | "capacity"
    | "memory-leak"
    | "disk"
    | "latency-regression"
    | "certificates"
    | "postgresql"
    | "redis"
    | "rabbitmq"
    | "elasticsearch"
    | "page-load"
    | "monitoring-overhead"
    | "alert-noise"
    | "third-party-apis";

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
    name: string;
    interval?: string;
    rules: Rule[];
}

export type { Severity } from "./conventions";

export const isAlert = (rule: Rule): rule is AlertingRule => "alert" in rule;

/** `{a="x", b=~"y"}` from label matchers; values are escaped for PromQL strings. */
export function selector(matchers: Record<string, string>): string {
    const parts = Object.entries(matchers).map(([label, value]) => {
        const regex = value.startsWith("~");
        const raw = regex ? value.slice(1) : value;
        return `${label}${regex ? "=~" : "="}"${raw.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
    });
    return `{${parts.join(", ")}}`;
}

/** A regex matcher value for `selector`: `~a|b|c`. */
export function anyOf(values: string[]): string {
    return `~${values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")}`;
}

/** Where a runbook lives in this repository. */
export const runbookPath = (name: RunbookName) => `docs/runbooks/${name}.md`;

/**
 * Rule groups as Prometheus gets them: each alert's runbook as an absolute `runbook_url` (what
 * Alertmanager templates, Grafana and kube-prometheus-stack's own rules use), under `baseUrl`
 * (the config check requires one while monitoring is on; without it, the repository path).
 */
export function withRunbookUrls(groups: RuleGroup[], baseUrl: string | undefined): Array<Omit<RuleGroup, "rules"> & { rules: unknown[] }> {
    const base = baseUrl === undefined ? undefined : baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
    return groups.map((group) => ({
        ...group,
        rules: group.rules.map((rule) => {
            if (!isAlert(rule)) return rule;
            const { runbook, ...annotations } = rule.annotations;
            return {
                ...rule,
                annotations: { ...annotations, runbook_url: base ? new URL(`${runbook}.md`, base).href : runbookPath(runbook) },
            };
        }),
    }));
}
