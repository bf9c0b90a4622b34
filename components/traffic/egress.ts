import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { containerResources } from "../config/primitives";
import { PlatformConfig } from "../config/schema";
import { ThirdPartyConfig } from "../config/thirdParties";
import { OidcConfig, TrafficConfig } from "../config/traffic";
import { CertificateIssuer, serverCertificate, serviceDnsNames } from "../lib/certificates";
import { EgressListener } from "../lib/flowContext";
import { podMonitor } from "../lib/monitors";
import { serviceHost } from "../lib/services";
import { Peer } from "../lib/networkPolicy";
import { GRAFANA_PODS } from "../monitoring/labels";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";
import { OWNING_GATEWAY, envoyProxyProvider, gatewayParent, gatewayServiceName } from "./routes";

/** The egress gateway: its GatewayClass, Gateway and proxy pods' `owning-gateway-name`. */
export const EGRESS_GATEWAY = "finbot-egress";
/** The first provider's listener port; the i-th provider of finbot:thirdParties listens on this + i. */
export const EGRESS_FIRST_PORT = 11000;
/**
 * Envoy's Prometheus endpoint on every proxy pod: Envoy Gateway v1.9 names container port 19001
 * `metrics` (internal/infrastructure/kubernetes/proxy/resource.go) and serves `/stats/prometheus` there.
 */
export const ENVOY_METRICS = { portName: "metrics", port: 19001, path: "/stats/prometheus" };

/** One provider's way out: its listener on the egress gateway and the names its metrics carry. */
export interface EgressRoute {
    provider: ThirdPartyConfig;
    /** Listener port on the gateway (the proxies' container port too: Envoy Gateway keeps ports of 1024 and over). */
    port: number;
    /** The HTTPRoute, Backend and policies' name. */
    route: string;
    /** What callers are handed as THIRD_PARTY_<NAME>_URL. */
    url: string;
}

/** Each provider's listener, route and URL. Pure. */
export function egressRoutes(providers: ThirdPartyConfig[], namespace: string): EgressRoute[] {
    return providers.map((provider, i) => {
        const port = EGRESS_FIRST_PORT + i;
        return {
            provider,
            port,
            route: egressRouteName(provider.name),
            url: `https://${serviceHost(gatewayServiceName(EGRESS_GATEWAY), namespace)}:${port}`,
        };
    });
}

export const egressRouteName = (provider: string) => `egress-${provider}`;

/** The egress gateway's route to the identity provider's signing keys (Grafana verifies the gateway's ID tokens with them). */
export const IDENTITY_PROVIDER = "identity-provider";

/**
 * The identity provider's key endpoint as a provider of the egress gateway: Grafana's only way out.
 * Unbilled (no price or budget: the cost rules read finbot:thirdParties only); keys are fetched about
 * hourly per Grafana pod, so a small rate limit; a GET, so retried. Pure.
 */
function identityKeysProvider(oidc: Pick<OidcConfig, "jwksUri">): ThirdPartyConfig {
    const url = new URL(oidc.jwksUri);
    return {
        name: IDENTITY_PROVIDER,
        host: url.hostname,
        port: url.port ? Number(url.port) : 443,
        callers: [],
        price: { perRequest: 0, perGigabyteSent: 0, perGigabyteReceived: 0 },
        monthlyBudget: 0,
        expectedRequestsPerMonth: 0,
        rateLimitPerSecond: 5,
        maxConcurrentRequests: 8,
        timeout: "10s",
        idempotent: true,
        objective: { errorRatio: 0.05, latencyP95Seconds: 2 },
    };
}

/**
 * What the egress gateway routes: `finbot:thirdParties` in order, then the identity provider's keys
 * when Grafana signs people in with the gateway's ID tokens (single sign-on and Grafana on). Pure.
 */
