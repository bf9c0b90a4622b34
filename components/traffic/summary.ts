// The traffic section of summary.md: routes, the capacity table, and the cost estimate.
import { CAPACITY_FACTOR } from "../config/capacityRule";
import { formatBytes, formatCpu } from "../config/quantities";
import { PlatformConfig } from "../config/schema";
import { Footprint } from "../lib/footprint";
import { table } from "../lib/markdown";
import { capacityReport } from "./capacity";
import { estimateCost, loadPriceTable } from "./cost";
import { operatorAccessOf } from "../config/traffic";
import { UiRoute, hostFor } from "./routes";

/** How a UI is reached: single sign-on, basic auth, or its own login; internal or public. */
function uiAccess(config: PlatformConfig, ui: UiRoute): string {
    const access = operatorAccessOf(config.traffic, config.environment === "production");
    const where = access.internal ? "internal load balancer" : "public gateway";
    if (access.mode === "oidc") return `${where}, single sign-on (${access.oidc?.allowedGroups.join(", ") ?? "no groups"})`;
    return `${where}, ${ui.ownLogin ? "own login" : "basic auth (user finbot)"}`;
}

/** The region of the committed price table (prod's `aws:region`). */
export const PRICE_REGION = "eu-central-1";

/**
 * `uis`: the operator UIs the gateway routes; `footprint`: what the whole stack declares it runs
 * (pods and managed services), priced for the cost estimate.
 */
export function trafficSummary(config: PlatformConfig, uis: UiRoute[], footprint: Footprint): string {
    const t = config.traffic;
    const parts: string[] = [];
    if (t.enabled) {
        const routes = [
            ...config.services
                .filter((s) => s.public)
                .map((s) => [
                    `https://${hostFor(s.name, t.domain)}`,
                    s.canary
                        ? `${s.name} ${100 - s.canary.weight}% / ${s.name}-canary ${s.canary.weight}%${s.canary.header ? ` (header ${s.canary.header.name}: ${s.canary.header.value} → canary)` : ""}`
                        : `${s.name} 100%`,
                    `timeout ${t.requestTimeout}, ${t.retries} retries, ${t.rateLimitPerSecond} req/s per proxy`,
                ]),
            ...uis.map((u) => [`https://${hostFor(u.name, t.domain)}`, `${u.namespace}/${u.service}`, uiAccess(config, u)]),
        ];
        parts.push(
            "## Traffic (Envoy Gateway, Gateway API)",
            "",
            `Load balancer: ${config.environment === "production" ? "internet-facing NLB (IP targets)" : "the cluster's LoadBalancer Service"}, ${t.gateway.replicas} proxy replica(s); ` +
                `TLS: ${t.tls.issuer ?? (config.environment === "production" ? "acme" : "self-signed")} certificate for *.${t.domain}; CDN: ${t.cdn.enabled ? `CloudFront (${t.cdn.staticPaths.join(", ")} from S3)` : "off"}.`,
            "",
            table(["route", "backends", "policy"], routes),
        );
    }
    const reports = config.services.map(capacityReport).filter((r) => r !== undefined);
    parts.push("", `## Capacity (target: ${CAPACITY_FACTOR}x peak)`, "");
    if (reports.length === 0) parts.push("No service declares `capacity`.");
    else {
        parts.push(
            table(
                [
                    "service",
                    "per pod",
                    "peak",
                    "max throughput",
                    "ratio",
                    `replicas for ${CAPACITY_FACTOR}x`,
                    "scale-up time",
                    `requests at ${CAPACITY_FACTOR}x`,
                ],
                reports.map((r) => [
                    r.service,
                    `${r.perPod} req/s`,
                    `${r.peak} req/s`,
                    `${r.maxThroughput} req/s`,
                    `${Number(r.ratio.toFixed(2))}x ${r.meetsTarget ? "✅" : "❌"}`,
                    r.replicasFor10x,
                    `${r.scaleUpSeconds} s (${r.scaleUpSteps} steps)`,
                    `${formatCpu(r.cpuMillicores)}, ${formatBytes(r.memoryBytes)}`,
                ]),
            ),
            "",
            "Scale-up time walks the HPA behaviour from minReplicas (first decision after the 15 s sync and the stabilization window); metric collection lag comes on top.",
        );
    }
    const prices = loadPriceTable(PRICE_REGION);
    if (prices) {
        const lines = estimateCost(footprint, prices);
        const total = lines.reduce((sum, l) => sum + l.monthly, 0);
        parts.push(
            "",
            `## Cost estimate (${prices.region} on-demand prices of ${prices.date}; an estimate, not a quote)`,
            "",
            table(
                ["item", "quantity", `${prices.currency}/month`],
                [...lines.map((l) => [l.item, l.quantity, l.monthly.toFixed(2)]), ["**total**", "", `**${total.toFixed(2)}**`]],
            ),
        );
    }
    return parts.join("\n");
}
