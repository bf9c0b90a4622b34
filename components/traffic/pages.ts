// Which pages FinBot measures the load of, and where users load them: one answer for the browser
// checks, the page-load rules and dashboard, the network flows and the summary.
import { PlatformConfig } from "../config/schema";
import { PageConfig } from "../config/traffic";
import { hostFor } from "./routes";

/** The pages whose load is measured: finbot:traffic.pages when traffic is on, none otherwise. */
export function measuredPages(config: Pick<PlatformConfig, "traffic">): PageConfig[] {
    return config.traffic.enabled ? config.traffic.pages : [];
}

/** The host users reach the CDN at (its first alias), when there is a CDN. */
export function cdnHost(traffic: PlatformConfig["traffic"]): string | undefined {
    return traffic.cdn.enabled ? traffic.cdn.aliases[0] : undefined;
}

/** Where users load a page: through the CDN where there is one, else at the service's own host. */
export function pageUrl(traffic: PlatformConfig["traffic"], page: PageConfig): string {
    return `https://${cdnHost(traffic) ?? hostFor(page.service, traffic.domain)}${page.path}`;
}