export function egressProviders(
    config: Pick<PlatformConfig, "thirdParties" | "monitoring" | "traffic">,
    access: { mode: string; oidc?: OidcConfig },
): ThirdPartyConfig[] {
    const sso = grafanaSignsInWithIdTokens(config, access);
    return [...config.thirdParties, ...(sso && access.oidc ? [identityKeysProvider(access.oidc)] : [])];
}

/** The stack's egress routes: its providers (egressProviders) in the traffic namespace. Pure. */
export function stackEgressRoutes(
    config: Pick<PlatformConfig, "thirdParties" | "monitoring" | "traffic" | "namespaces">,
    access: { mode: string; oidc?: OidcConfig },
): EgressRoute[] {
    return egressRoutes(egressProviders(config, access), config.namespaces.traffic);
}

/** Grafana signs people in with the ID tokens the gateway forwards: single sign-on at the gateway, Grafana running. Pure. */
export const grafanaSignsInWithIdTokens = (
    config: Pick<PlatformConfig, "monitoring" | "traffic">,
    access: { mode: string; oidc?: OidcConfig },
) => config.traffic.enabled && config.monitoring.enabled && access.mode === "oidc" && access.oidc !== undefined;

/**
 * Who may reach a listener of the egress gateway, and for what: its provider's callers (the
 * services' and workers' pods that call it), or Grafana alone for the identity provider's keys. Pure.
 */
export function listenerCallers(
    route: EgressListener,
    callers: Array<{ pods: string; routes: EgressListener[] }>,
    ns: { apps: string; monitoring: string },
): { who: string; peers: Peer[] } {
    if (route.provider.name === IDENTITY_PROVIDER)
        return { who: "Grafana fetches the identity provider's signing keys", peers: [{ namespace: ns.monitoring, pods: GRAFANA_PODS }] };
    return {
        who: `${route.provider.callers.join(", ")} may call ${route.provider.name}`,
        peers: callers
            .filter((c) => c.routes.includes(route))
            .map((c) => ({ namespace: ns.apps, pods: { "app.kubernetes.io/name": c.pods } })),
    };
}

/** Where Grafana fetches the identity provider's signing keys: the gateway's listener, the key endpoint's path. Pure. */
export function identityKeysUrl(routes: EgressRoute[], oidc: Pick<OidcConfig, "jwksUri">): string | undefined {
    const route = routes.find((r) => r.provider.name === IDENTITY_PROVIDER);
    if (!route) return undefined;
    const url = new URL(oidc.jwksUri);
    return `${route.url}${url.pathname}${url.search}`;
}

/** Each workload that calls a third party (a service's canary with its service), and the routes it may use. Pure. */
export function thirdPartyCallers(
    config: Pick<PlatformConfig, "services" | "workers">,
    routes: EgressRoute[],
): Array<{ pods: string; routes: EgressRoute[] }> {
    return [
        ...config.services.flatMap((s) => [s.name, ...(s.canary ? [`${s.name}-canary`] : [])].map((pods) => ({ pods, caller: s.name }))),
        ...config.workers.map((w) => ({ pods: w.name, caller: w.name })),
    ]
        .map(({ pods, caller }) => ({ pods, routes: routes.filter((r) => r.provider.callers.includes(caller)) }))
        .filter((c) => c.routes.length > 0);
}

/** The environment variable a caller reads a provider's gateway URL from. */
export const thirdPartyUrlVariable = (provider: string) => `THIRD_PARTY_${provider.toUpperCase().replace(/-/g, "_")}_URL`;

/**
 * A Sentry DSN pointed at the egress gateway: same key and project, the gateway's host and port
 * (the route rewrites the Host header back to Sentry's). What is no DSN is returned as it is: the
 * SDK refuses it as it would have anyway.
 */
export function dsnThroughGateway(dsn: string, gatewayUrl: string): string {
    const match = /^https?:\/\/([^@/\s]+)@[^/\s]+(\/\S*)$/.exec(dsn);
    if (!match) return dsn;
    const { host } = new URL(gatewayUrl);
    return `https://${match[1]}@${host}${match[2]}`;
}

