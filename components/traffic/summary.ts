// The traffic section of summary.md: routes, the capacity table, and the cost estimate.
import {
    CAPACITY_FACTOR,
    ASSUMED_NODE,
    SCHEDULABLE_SHARE,
    perNodeRequests,
    poolFit,
    servicesAtTenTimes,
    CONNECTIONS_PER_POD,
    DatabaseAtTenTimes,
    PROXY_CONNECTIONS_PERCENT,
    auroraMaxConnections,
    databaseAtTenTimes,
    capacityReport,
} from "../config/capacity";
import { formatBytes, formatCpu } from "../config/quantities";
import { PlatformConfig } from "../config/schema";
import { Footprint } from "../lib/footprint";
import { groupThousands, table } from "../lib/markdown";
import { ThirdPartySpend, estimateCost, loadPriceTable, thirdPartySpend } from "./cost";
import { stackDefaults } from "../config/resolve";
import { cdnHost, measuredPages, pageUrl } from "./pages";
import { RUM_HOST, UiRoute, hostFor } from "./routes";

/** How a UI is reached: single sign-on, basic auth, or its own login; internal or public. */
function uiAccess(config: PlatformConfig, ui: UiRoute): string {
    const access = stackDefaults(config).operatorAccess;
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
    const defaults = stackDefaults(config);
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
            `Load balancer: ${defaults.production ? "internet-facing NLB (IP targets)" : "the cluster's LoadBalancer Service"}, ${t.gateway.replicas} proxy replica(s); ` +
                `TLS: ${defaults.tlsIssuer} certificate for *.${t.domain}; CDN: ${t.cdn.enabled ? `CloudFront (${t.cdn.staticPaths.join(", ")} from S3)` : "off"}.`,
            "",
            table(["route", "backends", "policy"], routes),
        );
    }
    if (measuredPages(config).length > 0) parts.push("", pageLoadSection(config));
    const reports = config.services.map(capacityReport).filter((r) => r !== undefined);
    const karpenter = defaults.nodeAutoscaler === "karpenter";
    // New pods wait for a node once the pool's free room is used: Karpenter's provisioning time comes on top.
    const nodeSeconds = karpenter ? config.cluster.nodeProvisioningSeconds : 0;
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
                    nodeSeconds
                        ? `${r.scaleUpSeconds + nodeSeconds} s (${r.scaleUpSteps} steps + ${nodeSeconds} s for new nodes)`
                        : `${r.scaleUpSeconds} s (${r.scaleUpSteps} steps)`,
                    `${formatCpu(r.cpuMillicores)}, ${formatBytes(r.memoryBytes)}`,
                ]),
            ),
            "",
            "Scale-up time walks the HPA behaviour from minReplicas (first decision after the 15 s sync and the stabilization window); metric collection lag comes on top.",
        );
    }
    if (karpenter) parts.push("", nodeCapacityTable(config, footprint));
    const database = databaseAtTenTimes(config);
    if (database) parts.push("", databaseTable(config, database));
    const prices = loadPriceTable(PRICE_REGION);
    const spend = t.enabled ? thirdPartySpend(config.thirdParties, t.egressGateway.replicas, CAPACITY_FACTOR) : [];
    if (prices) {
        const lines = [
            ...estimateCost(footprint, prices),
            ...spend.map((s) => ({
                item: `Third party ${s.provider}`,
                quantity: `${groupThousands(s.requestsPerMonth)} requests (expected)`,
                monthly: s.today,
            })),
        ];
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
    if (spend.length > 0) parts.push("", thirdPartyTable(spend));
    return parts.join("\n");
}

/** Each third party's spend today and at 10x against its budget, and what its rate limit lets a day cost. */
function thirdPartyTable(spend: ThirdPartySpend[]): string {
    const usd = (n: number) => n.toFixed(2);
    return [
        `## Third-party APIs (through the egress gateway; USD a month by requests × price)`,
        "",
        table(
            ["provider", "requests/month (expected)", "today", `at ${CAPACITY_FACTOR}x`, "budget", "most a day can cost at the rate limit"],
            spend.map((s) => [
                s.provider,
                groupThousands(s.requestsPerMonth),
                usd(s.today),
                `${usd(s.atFactor)} ${s.atFactor <= s.budget ? "✅" : "❌ over budget"}`,
                usd(s.budget),
                usd(s.ceilingPerDay),
            ]),
        ),
        "",
        "Token- and event-billed providers are priced at their average cost of a call (an estimate). The running cluster measures requests and bytes at the gateway: FinBot / Third-party APIs, FinbotThirdPartySpendOverBudget and FinbotThirdPartySpendRunaway.",
    ].join("\n");
}

