// The generated rules and Alertmanager config, checked by the real tools: promtool (rule syntax,
// alert behaviour under the SLO incident scenarios, infrastructure alerts) and amtool.
import * as assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";
import YAML from "yaml";
import { alertmanagerConfig } from "../components/monitoring";
import { PromtoolScenarios, sloTestService } from "./alertRules";
import { platformRuleGroups } from "../components/platform/areas";
import { loadStackConfig } from "./harness";
import { PromtoolTestCase, SCENARIOS, groupsFor, scratchDir, sloAlertCase, writeRuleFile } from "../scripts/lib/promtool";
import { startAlertmanager, stopServer } from "./servers";
import { requireTool, run } from "./tools";

describe("alert rules (promtool)", function () {
    const dev = loadStackConfig("dev").config;
    const prod = loadStackConfig("prod").config;
    const api = sloTestService(dev);
    const ns = dev.namespaces.apps;
    // Every SLO scenario in one promtool invocation, each against the rules of its own objective's
    // alert only (not the 30-day and budget series the dashboards read).
    const scenarios = new PromtoolScenarios();

    before(function () {
        requireTool(this, "promtool", "prometheus");
        scenarios.run(scratchDir("rules"), platformRuleGroups({ ...dev, services: [api] }));
    });

    for (const [stack, config] of [
        ["dev", dev],
        ["prod", prod],
    ] as const) {
        it(`promtool check rules accepts every rule group of ${stack}`, () => {
            const file = writeRuleFile(scratchDir("check"), platformRuleGroups(config));
            const result = run("promtool", ["check", "rules", file]);
            assert.equal(result.status, 0, result.output);
            assert.match(result.output, /SUCCESS: \d+ rules found/);
        });
    }

    it("promtool check rules rejects a broken rule (the check can fail)", () => {
        const dir = scratchDir("broken");
        writeFileSync(
            path.join(dir, "rules.yaml"),
            YAML.stringify({ groups: [{ name: "x", rules: [{ alert: "X", expr: "sum(rate(x[5m])" }] }] }),
        );
        assert.notEqual(run("promtool", ["check", "rules", path.join(dir, "rules.yaml")]).status, 0);
    });

    it("gives a scenario the rules its alert reads, transitively, and no others", () => {
        const groups = [
            {
                name: "a",
                rules: [
                    { record: "x:rate5m", expr: "rate(x[5m])" },
                    { record: "unused", expr: "vector(1)" },
                ],
            },
            { name: "b", rules: [{ record: "x:ratio", expr: "x:rate5m / 2" }] },
            { name: "c", rules: [{ alert: "X", expr: "x:ratio > 1", labels: {}, annotations: {} as never }] },
        ];
        assert.deepEqual(
            groupsFor(groups, ["X"]).map((g) => [g.name, g.rules.map((r) => ("alert" in r ? r.alert : r.record))]),
            [
                ["a", ["x:rate5m"]],
                ["b", ["x:ratio"]],
                ["c", ["X"]],
            ],
        );
    });

    for (const slo of ["availability", "latency"] as const) {
        describe(`${slo} SLO (99.9%)`, () => {
            const scenario = (title: string, cases: PromtoolTestCase[], evaluationInterval = "1m") =>
                scenarios.add(
                    title,
                    () => cases,
                    evaluationInterval,
                    (g) => g.name === `slo-${api.name}-${slo}`,
                );

            scenario("a 100% outage pages within 2 minutes", [
                sloAlertCase(api, ns, slo, SCENARIOS.outage, [
                    { afterMinutes: 0, severities: [] },
                    { afterMinutes: 2, severities: ["page", "ticket"] },
                ]),
            ]);

            scenario("10% bad events page within 10 minutes", [
                sloAlertCase(api, ns, slo, SCENARIOS.tenPercent, [
                    { afterMinutes: 0, severities: [] },
                    { afterMinutes: 10, severities: ["page", "ticket"] },
                ]),
            ]);

            scenario("a 5-minute burst of 5% bad events pages nobody", [
                sloAlertCase(
                    api,
                    ns,
                    slo,
                    SCENARIOS.burst,
                    [3, 5, 10, 30, 60, 115].map((afterMinutes) => ({ afterMinutes, severities: [] })),
                ),
            ]);

            scenario("a fault that stops for 6 minutes and comes back stays one page (keep_firing_for), not two", [
                sloAlertCase(
                    api,
                    ns,
                    slo,
                    {
                        name: "3% bad, a 6-minute good spell, 3% bad again",
                        historyMinutes: 6 * 60,
                        incident: [
                            { minutes: 60, perMinute: 600, badFraction: 0.03 },
                            { minutes: 6, perMinute: 600, badFraction: 0 },
                            { minutes: 20, perMinute: 600, badFraction: 0.03 },
                        ],
                        step: 1,
                    },
                    [
                        { afterMinutes: 55, severities: ["page", "ticket"] },
                        // The good spell: the page's 5-minute window is clean, yet it stays the same page.
                        { afterMinutes: 66, severities: ["page", "ticket"] },
                        { afterMinutes: 80, severities: ["page", "ticket"] },
                    ],
                ),
            ]);

            scenario(
                "0.5% bad events sustained open a ticket within 24 hours and never page",
                [
                    sloAlertCase(api, ns, slo, SCENARIOS.slowBurn, [
                        { afterMinutes: 60, severities: [] },
                        { afterMinutes: 6 * 60, severities: [] },
                        { afterMinutes: 12 * 60, severities: [] },
                        { afterMinutes: 24 * 60, severities: ["ticket"] },
                        { afterMinutes: 26 * 60, severities: ["ticket"] },
                    ]),
                ],
                "5m",
            );
        });
    }
});

