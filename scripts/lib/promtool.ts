// Helpers for checking the generated rules with promtool: rule files, unit-test files, and the
// SLO incident scenarios shared by the tests and scripts/sloDetection.ts.
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { ServiceConfig } from "../../components/config/schema";
import { Rule, RuleGroup, isAlert } from "../../components/monitoring/rules";
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
export function writeRuleFile(
    dir: string,
    groups: RuleGroup[],
    options: { annotations: boolean } = { annotations: true },
    name = "rules.yaml",
): string {
    const file = path.join(dir, name);
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

/** A promtool unit test: its cases, evaluated every `evaluationInterval` against `groups` alone. */
interface PromtoolSuite {
    groups: RuleGroup[];
    cases: PromtoolTestCase[];
    evaluationInterval?: string;
}

/**
 * Runs many unit tests in ONE `promtool test rules` invocation (it takes several test files),
 * each with a rule file of its own groups, and returns whether each passed and what promtool
 * said of it. promtool evaluates every rule of a file at every step of a test, so a test given
 * only the groups it exercises (`groupsFor`) takes a fraction of the time.
 */
export function promtoolTestAll(dir: string, suites: PromtoolSuite[]): Array<{ passed: boolean; output: string }> {
    const testFiles = suites.map((suite, i) => {
        const ruleFile = path.basename(writeRuleFile(dir, suite.groups, { annotations: false }, `rules-${i}.yaml`));
        const testFile = `test-${i}.yaml`;
        const document = { rule_files: [ruleFile], evaluation_interval: suite.evaluationInterval ?? "1m", tests: suite.cases };
        writeFileSync(path.join(dir, testFile), YAML.stringify(document));
        return testFile;
    });
    // stdout and stderr into one file, so that each failure stays under its "Unit Testing:" line.
    const outputFile = path.join(dir, "promtool.out");
    const fd = openSync(outputFile, "w");
    try {
        spawnSync("promtool", ["test", "rules", ...testFiles], { cwd: dir, stdio: ["ignore", fd, fd], timeout: 120_000 });
    } finally {
        closeSync(fd);
    }
    const output = readFileSync(outputFile, "utf8");
    const sections = new Map(
        output
            .split(/^(?=Unit Testing:)/m)
            .map((section) => [/^Unit Testing:\s+(\S+)/.exec(section)?.[1], section.trim()] as const)
            .filter((entry): entry is readonly [string, string] => entry[0] !== undefined),
    );
    return testFiles.map((file) => {
        const section = sections.get(file) ?? `promtool said nothing of ${file}:\n${output.slice(0, 2000)}`;
        return { passed: /^\s+SUCCESS$/m.test(section), output: section };
    });
}

/** PromQL names in an expression: metric names, functions and labels (a superset is harmless here). */
const namesIn = (expr: string) => new Set(expr.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []);

/**
 * The rules that define the given alerts or record the given series, with every rule recording a
 * series they read, transitively, in their groups: what a unit test of those alerts or series needs.
 */
export function groupsFor(groups: RuleGroup[], names: Iterable<string>): RuleGroup[] {
    const wanted = new Set(names);
    const chosen = new Set<Rule>();
    let grew = true;
    while (grew) {
        grew = false;
        for (const rule of groups.flatMap((g) => g.rules)) {
            if (chosen.has(rule) || !wanted.has(isAlert(rule) ? rule.alert : rule.record)) continue;
            chosen.add(rule);
            grew = true;
            for (const name of namesIn(rule.expr)) wanted.add(name);
        }
    }
    return groups.map((g) => ({ ...g, rules: g.rules.filter((r) => chosen.has(r)) })).filter((g) => g.rules.length > 0);
}

/** The alerts and series a test's cases check. */
export function checkedNames(cases: PromtoolTestCase[]): string[] {
    return cases.flatMap((c) => [
        ...(c.alert_rule_test ?? []).map((t) => t.alertname),
        ...(c.promql_expr_test ?? []).flatMap((t) => [...namesIn(t.expr)]),
    ]);
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
