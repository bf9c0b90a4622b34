// npm run slo:detection: measures, with promtool, how long the generated SLO alerts take to fire
// in each incident scenario, and writes docs/slo-detection.md. The promtool tests in
// test/alerting.test.ts assert the targets; this records the measured times.
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { ServiceConfig } from "../components/config/schema";
import { firingSloAlerts } from "../components/monitoring/conventions";
import { loadStackConfig, runPlatform } from "./lib/offline";
import { SCENARIOS, SloScenario, minutes, promtoolTest, scenarioPhases, scratchDir, sloSeries, writeRuleFile } from "./lib/promtool";
import { hasTool } from "./lib/tools";

const TARGETS: Record<keyof typeof SCENARIOS, string> = {
    outage: "pages within 2 min",
    tenPercent: "pages within 10 min",
    burst: "pages nobody",
    slowBurn: "ticket within 24 h, never pages",
};

/** Minutes after the incident's start at which the alert of `severity` is first firing, or undefined. */
function firstFiring(
    ruleFile: string,
    service: ServiceConfig,
    slo: "availability" | "latency",
    scenario: SloScenario,
    severity: string,
): number | undefined {
    const incidentMinutes = scenario.incident.reduce((sum, p) => sum + p.minutes, 0);
    const times: number[] = [];
    for (let t = 0; t <= incidentMinutes; t += scenario.step) times.push(t);
    const expr = `count(${firingSloAlerts({ severity: severity as "page" | "ticket", slo })}) or vector(0)`;
    // Every check expects "not firing"; the times promtool reports as failed are the firing ones.
    const result = promtoolTest(
        ruleFile,
        [
            {
                interval: minutes(scenario.step),
                input_series: sloSeries(service, "finbot-apps", slo, scenarioPhases(scenario), scenario.step),
                promql_expr_test: times.map((t) => ({
                    expr,
                    eval_time: minutes(scenario.historyMinutes + t),
                    exp_samples: [{ labels: "{}", value: 0 }],
                })),
            },
        ],
        minutes(scenario.step),
    );
    const firing = [...result.output.matchAll(/time: (?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:\d+s)?,/g)].map(
        ([, d, h, m]) => Number(d ?? 0) * 1440 + Number(h ?? 0) * 60 + Number(m ?? 0) - scenario.historyMinutes,
    );
    if (result.status !== 0 && firing.length === 0) throw new Error(`promtool failed:\n${result.output.slice(0, 2000)}`);
    return firing.length ? Math.min(...firing) : undefined;
}

function format(minutesAfter: number | undefined): string {
    if (minutesAfter === undefined) return "never";
    return minutesAfter >= 120 ? `${(minutesAfter / 60).toFixed(1)} h` : `${minutesAfter} min`;
}

async function main(): Promise<void> {
    if (!hasTool("promtool")) {
        console.error("slo-detection: promtool not found (apt-get install prometheus)");
        process.exit(2);
    }
    const dev = loadStackConfig("dev").config;
    const base = dev.services[0];
    const api: ServiceConfig = { ...base, slo: { ...base.slo, latency: { ...base.slo.latency, percent: 99.9 } } };
    const run = await runPlatform({ ...dev, services: [api] }, "dev");
    const ruleFile = writeRuleFile(scratchDir("detection"), run.platform.monitoring?.ruleGroups ?? [], { annotations: false });
    const rows: string[] = [];
    for (const slo of ["availability", "latency"] as const) {
        for (const [key, scenario] of Object.entries(SCENARIOS) as Array<[keyof typeof SCENARIOS, SloScenario]>) {
            const page = firstFiring(ruleFile, api, slo, scenario, "page");
            const ticket = firstFiring(ruleFile, api, slo, scenario, "ticket");
            const span = scenario.incident.reduce((sum, p) => sum + p.minutes, 0);
            rows.push(
                `| ${slo} | ${scenario.name} | ${format(page)} | ${format(ticket)} | ${TARGETS[key]} | ${format(span)} at ${scenario.step} min steps |`,
            );
            console.log(rows[rows.length - 1]);
        }
    }
    const text = [
        "# SLO alert detection times",
        "",
        "<!-- written by `npm run slo:detection`; measured with promtool, not estimated -->",
        "",
        `Measured ${new Date().toISOString().slice(0, 10)} with promtool (Debian's prometheus package) on the rules the program generates for a`,
        "99.9% objective (multiwindow, multi-burn-rate: page at 14.4x over 1h/5m or 6x over 6h/30m, ticket at",
        "3x over 1d/2h or 1x over 3d/6h). Traffic is 10 requests/s with healthy history before the incident",
        "(6 h; 3 days for the slow burn, so the 3-day window is not inflated). Times are minutes after the first",
        "bad sample until the alert is firing, at the sample step shown. Bad means a 5xx response for the",
        "availability SLO and a request slower than the threshold for the latency SLO. A page also opens a",
        "ticket, which Alertmanager inhibits; with only 6 h of history the 3-day window is shorter than in",
        "production, so those tickets come earlier here than they would there.",
        "",
        "| SLO | scenario | page after | ticket after | target | observed for |",
        "| --- | --- | --- | --- | --- | --- |",
        ...rows,
        "",
    ].join("\n");
    writeFileSync(path.join(__dirname, "..", "docs", "slo-detection.md"), text);
}

void main();