describe("Alertmanager config (amtool)", () => {
    const times = { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" };
    const cases: Array<[string, Parameters<typeof alertmanagerConfig>[0]]> = [
        ["dev: no receivers, alerts stay in Alertmanager", {}],
        [
            "prod: PagerDuty, Slack and a dead man's switch",
            {
                pagerdutyRoutingKey: "stand-in-routing-key",
                slack: { webhookUrl: "https://hooks.slack.example/services/T0/B0/stand-in", channel: "#finbot-alerts" },
                deadMansSwitchUrl: "https://hc-ping.example/stand-in",
            },
        ],
    ];
    for (const [what, receivers] of cases) {
        it(`amtool check-config accepts ${what}`, function () {
            requireTool(this, "amtool", "prometheus-alertmanager");
            const file = path.join(scratchDir("am"), "alertmanager.yaml");
            writeFileSync(file, YAML.stringify(alertmanagerConfig(receivers, times)));
            const result = run("amtool", ["check-config", file]);
            assert.equal(result.status, 0, result.output);
            assert.match(result.output, /SUCCESS/);
        });
    }

    it("routes pages to PagerDuty, tickets to Slack, the Watchdog to the dead man's switch", function () {
        requireTool(this, "amtool", "prometheus-alertmanager");
        const file = path.join(scratchDir("am"), "alertmanager.yaml");
        writeFileSync(file, YAML.stringify(alertmanagerConfig(cases[1][1], times)));
        // amtool prints the receiver on the first line (a warning about --alertmanager.url may follow).
        const route = (...labels: string[]) =>
            run("amtool", ["config", "routes", "test", "--config.file", file, ...labels])
                .output.split("\n")[0]
                .trim();
        assert.equal(route("alertname=SLOErrorBudgetBurn", "severity=page", "service=api"), "pagerduty");
        assert.equal(route("alertname=KubePodCrashLooping", "severity=critical"), "pagerduty");
        assert.equal(route("alertname=SLOErrorBudgetBurn", "severity=ticket", "service=api"), "slack");
        assert.equal(route("alertname=Watchdog", "severity=none"), "deadmansswitch");
        assert.equal(route("alertname=Something", "severity=info"), "null");
    });

    it("a page inhibits the ticket of the same alert for the same service and objective", () => {
        const config = alertmanagerConfig({}, times) as {
            inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }>;
        };
        const rule = config.inhibit_rules.find((r) => r.source_matchers.includes('severity = "page"'));
        assert.ok(rule);
        assert.deepEqual(rule.target_matchers, ['severity = "ticket"']);
        for (const label of ["alertname", "service", "slo"]) assert.ok(rule.equal.includes(label));
    });
});

