// The Prometheus operator's monitors the platform's parts declare, each with its scrape limits.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ScrapeLimits } from "./scrapeLimits";

type MonitorOpts = { parent: pulumi.Resource; dependsOn: pulumi.Input<pulumi.Resource>[] };

/** A PodMonitor scraping the `metrics` port (or others) of the pods a selector picks. */
export function podMonitor(
    resourceName: string,
    args: {
        name: string;
        namespace: pulumi.Input<string>;
        selector: Record<string, unknown>;
        endpoints?: Array<Record<string, unknown>>;
        /** How much one scrape may bring (SCRAPE_LIMITS). */
        limits: ScrapeLimits;
    },
    opts: MonitorOpts,
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
        resourceName,
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: { name: args.name, namespace: args.namespace },
            spec: { selector: args.selector, podMetricsEndpoints: args.endpoints ?? [{ port: "metrics" }], ...args.limits },
        },
        opts,
    );
}

/** A ServiceMonitor scraping the Services a selector picks. */
export function serviceMonitor(
    resourceName: string,
    args: {
        name: string;
        namespace: pulumi.Input<string>;
        labels?: Record<string, string>;
        selector: Record<string, unknown>;
        endpoints: Array<Record<string, unknown>>;
        /** How much one scrape may bring (SCRAPE_LIMITS). */
        limits: ScrapeLimits;
    },
    opts: MonitorOpts,
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
        resourceName,
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: args.name, namespace: args.namespace, ...(args.labels ? { labels: args.labels } : {}) },
            spec: { selector: args.selector, endpoints: args.endpoints, ...args.limits },
        },
        opts,
    );
}
