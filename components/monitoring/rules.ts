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
    labels: Record<string, string>;
    annotations: { summary: string; description: string; runbook: string };
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
    name: string;
    interval?: string;
    rules: Rule[];
}

export type Severity = "page" | "ticket";

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

/** The runbook of an alert, as a path in this repository (`annotations.runbook`). */
export const runbook = (name: string) => `docs/runbooks/${name}.md`;
