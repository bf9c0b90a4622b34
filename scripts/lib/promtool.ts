// Helpers for checking the generated rules with promtool: rule files, unit-test files, and the
// SLO incident scenarios shared by the tests and scripts/slo-detection.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { ServiceConfig } from "../../components/config/schema";
import { RuleGroup, isAlert } from "../../components/monitoring/rules";
import { leLabel } from "../../components/monitoring/slo";
import { run } from "./tools";

export function scratchDir(prefix: string): string {
    return mkdtempSync(path.join(tmpdir(), `finbot-${prefix}-`));
}

/**
 * Writes rule groups as a Prometheus rule file. For unit tests of alert behaviour the annotations
 * can be left out: promtool compares rendered annotations exactly, and they are prose, not logic
 * (`promtool check rules` validates their templates on the full file).
 */
export function writeRuleFile(dir: string, groups: RuleGroup[], options: { annotations: boolean } = { annotations: true }): string {
    const file = path.join(dir, "rules.yaml");
    const strip = (group: RuleGroup): RuleGroup => ({
        ...group,
        rules: group.rules.map((rule) => (isAlert(rule) && !options.annotations ? { ...rule, annotations: undefined as never } : rule)),
    });
    writeFileSync(file, YAML.stringify({ groups: groups.map(strip) }));
    return file;
}

export interface PromtoolTestCase {
    interval: string;
    input_series: Array<{ series: string; values: string }>;
    alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }>;
    promql_expr_test?: Array<{ expr: string; eval_time: string; exp_samples: Array<{ labels: string; value: number }> }>;
}

/** Runs `promtool test rules` on the given cases against a rule file. */
export function promtoolTest(
    ruleFile: string,
    cases: PromtoolTestCase[],
    evaluationInterval = "1m",
): { status: number | null; output: string } {
    const dir = path.dirname(ruleFile);
    const testFile = path.join(dir, `test-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
        testFile,
        YAML.stringify({ rule_files: [path.basename(ruleFile)], evaluation_interval: evaluationInterval, tests: cases }),
    );
    return run("promtool", ["test", "rules", path.basename(testFile)], dir);
}

/** A stretch of traffic: so many minutes at so many requests per minute, this fraction bad. */
export interface Phase {
    minutes: number;
    perMinute: number;
    badFraction: number;
}

/** Counter samples, one per `step` minutes, in promtool's expanding notation. */
export function counterValues(phases: Phase[], share: (phase: Phase) => number, step: number): string {
    const parts: string[] = [];
    let value = 0;
    let first = true;
    for (const phase of phases) {
        const increment = phase.perMinute * share(phase) * step;
        const samples = Math.round(phase.minutes / step);
        if (first) {
            parts.push(`${value}+${increment}x${samples}`);
            value += increment * samples;
            first = false;
        } else {
            parts.push(`${value + increment}+${increment}x${samples - 1}`);
            value += increment * samples;
        }
    }
    return parts.join(" ");
}

/** Input series of a service's SLI for a list of phases (bad = errors, or slow requests). */
export function sloSeries(service: ServiceConfig, namespace: string, slo: "availability" | "latency", phases: Phase[], step: number) {
    const { sli } = service.slo;
    const target = `namespace="${namespace}", service="${service.name}"`;
    const good = (p: Phase) => 1 - p.badFraction;
    const bad = (p: Phase) => p.badFraction;
    const all = () => 1;
    if (slo === "availability") {
        return [
            { series: `${sli.requestsMetric}{${target}, ${sli.statusLabel}="200"}`, values: counterValues(phases, good, step) },
            { series: `${sli.requestsMetric}{${target}, ${sli.statusLabel}="500"}`, values: counterValues(phases, bad, step) },
        ];
    }
    return [
        {
            series: `${sli.durationMetric}_bucket{${target}, le="${leLabel(service.slo.latency.thresholdSeconds)}"}`,
            values: counterValues(phases, good, step),
        },
        { series: `${sli.durationMetric}_count{${target}}`, values: counterValues(phases, all, step) },
    ];
}

/** The SLO incident scenarios the targets are stated for (99.9% objectives). */
export interface SloScenario {
    name: string;
    /** Healthy history before the incident, so that long windows are not inflated. */
    historyMinutes: number;
    incident: Phase[];
    /** Sample and evaluation step in minutes. */
    step: number;
}

const RATE = 600; // 10 requests/s

export const SCENARIOS: Record<"outage" | "tenPercent" | "burst" | "slowBurn", SloScenario> = {
    outage: { name: "100% bad (outage)", historyMinutes: 6 * 60, incident: [{ minutes: 30, perMinute: RATE, badFraction: 1 }], step: 1 },
    tenPercent: { name: "10% bad", historyMinutes: 6 * 60, incident: [{ minutes: 60, perMinute: RATE, badFraction: 0.1 }], step: 1 },
    burst: {
        name: "5-minute burst of 5% bad",
        historyMinutes: 6 * 60,
        incident: [
            { minutes: 5, perMinute: RATE, badFraction: 0.05 },
            { minutes: 115, perMinute: RATE, badFraction: 0 },
        ],
        step: 1,
    },
    slowBurn: {
        name: "0.5% bad, sustained",
        historyMinutes: 3 * 24 * 60,
        incident: [{ minutes: 26 * 60, perMinute: RATE, badFraction: 0.005 }],
        step: 5,
    },
};

export function scenarioPhases(scenario: SloScenario): Phase[] {
    return [{ minutes: scenario.historyMinutes, perMinute: RATE, badFraction: 0 }, ...scenario.incident];
}

export const minutes = (m: number) => `${m}m`;

/** The SLO alert case: at `history + afterMinutes`, exactly `severities` are firing. */
export function sloAlertCase(
    service: ServiceConfig,
    namespace: string,
    slo: "availability" | "latency",
    scenario: SloScenario,
    checks: Array<{ afterMinutes: number; severities: Array<"page" | "ticket"> }>,
): PromtoolTestCase {
    return {
        interval: minutes(scenario.step),
        input_series: sloSeries(service, namespace, slo, scenarioPhases(scenario), scenario.step),
        alert_rule_test: checks.map((check) => ({
            eval_time: minutes(scenario.historyMinutes + check.afterMinutes),
            alertname: "SLOErrorBudgetBurn",
            exp_alerts: check.severities.map((severity) => ({ exp_labels: { severity, service: service.name, slo } })),
        })),
    };
}