describe("Alertmanager grouping, inhibition and repeats (a real Alertmanager, alerts sent with amtool)", function () {
    this.timeout(60_000);
    /** Each receiver's notifications, as the webhook stand-ins received them: the alerts of each, by label. */
    const received: Record<string, Array<Array<Record<string, string>>>> = { pagerduty: [], slack: [] };
    let webhook: ReturnType<typeof createServer> | undefined;
    let alertmanager: Awaited<ReturnType<typeof startAlertmanager>> | undefined;

    before(async function () {
        requireTool(this, "prometheus-alertmanager", "prometheus-alertmanager");
        requireTool(this, "amtool", "prometheus-alertmanager");
        webhook = createServer((req, res) => {
            let body = "";
            req.on("data", (chunk) => (body += chunk));
            req.on("end", () => {
                const alerts = (JSON.parse(body) as { alerts: Array<{ labels: Record<string, string> }> }).alerts.map((a) => a.labels);
                received[String(req.url).slice(1)]?.push(alerts);
                res.end();
            });
        });
        await new Promise<void>((resolve) => webhook!.listen(0, "127.0.0.1", resolve));
        const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
        // The program's routing tree, grouping and inhibit rules, with production's receivers stood in
        // by webhooks and the timings shortened (production's are checked below) so the test runs in seconds.
        const config = alertmanagerConfig(
            { pagerdutyRoutingKey: "stand-in", slack: { webhookUrl: "https://hooks.slack.example/x", channel: "#x" } },
            { groupWait: "1s", groupInterval: "2s", repeatInterval: "6s" },
        ) as { receivers: Array<Record<string, unknown>> };
        config.receivers = config.receivers.map((r) =>
            r.name === "pagerduty" || r.name === "slack"
                ? { name: r.name, webhook_configs: [{ url: `${url}/${r.name}`, send_resolved: false }] }
                : r,
        );
        alertmanager = await startAlertmanager(scratchDir("alertmanager"), YAML.stringify(config));
    });
    after(async () => {
        await stopServer(alertmanager?.process);
        webhook?.close();
    });

    const send = (...labels: string[]) => {
        const result = run("amtool", ["alert", "add", ...labels, "--alertmanager.url", alertmanager!.url]);
        assert.equal(result.status, 0, result.output);
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it("states production's timings: wait 30s for a group, 5m between its updates, 4h before repeating", () => {
        const { monitoring } = loadStackConfig("prod").config;
        const route = (alertmanagerConfig({}, monitoring.alerting) as { route: Record<string, unknown> }).route;
        assert.deepEqual(
            [route.group_by, route.group_wait, route.group_interval, route.repeat_interval],
            [["alertname", "namespace", "service", "slo"], "30s", "5m", "4h"],
        );
    });

    it("sends one page for one burn (both windows together), holds back its ticket, and repeats it while it burns", async () => {
        // The fast and the slow window of the same objective page together; the ticket of the same
        // burn is inhibited by the page; another service's burn is a page of its own.
        const burn = ["alertname=SLOErrorBudgetBurn", "service=api", "slo=availability", "namespace=finbot-apps"];
        send(...burn, "severity=page", "long=1h", "short=5m");
        send(...burn, "severity=page", "long=6h", "short=30m");
        send(...burn, "severity=ticket", "long=1d", "short=2h");
        send(
            "alertname=SLOErrorBudgetBurn",
            "service=reports",
            "slo=availability",
            "namespace=finbot-apps",
            "severity=page",
            "long=1h",
            "short=5m",
        );
        await sleep(4_000);
        const pages = received.pagerduty.map((n) => n.map((a) => `${a.service}:${a.long}`).sort());
        assert.deepEqual(pages.sort(), [["api:1h", "api:6h"], ["reports:1h"]], "one notification per service's burn, both windows in it");
        assert.deepEqual(received.slack, [], "the page inhibits the ticket of the same burn");
        await sleep(6_000);
        assert.ok(
            received.pagerduty.length >= 4,
            `a firing group is sent again after repeat_interval (${received.pagerduty.length} notifications)`,
        );
    });
});