export interface EgressGatewayArgs {
    /** What it routes, each provider with its listener and URL (`egressRoutes`). */
    routes: EgressRoute[];
    /** The traffic namespace: the Gateway, routes and proxies. */
    namespace: string;
    /** Replicas and resources of the proxies (`finbot:traffic.egressGateway`). */
    gateway: TrafficConfig["egressGateway"];
    /** Spread the proxies strictly over zones. */
    production: boolean;
    /** Signs the listeners' certificate: callers verify the gateway with the internal CA. */
    issuer: CertificateIssuer;
    /** Envoy Gateway, with its Backend API on. */
    envoyGateway: pulumi.Resource;
    /**
     * When set, the proxies get a PodMonitor (created after these CRDs): the spend rules read it.
     * @default no PodMonitor
     */
    monitoringCrds?: pulumi.Resource;
}

/**
 * The metered egress gateway: the only way from FinBot's pods to a third party. Each provider gets
 * a TLS listener of its own (the network policies admit only its callers to that port), a route
 * to a Backend with the provider's host, TLS originated by the proxy and verified against the
 * system's CAs for that host, a local rate limit and a circuit breaker as the spend guard, a
 * timeout, and retries of connection failures only where the API is idempotent.
 */
export class EgressGateway extends pulumi.ComponentResource {
    /** Each provider's listener and URL. */
    public readonly routes: EgressRoute[];