/** The node rows: each Karpenter pool at 10x peak against its limits. */
function nodeCapacityTable(config: PlatformConfig, footprint: Footprint): string {
    const perNode = perNodeRequests(config);
    const atRest = (part: string) => part.startsWith("service ") || part.startsWith("worker ");
    const fits = [
        poolFit("services", config.cluster.servicesPool, servicesAtTenTimes(config), perNode),
        poolFit(
            "platform",
            config.cluster.platformPool,
            footprint.requests.filter((l) => !atRest(l.part)),
            perNode,
        ),
    ];
    const gi = (bytes: number) => `${Math.round(bytes / 1024 ** 3)} GiB`;
    return [
        `### Nodes at ${CAPACITY_FACTOR}x peak (Karpenter)`,
        "",
        table(
            ["pool", "pods", "requests", `nodes (${ASSUMED_NODE.millicores / 1000} vCPU, ${gi(ASSUMED_NODE.bytes)})`, "pool limit", "fits"],
            fits.map((f) => [
                f.pool,
                f.pods,
                `${formatCpu(f.millicores)}, ${formatBytes(f.bytes)}`,
                `${f.nodes} (${(f.nodes * ASSUMED_NODE.millicores) / 1000} vCPU, ${gi(f.nodes * ASSUMED_NODE.bytes)})`,
                `${f.limitMillicores / 1000} vCPU, ${gi(f.limitBytes)}`,
                f.fits ? "✅" : "❌",
            ]),
        ),
        "",
        `services: every service at the replicas ${CAPACITY_FACTOR}x needs (its maximum without capacity facts), every worker at its maximum; platform: the data tier, monitoring, logging and controllers as deployed. ` +
            `Nodes counted at ${SCHEDULABLE_SHARE * 100}% schedulable after each node's Filebeat and EKS add-ons; a new node is assumed ready ${config.cluster.nodeProvisioningSeconds} s after a pod goes pending (finbot:cluster.nodeProvisioningSeconds). No placeholder pods keep warm headroom: the 10x scale-up time above includes that wait.`,
    ].join("\n");
}

/** Pages measured by the browser checks, their budgets, and where real users' page loads go. */
function pageLoadSection(config: PlatformConfig): string {
    const t = config.traffic;
    const viaCdn = cdnHost(t);
    const rum = t.rum.enabled && config.logging.enabled && config.logging.apm.enabled;
    return [
        "## Page load (synthetic browser checks and RUM)",
        "",
        table(
            ["page", "loaded at", "schedule", "p75 LCP budget", "p75 TTFB budget"],
            t.pages.map((p) => [p.name, pageUrl(t, p), t.pageChecks.schedule, `${p.lcpBudgetMs} ms`, `${p.ttfbBudgetMs} ms`]),
        ),
        "",
        `k6 with Chromium (CronJob \`page-check-<page>\`) writes each page's p75 LCP and TTFB over its loads to Prometheus; *FinBot / Page load* shows them against the budgets and four weeks earlier; ` +
            "FinbotPageLoadOverBudget (30 min over budget) and FinbotPageLoadRegressed (25% slower than a week ago) open tickets. " +
            (rum
                ? `RUM: browsers send page loads to https://${hostFor(RUM_HOST, t.domain)}/intake/${viaCdn ? ` (and https://${viaCdn}/intake/ through the CDN)` : ""}, APM Server's RUM intake (agent rum-js, rate-limited ${t.rum.eventRateLimit} events/s per IP).`
                : "RUM: off."),
    ].join("\n");
}

/** The database rows: connections through RDS Proxy and reads against the readers, at 10x. */
function databaseTable(config: PlatformConfig, d: DatabaseAtTenTimes): string {
    const a = config.database.aurora;
    const reads =
        d.readQueriesPerSecond === undefined
            ? ["read queries", "not declared (finbot:services[].capacity.readQueriesPerRequest)", "", ""]
            : d.readerQueriesPerSecond === undefined
              ? ["read queries", `${d.readQueriesPerSecond} q/s`, "not measured (finbot:database.aurora.readQueriesPerSecondPerReader)", ""]
              : [
                    "read queries",
                    `${d.readQueriesPerSecond} q/s (${d.readersNeeded} reader${d.readersNeeded === 1 ? "" : "s"})`,
                    `${d.readerQueriesPerSecond} q/s (${a.readers.max} readers × ${a.readQueriesPerSecondPerReader})`,
                    d.readQueriesPerSecond <= d.readerQueriesPerSecond ? "✅" : "❌",
                ];
    return [
        `### Database at ${CAPACITY_FACTOR}x peak (Aurora ${a.instanceClass}, RDS Proxy)`,
        "",
        table(
            ["", `needed at ${CAPACITY_FACTOR}x`, "available", "fits"],
            [
                [
                    "client connections",
                    `${d.clientConnections} (${d.pods} pods × ${CONNECTIONS_PER_POD})`,
                    `multiplexed by RDS Proxy onto ${d.writerBackends} writer and ${d.readerBackends} reader backends`,
                    d.clientConnections <= d.writerBackends + d.readerBackends ? "✅" : "multiplexed",
                ],
                reads,
            ],
        ),
        "",
        `Pods: the database's users at the replicas ${CAPACITY_FACTOR}x needs; each keeps ${CONNECTIONS_PER_POD} connections. Backends: ${PROXY_CONNECTIONS_PERCENT}% of max_connections ` +
            `(≈${auroraMaxConnections(a.instanceClass)} per ${a.instanceClass}, LEAST(DBInstanceClassMemory/9531392, 5000)) per instance. Reads: peak × ${CAPACITY_FACTOR} × read queries per request, against the readers at their maximum.`,
    ].join("\n");
}
