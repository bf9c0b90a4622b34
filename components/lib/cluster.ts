// Names the platform's parts share inside the cluster: the `part-of` label, in-cluster service
// URLs, the Prometheus operator's monitors, and the request lines components declare.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ScrapeLimits } from "./scrapeLimits";
import { parseBytes, parseCpu } from "../config/quantities";

export const PART_OF = "finbot";
/** Labels every object the platform creates carries. */
export const PART_OF_LABELS = { "app.kubernetes.io/part-of": PART_OF } as const;

/** A Kubernetes Service a component creates (itself or through a chart), by name, namespace and port. */
export interface ClusterService {
    name: string;
    namespace: string;
    port: number;
}

/** `<name>.<namespace>.svc.cluster.local`: a Service's name inside the cluster. */
export function clusterServiceHost(name: string, namespace: string): string {
    return `${name}.${namespace}.svc.cluster.local`;
}

/** `http://<name>.<namespace>.svc.cluster.local:<port>` of a Service. */
export function clusterUrl(service: ClusterService, scheme: "http" | "https" = "http"): string {
    return `${scheme}://${clusterServiceHost(service.name, service.namespace)}:${service.port}`;
}

/** Pods a component runs, with the requests of each: what summaries, cost and capacity add up. */
export interface RequestLine {
    part: string;
    pods: number;
    cpu: string;
    memory: string;
}

/** What request lines add up to. */
export function totalRequests(lines: RequestLine[]): { millicores: number; bytes: number } {
    return lines.reduce(
        (sum, l) => ({
            millicores: sum.millicores + l.pods * (parseCpu(l.cpu) ?? 0),
            bytes: sum.bytes + l.pods * (parseBytes(l.memory) ?? 0),
        }),
        { millicores: 0, bytes: 0 },
    );
}

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
