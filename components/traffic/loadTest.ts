import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseDuration } from "../config/quantities";
import { ServiceConfig } from "../config/schema";
import { FINBOT_CHECKS } from "../lib/priority";
import { hardenedContainer, hardenedPodSpec } from "../lib/security";

/** k6 thresholds from the service's SLO: the error rate within the budget, the latency percentile under the threshold. */
export function k6Thresholds(service: ServiceConfig): Record<string, string[]> {
    const errorBudget = Number((1 - service.slo.availability / 100).toPrecision(6));
    return {
        http_req_failed: [`rate<${errorBudget}`],
        http_req_duration: [`p(${service.slo.latency.percent})<${service.slo.latency.thresholdSeconds * 1000}`],
    };
}

/** The k6 script: constant virtual users against the service's readiness path (a cheap, honest baseline). */
export function k6Script(service: ServiceConfig, baseUrl: string, vus: number, duration: string): string {
    return `import http from "k6/http";
import { check } from "k6";

export const options = {
  scenarios: { steady: { executor: "constant-vus", vus: ${vus}, duration: "${duration}" } },
  thresholds: ${JSON.stringify(k6Thresholds(service))},
  tags: { service: "${service.name}" },
};

export default function () {
  const res = http.get("${baseUrl}${service.health.readiness}");
  check(res, { "status is 2xx": (r) => r.status >= 200 && r.status < 300 });
}
`;
}

export interface LoadTestArgs {
    /** Public services to load, one Job each. */
    services: ServiceConfig[];
    /** Namespace of FinBot's services. */
    namespace: pulumi.Input<string>;
    /** Pinned k6 image. */
    image: string;
    /** Constant virtual users. */
    vus: number;
    /** How long each test runs (Prometheus duration). */
    duration: string;
    /** Prometheus remote-write URL for k6's results. */
    remoteWriteUrl: string;
}

/**
 * Opt-in load tests in staging: a k6 Job per public service, thresholds from its SLO, results
 * written to Prometheus so the Autoscaling dashboard shows them next to the HPA's reaction.
 */
export class LoadTest extends pulumi.ComponentResource {
    constructor(name: string, args: LoadTestArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:LoadTest", name, {}, opts);
        for (const service of args.services) {
            const base = `http://${service.name}:${service.port}`;
            const script = new k8s.core.v1.ConfigMap(
                `${name}-${service.name}`,
                {
                    metadata: { name: `k6-${service.name}`, namespace: args.namespace },
                    data: { "test.js": k6Script(service, base, args.vus, args.duration) },
                },
                { parent: this },
            );
            new k8s.batch.v1.Job(
                `${name}-${service.name}`,
                {
                    metadata: { name: `k6-${service.name}`, namespace: args.namespace, labels: { "app.kubernetes.io/name": "k6" } },
                    spec: {
                        backoffLimit: 0,
                        ttlSecondsAfterFinished: 86_400,
                        activeDeadlineSeconds: (parseDuration(args.duration) ?? 300) + 600,
                        template: {
                            metadata: { labels: { "app.kubernetes.io/name": "k6" } },
                            spec: hardenedPodSpec({
                                restartPolicy: "Never",
                                priorityClassName: FINBOT_CHECKS,
                                runAs: { user: 12345 },
                                containers: [
                                    {
                                        name: "k6",
                                        image: args.image,
                                        args: ["run", "--out", "experimental-prometheus-rw", "/scripts/test.js"],
                                        env: [
                                            { name: "K6_PROMETHEUS_RW_SERVER_URL", value: args.remoteWriteUrl },
                                            { name: "K6_PROMETHEUS_RW_TREND_STATS", value: "p(50),p(95),p(99),max" },
                                        ],
                                        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                                        securityContext: hardenedContainer(),
                                        volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }],
                                    },
                                ],
                                volumes: [{ name: "scripts", configMap: { name: `k6-${service.name}` } }],
                            }),
                        },
                    },
                },
                { parent: this, dependsOn: [script] },
            );
        }
        this.registerOutputs({});
    }
}
