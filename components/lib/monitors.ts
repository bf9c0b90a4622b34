// The Prometheus operator's monitors the platform's parts declare, each with its scrape limits.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ScrapeLimits } from "./scrapeLimits";

type MonitorOpts = { parent: pulumi.Resource; dependsOn: pulumi.Input<pulumi.Resource>[] };

/** What every monitor carries: where it lives, what it selects, and how much one scrape may bring (SCRAPE_LIMITS). */
interface MonitorArgs {
    /** The monitor's name. */
    name: string;
    /** Its namespace (the scraped pods' or Services'). */
    namespace: pulumi.Input<string>;
    /**
     * Labels of the monitor itself.
     * @default none
     */
    labels?: Record<string, string>;
    /** The label selector of the pods or Services it scrapes. */
    selector: Record<string, unknown>;
    /** How much one scrape may bring (SCRAPE_LIMITS). */
    limits: ScrapeLimits;
}

function monitor(
    resourceName: string,
    kind: "PodMonitor" | "ServiceMonitor",
    args: MonitorArgs,
    endpoints: Record<string, unknown>,
    opts: MonitorOpts,
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
        resourceName,
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind,
            metadata: { name: args.name, namespace: args.namespace, ...(args.labels ? { labels: args.labels } : {}) },
            spec: { selector: args.selector, ...endpoints, ...args.limits },
        },
        opts,
    );
}

/** A PodMonitor scraping the `metrics` port (or others) of the pods a selector picks. */
export function podMonitor(
    resourceName: string,
    args: Omit<MonitorArgs, "labels"> & { endpoints?: Array<Record<string, unknown>> },
    opts: MonitorOpts,
): k8s.apiextensions.CustomResource {
    return monitor(resourceName, "PodMonitor", args, { podMetricsEndpoints: args.endpoints ?? [{ port: "metrics" }] }, opts);
}

/** A ServiceMonitor scraping the Services a selector picks. */
export function serviceMonitor(
    resourceName: string,
    args: MonitorArgs & { endpoints: Array<Record<string, unknown>> },
    opts: MonitorOpts,
): k8s.apiextensions.CustomResource {
    return monitor(resourceName, "ServiceMonitor", args, { endpoints: args.endpoints }, opts);
}
