// Which pages FinBot measures the load of, and where users load them: one answer for the browser
// checks, the page-load rules and dashboard, the network flows and the summary.
import { PlatformConfig } from "../config/schema";
import { PageConfig } from "../config/traffic";
import { cdnOriginService, hostFor } from "./routes";

/** The pages whose load is measured: finbot:traffic.pages when traffic is on, none otherwise. */
export function measuredPages(config: Pick<PlatformConfig, "traffic">): PageConfig[] {
    return config.traffic.enabled ? config.traffic.pages : [];
}

/** The host users reach the CDN at (its first alias), when there is a CDN. */
export function cdnHost(traffic: PlatformConfig["traffic"]): string | undefined {
    return traffic.cdn.enabled ? traffic.cdn.aliases[0] : undefined;
}

/** A public address the uptime of a service is probed at from outside in (the edge: CloudFront, the NLB, the gateway, TLS). */
export interface EdgeProbe {
    service: string;
    url: string;
}

/**
 * Where each public service is probed from outside in: every CDN alias, through CloudFront to the
 * service behind its default behaviour. Without a CDN the stack has no public edge in front of the
 * gateway (a laptop cluster), and the in-cluster probe is the only one.
 */
export function edgeProbes(config: Pick<PlatformConfig, "traffic" | "services">): EdgeProbe[] {
    if (!config.traffic.enabled || !config.traffic.cdn.enabled) return [];
    const origin = cdnOriginService(config.services);
    const service = config.services.find((s) => s.name === origin && s.public);
    if (!service) return [];
    return config.traffic.cdn.aliases.map((alias) => ({ service: service.name, url: `https://${alias}${service.health.readiness}` }));
}

/** Where users load a page: through the CDN where there is one, else at the service's own host. */
export function pageUrl(traffic: PlatformConfig["traffic"], page: PageConfig): string {
    return `https://${cdnHost(traffic) ?? hostFor(page.service, traffic.domain)}${page.path}`;
}

/** Whether the stack runs synthetic clients (load tests, page checks), in their own namespace. */
export const syntheticChecks = (config: PlatformConfig) =>
    config.monitoring.enabled && (config.traffic.loadTest.enabled || measuredPages(config).length > 0);
