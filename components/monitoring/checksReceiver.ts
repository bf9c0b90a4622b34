// Where the synthetic checks write their results: a Prometheus of their own namespace that accepts
// remote writes, which the platform's Prometheus federates, `k6_*` series only. The platform's
// Prometheus accepts no writes at all, so no pod (Grafana included) can forge the series that SLO
// ratios, prometheus-adapter's scaling inputs or ALERTS are made of; a forged write into this one
// can only add k6_ series.
import { serviceHost } from "../lib/services";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podMonitor } from "../lib/monitors";
import { FINBOT_CHECKS } from "../lib/priority";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";

/** The receiver's name: its pods carry `operator.prometheus.io/name` with it (prometheus-operator v0.93 makeSelectorLabels). */
export const CHECKS_RECEIVER = "checks-receiver";
/** Its pods, for network policies (the operator's selector labels). */
export const CHECKS_RECEIVER_PODS = { "operator.prometheus.io/name": CHECKS_RECEIVER };
/** What the platform's Prometheus takes from it. */
export const FEDERATED_SERIES = '{__name__=~"k6_.+"}';
/** The receiver's web port (the operator's container port `web`, 9090, behind its governing Service `prometheus-operated`). */
export const CHECKS_RECEIVER_PORT = 9090;

export interface ChecksReceiverArgs {
    /** The synthetic checks' namespace. */
    namespace: string;
    /** The Prometheus operator and its CRDs (kube-prometheus-stack), which run the receiver. */
    operator: pulumi.Resource;
    /** How often the platform's Prometheus federates it. */
    scrapeInterval: string;
}

/** A small Prometheus that receives the checks' remote writes and keeps two hours of them. */
export class ChecksReceiver extends pulumi.ComponentResource {
    /** Where k6 writes (Prometheus remote write). */
    public readonly remoteWriteUrl: string;

    constructor(name: string, args: ChecksReceiverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:monitoring:ChecksReceiver", name, {}, opts);
        const { namespace } = args;
        this.remoteWriteUrl = `http://${serviceHost("prometheus-operated", namespace)}:${CHECKS_RECEIVER_PORT}/api/v1/write`;
        const receiver = new k8s.apiextensions.CustomResource(
            `${name}-prometheus`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "Prometheus",
                metadata: { name: CHECKS_RECEIVER, namespace },
                spec: {
                    replicas: 1,
                    enableRemoteWriteReceiver: true,
                    // It scrapes nothing: a selector no monitor matches. Left null, all four would make the
                    // operator stop generating its configuration (v0.93 prometheus_types.go: "unmanaged").
                    podMonitorSelector: { matchLabels: { "finbot.io/scraped-by": CHECKS_RECEIVER } },
                    // No service discovery, so no Kubernetes API and no token.
                    automountServiceAccountToken: false,
                    retention: "2h",
                    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                    priorityClassName: FINBOT_CHECKS,
                    // The operator sets none; the namespace enforces the restricted Pod Security Standard.
                    securityContext: {
                        runAsNonRoot: true,
                        runAsUser: 65534,
                        runAsGroup: 65534,
                        fsGroup: 65534,
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                },
            },
            { parent: this, dependsOn: [args.operator] },
        );
        podMonitor(
            `${name}-federation`,
            {
                name: `${CHECKS_RECEIVER}-federation`,
                namespace,
                selector: { matchLabels: CHECKS_RECEIVER_PODS },
                endpoints: [
                    {
                        port: "web",
                        path: "/federate",
                        params: { "match[]": [FEDERATED_SERIES] },
                        interval: args.scrapeInterval,
                        // The checks' own labels (page, service) and sample times, as k6 wrote them.
                        honorLabels: true,
                        honorTimestamps: true,
                    },
                ],
                limits: SCRAPE_LIMITS.federation,
            },
            { parent: this, dependsOn: [args.operator, receiver] },
        );
        this.registerOutputs({ remoteWriteUrl: this.remoteWriteUrl });
    }
}