    constructor(name: string, args: EgressGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:EgressGateway", name, {}, opts);
        const { namespace } = args;
        this.routes = args.routes;
        const tlsSecret = `${EGRESS_GATEWAY}-tls`;
        const certificate = serverCertificate(
            `${name}-certificate`,
            {
                namespace,
                secretName: tlsSecret,
                dnsNames: serviceDnsNames(gatewayServiceName(EGRESS_GATEWAY), namespace),
                issuer: args.issuer,
            },
            { parent: this },
        );
        const gatewayClass = this.proxyClass(name, args);
        // Routes of this namespace only: no other namespace can attach a route (and a way out) to it.
        const allowedRoutes = { namespaces: { from: "Same" } };
        const gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: { name: EGRESS_GATEWAY, namespace },
                spec: {
                    gatewayClassName: EGRESS_GATEWAY,
                    listeners: this.routes.map((r) => ({
                        name: r.provider.name,
                        protocol: "HTTPS",
                        port: r.port,
                        tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: tlsSecret }] },
                        allowedRoutes,
                    })),
                },
            },
            { parent: this, dependsOn: [gatewayClass, certificate] },
        );
        for (const route of this.routes) this.providerRoute(name, namespace, route, gateway);
        if (args.monitoringCrds)
            podMonitor(
                `${name}-monitor`,
                {
                    name: EGRESS_GATEWAY,
                    namespace,
                    selector: { matchLabels: { [OWNING_GATEWAY]: EGRESS_GATEWAY } },
                    endpoints: [
                        {
                            port: ENVOY_METRICS.portName,
                            path: ENVOY_METRICS.path,
                            // What the spend and provider rules read, nothing else of Envoy's thousands of stats.
                            metricRelabelings: [{ sourceLabels: ["__name__"], regex: EGRESS_METRICS_KEPT, action: "keep" }],
                        },
                    ],
                    limits: SCRAPE_LIMITS.egress,
                },
                { parent: this, dependsOn: [args.monitoringCrds] },
            );
        this.registerOutputs({ routes: this.routes.map((r) => r.url) });
    }

    /** The proxies (in the cluster only, spread over zones) and the GatewayClass that makes them. */
    private proxyClass(name: string, args: EgressGatewayArgs): pulumi.Resource {
        const { namespace } = args;
        const proxy = new k8s.apiextensions.CustomResource(
            `${name}-proxy`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "EnvoyProxy",
                metadata: { name: `${EGRESS_GATEWAY}-proxy`, namespace },
                spec: {
                    provider: envoyProxyProvider({
                        gateway: EGRESS_GATEWAY,
                        replicas: args.gateway.replicas,
                        resources: containerResources(args.gateway.resources),
                        production: args.production,
                        // In the cluster only, under a fixed name: callers are handed its URL.
                        service: { name: gatewayServiceName(EGRESS_GATEWAY), type: "ClusterIP" },
                    }),
                },
            },
            { parent: this, dependsOn: [args.envoyGateway] },
        );
        return new k8s.apiextensions.CustomResource(
            `${name}-class`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "GatewayClass",
                metadata: { name: EGRESS_GATEWAY },
                spec: {
                    controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
                    parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: `${EGRESS_GATEWAY}-proxy`, namespace },
                },
            },
            { parent: this, dependsOn: [args.envoyGateway, proxy] },
        );
    }

    /** A provider's Backend, route and traffic policy. */
    private providerRoute(name: string, namespace: string, route: EgressRoute, gateway: pulumi.Resource): void {
        const { provider } = route;
        const backend = new k8s.apiextensions.CustomResource(
            `${name}-${provider.name}-backend`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "Backend",
                metadata: { name: route.route, namespace },
                spec: {
                    endpoints: [{ fqdn: { hostname: provider.host, port: provider.port } }],
                    // TLS to the provider, its certificate verified for its host against the system's CAs.
                    tls: { wellKnownCACertificates: "System", sni: provider.host, minVersion: "1.2" },
                },
            },
            { parent: this },
        );
        const httpRoute = new k8s.apiextensions.CustomResource(
            `${name}-${provider.name}-route`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: route.route, namespace },
                spec: {
                    parentRefs: [{ ...gatewayParent(EGRESS_GATEWAY, namespace, "https"), sectionName: provider.name }],
                    rules: [
                        {
                            // The provider sees its own name, not the gateway's.
                            filters: [{ type: "URLRewrite", urlRewrite: { hostname: provider.host } }],
                            backendRefs: [{ group: "gateway.envoyproxy.io", kind: "Backend", name: route.route }],
                            timeouts: { request: provider.timeout },
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [gateway, backend] },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-${provider.name}-policy`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "BackendTrafficPolicy",
                metadata: { name: route.route, namespace },
                spec: egressTrafficPolicy(route),
            },
            { parent: this, dependsOn: [httpRoute] },
        );
    }
}

/** The spend guard of one provider: rate limit, circuit breaker, and retries only where repeating a call is harmless. Pure. */
export function egressTrafficPolicy(route: EgressRoute): Record<string, unknown> {
    const { provider } = route;
    return {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: route.route }],
        rateLimit: { local: { rules: [{ limit: { requests: provider.rateLimitPerSecond, unit: "Second" } }] } },
        circuitBreaker: {
            maxConnections: provider.maxConcurrentRequests,
            maxParallelRequests: provider.maxConcurrentRequests,
            maxPendingRequests: provider.maxConcurrentRequests,
            maxParallelRetries: provider.idempotent ? Math.max(1, Math.floor(provider.maxConcurrentRequests / 10)) : 1,
        },
        // A retry of a call that reached the provider may be billed (and for a payment, sent) twice.
        retry: provider.idempotent
            ? {
                  numRetries: 2,
                  retryOn: { triggers: ["connect-failure", "refused-stream", "reset"] },
                  perRetry: { backOff: { baseInterval: "100ms", maxInterval: "1s" } },
              }
            : { numRetries: 0 },
    };
}

/** Envoy's metrics the third-party rules read (the PodMonitor keeps only these). */
export const EGRESS_METRICS_KEPT =
    "envoy_cluster_upstream_rq_(total|xx|time_bucket)|envoy_cluster_upstream_cx_(tx|rx)_bytes_total|envoy_http_local_rate_limit_rate_limited";
