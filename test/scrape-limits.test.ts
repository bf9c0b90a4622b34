// Monitoring overhead bounded: every scrape object of both stacks carries a sample and label limit
// under Prometheus' enforced ceilings, and Debian's Prometheus, scraping a local target over its
// limit, fails that scrape and counts it in the series the chart's PrometheusScrapeSampleLimitHit
// and PrometheusLabelLimitHit alerts read.
import * as assert from "node:assert/strict";
import { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { ENFORCED_SCRAPE_LIMITS } from "../components/lib/scrapeLimits";
import { scratchDir } from "../scripts/lib/promtool";
import { PlatformRun, runStack } from "./harness";
import { startPrometheus, stopServer } from "./servers";
import { requireTool } from "./tools";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const SCRAPE_KINDS = /:(ServiceMonitor|PodMonitor|Probe)$/;

describe("monitoring overhead: scrape limits", function () {
    this.timeout(60_000);

    it("every ServiceMonitor, PodMonitor and Probe of both stacks has limits under Prometheus' enforced ceilings", async () => {
        for (const run of [await runStack("dev"), await runStack("prod")] as PlatformRun[]) {
            const monitors = run.resources.filter((r) => SCRAPE_KINDS.test(r.type));
            assert.ok(monitors.length >= 5, `${run.stack}: ${monitors.length} scrape objects`);
            for (const m of monitors) {
                const spec = (m.inputs as Any).spec;
                for (const key of ["sampleLimit", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit"] as const)
                    assert.ok(spec[key] > 0 && spec[key] <= ENFORCED_SCRAPE_LIMITS[key], `${run.stack} ${m.name}: ${key} ${spec[key]}`);
            }
            const values = (run.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack").inputs as Any).values;
            assert.equal(values.prometheus.prometheusSpec.enforcedSampleLimit, ENFORCED_SCRAPE_LIMITS.sampleLimit);
            assert.equal(values.prometheus.prometheusSpec.enforcedLabelLimit, ENFORCED_SCRAPE_LIMITS.labelLimit);
        }
    });

    describe("a real Prometheus", () => {
        let target: Server | undefined;
        let prometheus: ChildProcess | undefined;
        let url = "";
        let dir = "";

        before(async function () {
            requireTool(this, "prometheus", "prometheus");
            // A target with a label explosion (300 series), a small one, and one with too many labels.
            target = createServer((req, res) => {
                const lines =
                    req.url === "/big"
                        ? Array.from({ length: 300 }, (_, i) => `finbot_requests_total{user_id="u${i}"} ${i}`)
                        : req.url === "/labels"
                          ? [`finbot_wide{a="1",b="2",c="3",d="4",e="5",f="6",g="7",h="8"} 1`]
                          : ["finbot_requests_total 1"];
                res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(`${lines.join("\n")}\n`);
            });
            await new Promise<void>((resolve) => target!.listen(0, "127.0.0.1", resolve));
            const address = `127.0.0.1:${(target.address() as AddressInfo).port}`;
            dir = scratchDir("scrape-limits");
            mkdirSync(path.join(dir, "data"));
            const job = (name: string, extra: string) =>
                `  - job_name: ${name}\n    scrape_interval: 1s\n    metrics_path: /${name}\n    ${extra}\n    static_configs: [{ targets: ["${address}"] }]\n`;
            const config = `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n${job("big", "sample_limit: 100")}${job("small", "sample_limit: 100")}${job("labels", "label_limit: 5")}`;
            ({ process: prometheus, url } = await startPrometheus(dir, path.join(dir, "data"), config));
        });

        after(async () => {
            await stopServer(prometheus);
            await new Promise((r) => (target ? target.close(r) : r(undefined)));
            if (dir) rmSync(dir, { recursive: true, force: true });
        });

        const value = async (expr: string): Promise<number | undefined> => {
            const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as Any;
            const result = body.data.result;
            return result.length ? Number(result[0].value[1]) : undefined;
        };

        /** A counter of Prometheus' own /metrics (what it exposes for the Prometheus that scrapes it in the cluster). */
        const own = async (name: string): Promise<number | undefined> => {
            const text = await (await fetch(`${url}/metrics`)).text();
            const line = text.split("\n").find((l) => l.startsWith(`${name} `));
            return line === undefined ? undefined : Number(line.split(" ")[1]);
        };

        it("fails the scrape over its sample limit (up 0) and counts it; a scrape within its limit stays up", async () => {
            const deadline = Date.now() + 20_000;
            let exceeded: number | undefined;
            let labels: number | undefined;
            while (Date.now() < deadline) {
                exceeded = await own("prometheus_target_scrapes_exceeded_sample_limit_total");
                labels = await own("prometheus_target_scrape_pool_exceeded_label_limits_total");
                if ((exceeded ?? 0) > 0 && (labels ?? 0) > 0 && (await value('up{job="small"}')) === 1) break;
                await new Promise((r) => setTimeout(r, 500));
            }
            assert.ok((exceeded ?? 0) > 0, `prometheus_target_scrapes_exceeded_sample_limit_total is ${exceeded}`);
            assert.ok((labels ?? 0) > 0, `prometheus_target_scrape_pool_exceeded_label_limits_total is ${labels}`);
            assert.equal(await value('up{job="big"}'), 0, "the whole scrape is refused");
            assert.equal(await value('up{job="small"}'), 1);
            assert.equal(await value('count(finbot_requests_total{job="big"})'), undefined, "none of the 300 series was stored");
        });
    });
});
