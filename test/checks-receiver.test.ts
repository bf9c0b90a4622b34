// The platform's Prometheus accepts no writes, and the checks' receiver reaches it only through
// federation of k6_ series: in the plans (both stacks), and on Debian's Prometheus, where a write
// to a server without the receiver is refused and a forged series in the receiver stays there.
import * as assert from "node:assert/strict";
import { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { CHECKS_RECEIVER, FEDERATED_SERIES } from "../components/monitoring/checksReceiver";
import { scratchDir } from "../scripts/lib/promtool";
import { PlatformRun, runStack } from "./harness";
import { startPrometheus, stopServer } from "./servers";
import { requireTool } from "./tools";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describe("remote writes: only the checks, only k6 series", function () {
    this.timeout(60_000);

    it("both stacks: the platform's Prometheus refuses writes; the checks write into their receiver, federated for k6_ series", async () => {
        for (const run of [await runStack("dev"), await runStack("prod")] as PlatformRun[]) {
            const values = (run.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack").inputs as Any).values;
            assert.equal(
                values.prometheus.prometheusSpec.enableRemoteWriteReceiver,
                false,
                `${run.stack}: no writes into the platform's Prometheus`,
            );
            const receiver = run.get("kubernetes:monitoring.coreos.com/v1:Prometheus", "finbot-checks-receiver-prometheus").inputs as Any;
            assert.equal(receiver.metadata.namespace, "finbot-checks");
            assert.equal(receiver.spec.enableRemoteWriteReceiver, true);
            assert.equal(receiver.spec.automountServiceAccountToken, false, "it discovers nothing and needs no token");
            const endpoint = (run.get("kubernetes:monitoring.coreos.com/v1:PodMonitor", "finbot-checks-receiver-federation").inputs as Any)
                .spec.podMetricsEndpoints[0];
            assert.deepEqual([endpoint.path, endpoint.params["match[]"], endpoint.honorLabels], ["/federate", [FEDERATED_SERIES], true]);
            const writers = run.resources
                .filter((r) => r.type === "kubernetes:batch/v1:CronJob")
                .flatMap((r) => (r.inputs as Any).spec.jobTemplate.spec.template.spec.containers)
                .flatMap((c: Any) => (c.env ?? []).filter((e: Any) => e.name === "K6_PROMETHEUS_RW_SERVER_URL").map((e: Any) => e.value));
            assert.ok(writers.length > 0, `${run.stack} runs checks`);
            assert.deepEqual([...new Set(writers)], [`http://prometheus-operated.finbot-checks.svc:9090/api/v1/write`]);
        }
    });

    describe("on Debian's Prometheus", () => {
        let target: Server | undefined;
        const servers: ChildProcess[] = [];
        let platform = "";
        let receiver = "";
        let dir = "";

        before(async function () {
            requireTool(this, "prometheus", "prometheus");
            // What the checks wrote, and a forged series beside it (as any writer of the receiver could).
            target = createServer((_req, res) =>
                res
                    .writeHead(200, { "content-type": "text/plain; version=0.0.4" })
                    .end('k6_finbot_page_lcp_p75{page="home"} 1.9\nhttp_requests_total{service="api",status="500"} 100000\n'),
            );
            await new Promise<void>((resolve) => target!.listen(0, "127.0.0.1", resolve));
            const address = `127.0.0.1:${(target.address() as AddressInfo).port}`;
            dir = scratchDir("checks-receiver");
            for (const d of ["receiver", "platform"]) mkdirSync(path.join(dir, d, "data"), { recursive: true });
            let started = await startPrometheus(
                path.join(dir, "receiver"),
                path.join(dir, "receiver", "data"),
                `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: ${CHECKS_RECEIVER}\n    static_configs: [{ targets: ["${address}"] }]\n`,
            );
            servers.push(started.process);
            receiver = started.url;
            // The platform's Prometheus as the PodMonitor makes it: /federate with the match, the receiver's labels kept.
            started = await startPrometheus(
                path.join(dir, "platform"),
                path.join(dir, "platform", "data"),
                `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: federation\n    metrics_path: /federate\n    honor_labels: true\n    params: { "match[]": ['${FEDERATED_SERIES}'] }\n    static_configs: [{ targets: ["${new URL(receiver).host}"] }]\n`,
            );
            servers.push(started.process);
            platform = started.url;
        });

        after(async () => {
            for (const s of servers) await stopServer(s);
            await new Promise((r) => (target ? target.close(r) : r(undefined)));
            if (dir) rmSync(dir, { recursive: true, force: true });
        });

        const count = async (url: string, expr: string): Promise<number> => {
            const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as Any;
            return body.data.result.length;
        };

        it("refuses a remote write where the receiver is off (the platform's Prometheus)", async () => {
            const response = await fetch(`${platform}/api/v1/write`, {
                method: "POST",
                headers: { "content-type": "application/x-protobuf", "content-encoding": "snappy" },
                body: new Uint8Array([0]),
            });
            assert.equal(response.status, 404, await response.text());
        });

        it("federates the checks' k6_ series and leaves a forged http_requests_total in the receiver", async () => {
            const deadline = Date.now() + 20_000;
            while (Date.now() < deadline && (await count(platform, "k6_finbot_page_lcp_p75")) === 0)
                await new Promise((r) => setTimeout(r, 500));
            assert.equal(await count(receiver, "http_requests_total"), 1, "the forged series is in the receiver");
            assert.equal(
                await count(platform, 'k6_finbot_page_lcp_p75{page="home"}'),
                1,
                "the check's series reached the platform's Prometheus",
            );
            assert.equal(await count(platform, "http_requests_total"), 0, "the forged series did not");
        });
    });
});
