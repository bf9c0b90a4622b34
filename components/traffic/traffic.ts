import { createHash } from "node:crypto";
import { TLS_FRONT_PORT } from "../lib/tlsFrontend";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { containerResources } from "../config/primitives";
import { ServiceConfig } from "../config/schema";
import { OidcConfig, TrafficConfig, operatorAccessOf } from "../config/traffic";
import { tlsIssuerOf } from "../config/resolve";
import { ClusterService, serviceHost } from "../lib/services";
import { Footprint } from "../lib/footprint";
import { podIdentity } from "../lib/podIdentity";
import { Cdn, ORIGIN_KEY_HEADER } from "./cdn";
import { Pki } from "../pki";
import { TrafficControllers } from "./controllers";
import { EgressGateway, EgressRoute } from "./egress";
import {
    GATEWAY,
    GATEWAY_TLS_SECRET,
    INTERNAL_GATEWAY,
    RUM_HOST,
    cdnOriginService,
    envoyProxyProvider,
    UiRoute,
    gatewayParent,
    gatewayServiceName,
    hostFor,
    htpasswdLine,
    oidcSecurityPolicy,
    serviceRouteRules,
} from "./routes";

export interface TrafficArgs {
    /** The validated `finbot:traffic`. */
    config: TrafficConfig;
    /** Production: NLBs, strict zone spread, ACME certificates, single sign-on for the operator UIs. */
    production: boolean;
    /** Namespace of the gateways and cert-manager. */
    namespace: string;
    /** Namespace of FinBot's services (their routes live there). */
    appsNamespace: string;
    /** Public services get a route each, to their TLS fronts (AutoscaledService's `tlsFront`), verified. */
    services: ServiceConfig[];
    /** Operator UIs to route (Grafana, Prometheus, Alertmanager, Kibana), when their areas are on. */
    uis: UiRoute[];
    /**
     * APM Server's RUM intake, served to browsers at `rum.<domain>` (and `/intake/*` of the CDN's aliases).
     * @default not served
     */
    rum?: { service: ClusterService };
    /** Envoy Gateway, installed before anything asks for a route. */
    controllers: TrafficControllers;
    /** cert-manager and the internal CA: the gateways' certificates, and the backends verified against it. */
    pki: Pki;
    /**
     * What the metered egress gateway routes, each provider with its listener (see `egressProviders`,
     * `egressRoutes`): the third parties FinBot calls (`finbot:thirdParties`), and the identity
     * provider's keys when Grafana verifies ID tokens.
     * @default none (no egress gateway)
     */
    egressRoutes?: EgressRoute[];
    /**
     * When set, the egress gateway's proxies get a PodMonitor (created after these CRDs).
     * @default no PodMonitor
     */
    monitoringCrds?: pulumi.Resource;
    /**
     * The EKS cluster: cert-manager gets a pod identity there for Route 53 (DNS-01 in production).
     * @default none (HTTP-01)
     */
    clusterName?: pulumi.Input<string>;
}

const ROUTE_LABELS = { "app.kubernetes.io/part-of": "finbot" };
/** The Secret (per UI namespace) holding the OIDC client secret the SecurityPolicies name. */
const CLIENT_SECRET = "finbot-oidc-client";

/** A Gateway by name, and its resource (routes attach after it). */
interface GatewayRef {
    name: string;
    resource: pulumi.Resource;
}

/** Envoy's local rate limit: so many requests a second per gateway replica. */
// The `local` field alone: `type: Local` is deprecated since Envoy Gateway 1.6 (the pinned 1.9 CRD: "Deprecated: Use Global
// and/or Local fields directly instead").
const localRateLimit = (perSecond: number) => ({ local: { rules: [{ limit: { requests: perSecond, unit: "Second" } }] } });

/**
 * Traffic: Envoy Gateway (Gateway API) behind the cloud load balancer, TLS from cert-manager (ACME
 * in production, self-signed in staging), HTTPRoutes with timeouts, retries and rate limits for
 * each public service (weighted for canaries, header-matched for A/B cohorts), the operator UIs
 * (in production on an internal load balancer, behind single sign-on), and in production the CDN,
 * which alone may reach the public load balancer.
 */
export class Traffic extends pulumi.ComponentResource {
    /** https://<name>.<domain> of every route. */
    public readonly urls: Record<string, string> = {};
    /** Password of the `finbot` user guarding Prometheus and Alertmanager (secret), where basic auth is used (staging). */
    public readonly uiPassword?: pulumi.Output<string>;
    public readonly cdnDomain?: pulumi.Output<string>;
    /** What it runs in the cluster and on AWS. */
    public readonly footprint: Footprint;
    /** The operator UIs it routes. */
    public readonly uis: UiRoute[];
    /** The metered egress gateway (when there are third parties). */
    public readonly egress?: EgressGateway;

    constructor(name: string, args: TrafficArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:Traffic", name, {}, opts);
        const { config, production } = args;
        const access = operatorAccessOf(config, production);
        // In production with the CDN, CloudFront is the only client of the public load balancer.
        const edge = production && config.cdn.enabled;
        const egressRoutes = args.egressRoutes ?? [];
        this.backendCas = this.backendCaConfigMaps(name, args);
        this.uis = args.uis;
        this.footprint = {
            requests: [
                {
                    part: "Envoy proxies",
                    pods: config.gateway.replicas * (access.internal ? 2 : 1),
                    ...config.gateway.resources.requests,
                },
                ...(egressRoutes.length > 0
                    ? [{ part: "Egress gateway proxies", pods: config.egressGateway.replicas, ...config.egressGateway.resources.requests }]
                    : []),
            ],
            managed: [
                ...(production ? [{ kind: "nlb" as const }] : []),
                ...(production && access.internal ? [{ kind: "nlb" as const }] : []),
                ...(config.cdn.enabled ? [{ kind: "cloudfront" as const }, { kind: "waf" as const, rules: 3 }] : []),
            ],
        };
        const publicHosts = args.services.filter((s) => s.public).map((s) => hostFor(s.name, config.domain));
        const uiHosts = args.uis.map((u) => hostFor(u.name, config.domain));
        // rum.<domain> too: browsers reach it, and so does CloudFront's "rum" origin, which checks the name.
        const rumHosts = args.rum ? [hostFor(RUM_HOST, config.domain)] : [];
        const certificate = this.certificate(name, args, [...publicHosts, ...uiHosts, ...rumHosts]);
        const publicGateway = this.gateway(name, args, {
            gateway: GATEWAY,
            internal: false,
            // CloudFront redirects to HTTPS itself and reaches the origin on 443 only.
            httpListener: !edge,
            annotations: production ? nlbAnnotations({ internal: false, prefixList: edge ? cloudFrontPrefixList(this) : undefined }) : {},
            dependsOn: [certificate],
        });
        const uiGateway = access.internal
            ? this.gateway(name, args, {
                  gateway: INTERNAL_GATEWAY,
                  internal: true,
                  httpListener: false,
                  annotations: production ? nlbAnnotations({ internal: true }) : {},
                  dependsOn: [certificate],
              })
            : publicGateway;
        this.serviceRoutes(name, args, publicGateway);
        this.uiPassword = this.operatorUiRoutes(name, args, uiGateway, access);
        if (args.rum) this.rumRoute(name, args, args.rum, publicGateway);
        if (egressRoutes.length > 0)
            this.egress = new EgressGateway(
                `${name}-egress`,
                {
                    routes: egressRoutes,
                    namespace: args.namespace,
                    gateway: config.egressGateway,
                    production,
                    issuer: args.pki.internalIssuer,
                    envoyGateway: args.controllers.envoyGateway,
                    monitoringCrds: args.monitoringCrds,
                },
                { parent: this },
            );
        if (config.cdn.enabled) {
            // A key only CloudFront sends: the public gateway refuses requests without it.
            const originKey = new random.RandomPassword(`${name}-origin-key`, { length: 40, special: false }, { parent: this });
            if (edge) this.requireOriginKey(name, args, publicGateway, originKey);
            const cdn = new Cdn(
                `${name}-cdn`,
                {
                    environment: production ? "production" : "staging",
                    production,
                    staticPaths: config.cdn.staticPaths,
                    priceClass: config.cdn.priceClass,
                    originHost: hostFor(cdnOriginService(args.services), config.domain),
                    rumOriginHost: args.rum ? hostFor(RUM_HOST, config.domain) : undefined,
                    originKey: originKey.result,
                    aliases: config.cdn.aliases,
                    hostedZoneId: config.cdn.hostedZoneId,
                    logRetentionDays: config.cdn.logRetentionDays,
                    rateLimitPer5Minutes: config.cdn.rateLimitPer5Minutes,
                },
                { parent: this },
            );
            this.cdnDomain = cdn.domainName;
        }
        this.registerOutputs({ urls: this.urls, uiPassword: this.uiPassword, cdnDomain: this.cdnDomain });
    }

    /**
     * The certificate of every host: ACME in production (DNS-01 through Route 53 when the zone is
     * known, since CloudFront reaches the origin only over HTTPS; else HTTP-01), self-signed in staging.
     */
    private certificate(name: string, args: TrafficArgs, hosts: string[]): pulumi.Resource {
        const { config, namespace, production } = args;
        const { certManager } = args.pki;
        const issuerKind = tlsIssuerOf(config, production);
        const issuerName = `finbot-${issuerKind}`;
        const zone = config.cdn.enabled ? config.cdn.hostedZoneId : undefined;
        const dns01 = issuerKind === "acme" && zone !== undefined && args.clusterName !== undefined;
        const route53 = dns01 ? this.route53Access(name, args, zone) : undefined;
        const issuer = new k8s.apiextensions.CustomResource(
            `${name}-issuer`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "ClusterIssuer",
                metadata: { name: issuerName },
                spec:
                    issuerKind === "acme"
                        ? {
                              acme: {
                                  email: config.tls.acmeEmail,
                                  server: config.tls.acmeServer,
                                  privateKeySecretRef: { name: `${issuerName}-account` },
                                  solvers: [
                                      dns01
                                          ? {
                                                dns01: {
                                                    route53: { region: aws.getRegionOutput({}, { parent: this }).name, hostedZoneID: zone },
                                                },
                                            }
                                          : {
                                                http01: {
                                                    gatewayHTTPRoute: { parentRefs: [{ name: GATEWAY, namespace, kind: "Gateway" }] },
                                                },
                                            },
                                  ],
                              },
                          }
                        : { selfSigned: {} },
            },
            { parent: this, dependsOn: [certManager, ...(route53 ? [route53] : [])] },
        );
        return new k8s.apiextensions.CustomResource(
            `${name}-certificate`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: "finbot-gateway", namespace },
                spec: {
                    secretName: GATEWAY_TLS_SECRET,
                    dnsNames: hosts,
                    issuerRef: { name: issuerName, kind: "ClusterIssuer", group: "cert-manager.io" },
                    privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
                    duration: "2160h",
                    renewBefore: "720h",
                },
            },
            { parent: this, dependsOn: [certManager, issuer] },
        );
    }

    /** cert-manager may change the TXT records of the one zone (DNS-01), through its pod identity. */
    private route53Access(name: string, args: TrafficArgs, zone: string): pulumi.Resource {
        return podIdentity(
            `${name}-cert-manager-dns`,
            {
                clusterName: args.clusterName!,
                namespace: args.namespace,
                serviceAccount: "cert-manager",
                description: "cert-manager answers ACME DNS-01 challenges in the FinBot zone",
                statements: [
                    // Only the challenge's TXT records: not the aliases or any other name of the zone
                    // (Route 53's condition keys take lower-case names without the trailing dot).
                    {
                        Effect: "Allow",
                        Action: ["route53:ChangeResourceRecordSets"],
                        Resource: [`arn:aws:route53:::hostedzone/${zone}`],
                        Condition: {
                            "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
                            "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"] },
                        },
                    },
                    { Effect: "Allow", Action: ["route53:ListResourceRecordSets"], Resource: [`arn:aws:route53:::hostedzone/${zone}`] },
                    { Effect: "Allow", Action: ["route53:GetChange"], Resource: ["arn:aws:route53:::change/*"] },
                ],
            },
            { parent: this },
        ).association;
    }

    /** A proxy fleet behind its load balancer, and the Gateway listening on it (with an HTTP → HTTPS redirect where it listens on HTTP). */
    private gateway(
        name: string,
        args: TrafficArgs,
        spec: {
            gateway: string;
            internal: boolean;
            httpListener: boolean;
            annotations: pulumi.Input<Record<string, pulumi.Input<string>>>;
            dependsOn: pulumi.Resource[];
        },
    ): GatewayRef {
        const { config, namespace, production } = args;
        const { envoyGateway } = args.controllers;
        const prefix = spec.internal ? `${name}-internal` : name;
        const proxyName = `${spec.gateway}-proxy`;
        const proxy = new k8s.apiextensions.CustomResource(
            `${prefix}-proxy`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "EnvoyProxy",
                metadata: { name: proxyName, namespace },
                spec: {
                    provider: envoyProxyProvider({
                        gateway: spec.gateway,
                        replicas: config.gateway.replicas,
                        resources: containerResources(config.gateway.resources),
                        production,
                        service: {
                            // In staging a fixed name: the in-cluster page checks resolve the gateway by it. Not
                            // in production, where renaming the Service would replace its load balancer.
                            ...(production ? {} : { name: gatewayServiceName(spec.gateway) }),
                            type: "LoadBalancer",
                            // Keep client source IPs (rate limits, logs) and skip a hop.
                            externalTrafficPolicy: "Local",
                            annotations: spec.annotations,
                        },
                    }),
                },
            },
            { parent: this, dependsOn: [envoyGateway] },
        );
        new k8s.apiextensions.CustomResource(
            `${prefix}-class`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "GatewayClass",
                metadata: { name: spec.gateway },
                spec: {
                    controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
                    parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: proxyName, namespace },
                },
            },
            { parent: this, dependsOn: [envoyGateway, proxy] },
        );
        const allowedRoutes = { namespaces: { from: "Selector", selector: { matchLabels: ROUTE_LABELS } } };
        const gateway = new k8s.apiextensions.CustomResource(
            `${prefix}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: { name: spec.gateway, namespace },
                spec: {
                    gatewayClassName: spec.gateway,
                    listeners: [
                        ...(spec.httpListener ? [{ name: "http", protocol: "HTTP", port: 80, allowedRoutes }] : []),
                        {
                            name: "https",
                            protocol: "HTTPS",
                            port: 443,
                            hostname: `*.${config.domain}`,
                            tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: GATEWAY_TLS_SECRET }] },
                            allowedRoutes,
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [envoyGateway, ...spec.dependsOn] },
        );
        if (spec.httpListener) {
            // Plain HTTP only redirects to HTTPS (cert-manager's ACME challenge routes are more specific).
            new k8s.apiextensions.CustomResource(
                `${prefix}-https-redirect`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: `${spec.gateway}-https-redirect`, namespace },
                    spec: {
                        parentRefs: [gatewayParent(spec.gateway, namespace, "http")],
                        hostnames: [`*.${config.domain}`],
                        rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
                    },
                },
                { parent: this, dependsOn: [gateway] },
            );
        }
        return { name: spec.gateway, resource: gateway };
    }

    /** A route per public service: timeout, retries of attempts that never reached a backend, rate limit. */
    private serviceRoutes(name: string, args: TrafficArgs, gateway: GatewayRef): void {
        const { config, namespace } = args;
        for (const service of args.services.filter((s) => s.public)) {
            const route = new k8s.apiextensions.CustomResource(
                `${name}-route-${service.name}`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: service.name, namespace: args.appsNamespace },
                    spec: {
                        parentRefs: [gatewayParent(gateway.name, namespace, "https")],
                        hostnames: [hostFor(service.name, config.domain)],
                        rules: serviceRouteRules(service, config.requestTimeout, TLS_FRONT_PORT),
                    },
                },
                { parent: this, dependsOn: [gateway.resource] },
            );
            for (const backend of [service.name, ...(service.canary ? [`${service.name}-canary`] : [])])
                this.backendTls(
                    `${name}-backend-tls-${backend}`,
                    backend,
                    { namespace: args.appsNamespace, service: backend },
                    serviceHost(backend, args.appsNamespace),
                    [route],
                );
            new k8s.apiextensions.CustomResource(
                `${name}-policy-${service.name}`,
                {
                    apiVersion: "gateway.envoyproxy.io/v1alpha1",
                    kind: "BackendTrafficPolicy",
                    metadata: { name: service.name, namespace: args.appsNamespace },
                    spec: {
                        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: service.name }],
                        // Only attempts that never reached a backend are retried: a POST that timed out
                        // may have settled a payment and must not be replayed.
                        retry: {
                            numRetries: config.retries,
                            retryOn: { triggers: ["connect-failure", "refused-stream"] },
                            perRetry: { timeout: "5s", backOff: { baseInterval: "100ms", maxInterval: "1s" } },
                        },
                        rateLimit: localRateLimit(config.rateLimitPerSecond),
                    },
                },
                { parent: this, dependsOn: [route] },
            );
            this.urls[service.name] = `https://${hostFor(service.name, config.domain)}`;
        }
    }

    /** Every request through the public gateway carries CloudFront's origin key (API key auth), or is refused. */
    private requireOriginKey(name: string, args: TrafficArgs, gateway: GatewayRef, key: random.RandomPassword): void {
        const secret = new k8s.core.v1.Secret(
            `${name}-origin-key`,
            {
                metadata: { name: "cloudfront-origin-key", namespace: args.namespace },
                type: "Opaque",
                stringData: { cloudfront: key.result },
            },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-origin-only`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "SecurityPolicy",
                metadata: { name: "cloudfront-only", namespace: args.namespace },
                spec: {
                    targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: gateway.name }],
                    apiKeyAuth: {
                        credentialRefs: [{ group: "", kind: "Secret", name: "cloudfront-origin-key" }],
                        extractFrom: [{ headers: [ORIGIN_KEY_HEADER] }],
                        // The key stops at the gateway: no service (or its logs) ever sees it (Envoy Gateway 1.9 CRD:
                        // "remove the API key from the request before forwarding it to the backend service").
                        sanitize: true,
                    },
                },
            },
            { parent: this, dependsOn: [gateway.resource, secret] },
        );
    }

    /**
     * Browsers' page loads to APM Server's RUM intake, on the public gateway at `rum.<domain>`.
     * APM Server speaks TLS only: the gateway checks its certificate against the internal CA.
     */
    private rumRoute(name: string, args: TrafficArgs, rum: NonNullable<TrafficArgs["rum"]>, gateway: GatewayRef): void {
        const { service } = rum;
        const host = hostFor(RUM_HOST, args.config.domain);
        const route = new k8s.apiextensions.CustomResource(
            `${name}-route-rum`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: "rum-intake", namespace: service.namespace },
                spec: {
                    parentRefs: [gatewayParent(gateway.name, args.namespace, "https")],
                    hostnames: [host],
                    // The RUM agent's intake and nothing else of APM Server.
                    rules: [
                        {
                            matches: [{ path: { type: "PathPrefix", value: "/intake/" } }],
                            backendRefs: [{ name: service.name, port: service.port }],
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [gateway.resource] },
        );
        // Anonymous and public: the gateway bounds the intake too (APM Server's own limit is per client IP,
        // which the client's X-Forwarded-For can vary).
        new k8s.apiextensions.CustomResource(
            `${name}-rum-rate-limit`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "BackendTrafficPolicy",
                metadata: { name: "rum-intake", namespace: service.namespace },
                spec: {
                    targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "rum-intake" }],
                    rateLimit: localRateLimit(args.config.rateLimitPerSecond),
                },
            },
            { parent: this, dependsOn: [route] },
        );
        this.backendTls(
            `${name}-rum-backend-tls`,
            "rum-intake",
            { namespace: service.namespace, service: service.name },
            serviceHost(service.name, service.namespace),
            [route],
        );
        this.urls.rum = `https://${host}`;
    }

    /** The internal CA as a ConfigMap of each namespace whose backends serve TLS (one per namespace). */
    private readonly backendCas: Map<string, k8s.core.v1.ConfigMap>;

    /** One CA ConfigMap per namespace of a backend serving TLS: the public services', the RUM intake's, the operator UIs'. */
    private backendCaConfigMaps(name: string, args: TrafficArgs): Map<string, k8s.core.v1.ConfigMap> {
        const rumNamespace = args.rum?.service.namespace;
        const namespaces = new Set([
            ...(rumNamespace ? [rumNamespace] : []),
            ...(args.services.some((s) => s.public) ? [args.appsNamespace] : []),
            ...args.uis.filter((u) => u.tlsHostname).map((u) => u.namespace),
        ]);
        return new Map(
            [...namespaces].map((namespace) => [
                namespace,
                new k8s.core.v1.ConfigMap(
                    // The RUM intake's came first, under this name.
                    namespace === rumNamespace ? `${name}-rum-ca` : `${name}-backend-ca-${namespace}`,
                    {
                        metadata: { name: "finbot-gateway-backend-ca", namespace },
                        data: { "ca.crt": args.pki.internalIssuer.caCertPem },
                    },
                    { parent: this },
                ),
            ]),
        );
    }

    /**
     * The gateway speaks TLS to a Service and verifies its certificate for `hostname` against the
     * internal CA (Gateway API BackendTLSPolicy, v1 in Envoy Gateway 1.9's bundled CRDs).
     */
    private backendTls(
        resourceName: string,
        policy: string,
        target: { namespace: string; service: string },
        hostname: string,
        dependsOn: pulumi.Resource[],
    ): void {
        const ca = this.backendCas.get(target.namespace);
        if (!ca) throw new Error(`no CA ConfigMap in ${target.namespace}: its backend must be listed in backendCaConfigMaps`);
        new k8s.apiextensions.CustomResource(
            resourceName,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "BackendTLSPolicy",
                metadata: { name: policy, namespace: target.namespace },
                spec: {
                    targetRefs: [{ group: "", kind: "Service", name: target.service }],
                    validation: { caCertificateRefs: [{ group: "", kind: "ConfigMap", name: ca.metadata.name }], hostname },
                },
            },
            { parent: this, dependsOn: [...dependsOn, ca] },
        );
    }

    /** Envoy Gateway's direct response (HTTPRouteFilter, v1.9): 403 from the gateway itself. */
    private forbiddenFilter(name: string, ui: UiRoute): { name: string; resource: pulumi.Resource } {
        const filterName = `${ui.name}-forbidden`;
        const resource = new k8s.apiextensions.CustomResource(
            `${name}-forbidden-${ui.name}`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "HTTPRouteFilter",
                metadata: { name: filterName, namespace: ui.namespace },
                spec: { directResponse: { statusCode: 403, contentType: "text/plain", body: { type: "Inline", inline: "forbidden\n" } } },
            },
            { parent: this },
        );
        return { name: filterName, resource };
    }

    /**
     * Operator UIs on their gateway: with single sign-on (OIDC, allowed groups only) for every UI,
     * or in staging basic auth in front of those without a login of their own (Prometheus, Alertmanager).
     */
    private operatorUiRoutes(
        name: string,
        args: TrafficArgs,
        gateway: GatewayRef,
        access: ReturnType<typeof operatorAccessOf>,
    ): pulumi.Output<string> | undefined {
        const { config, namespace } = args;
        const basicAuth = access.mode === "basic-auth";
        const uiPassword = basicAuth
            ? new random.RandomPassword(`${name}-ui-password`, { length: 24, special: false }, { parent: this })
            : undefined;
        const clientSecrets = new Map<string, pulumi.Resource>();
        const authSecrets = new Map<string, pulumi.Resource>();
        for (const ui of args.uis) {
            const host = hostFor(ui.name, config.domain);
            const forbidden = ui.forbiddenPaths?.length ? this.forbiddenFilter(name, ui) : undefined;
            const route = new k8s.apiextensions.CustomResource(
                `${name}-route-${ui.name}`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: ui.name, namespace: ui.namespace },
                    spec: {
                        parentRefs: [gatewayParent(gateway.name, namespace, "https")],
                        hostnames: [host],
                        rules: [
                            ...(forbidden
                                ? [
                                      {
                                          matches: (ui.forbiddenPaths ?? []).map((value) => ({ path: { type: "PathPrefix", value } })),
                                          filters: [
                                              {
                                                  type: "ExtensionRef",
                                                  extensionRef: {
                                                      group: "gateway.envoyproxy.io",
                                                      kind: "HTTPRouteFilter",
                                                      name: forbidden.name,
                                                  },
                                              },
                                          ],
                                      },
                                  ]
                                : []),
                            { backendRefs: [{ name: ui.service, port: ui.port }] },
                        ],
                    },
                },
                { parent: this, dependsOn: [gateway.resource, ...(forbidden ? [forbidden.resource] : [])] },
            );
            if (ui.tlsHostname)
                this.backendTls(
                    `${name}-backend-tls-${ui.name}`,
                    ui.name,
                    { namespace: ui.namespace, service: ui.service },
                    ui.tlsHostname,
                    [route],
                );
            if (access.mode === "oidc" && access.oidc) {
                this.singleSignOn(name, { ui, host, route, oidc: access.oidc, clientSecrets });
            } else if (uiPassword && !ui.ownLogin) {
                let secret = authSecrets.get(ui.namespace);
                if (!secret) {
                    const htpasswd = uiPassword.result.apply((pw) =>
                        htpasswdLine("finbot", createHash("sha1").update(pw).digest("base64")),
                    );
                    secret = new k8s.core.v1.Secret(
                        `${name}-ui-auth-${ui.namespace}`,
                        {
                            metadata: { name: "finbot-ui-basic-auth", namespace: ui.namespace },
                            type: "Opaque",
                            stringData: { ".htpasswd": htpasswd },
                        },
                        { parent: this },
                    );
                    authSecrets.set(ui.namespace, secret);
                }
                new k8s.apiextensions.CustomResource(
                    `${name}-auth-${ui.name}`,
                    {
                        apiVersion: "gateway.envoyproxy.io/v1alpha1",
                        kind: "SecurityPolicy",
                        metadata: { name: `${ui.name}-basic-auth`, namespace: ui.namespace },
                        spec: {
                            targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: ui.name }],
                            basicAuth: { users: { name: "finbot-ui-basic-auth" } },
                        },
                    },
                    { parent: this, dependsOn: [route, secret] },
                );
            }
            this.urls[ui.name] = `https://${host}`;
        }
        return uiPassword ? pulumi.secret(uiPassword.result) : undefined;
    }

    /**
     * A UI route behind single sign-on: the OIDC client secret in the UI's namespace (one per
     * namespace), and the SecurityPolicy signing people in (forwarding the ID token to a UI that uses it).
     */
    private singleSignOn(
        name: string,
        args: { ui: UiRoute; host: string; route: pulumi.Resource; oidc: OidcConfig; clientSecrets: Map<string, pulumi.Resource> },
    ): void {
        const { ui, oidc, clientSecrets } = args;
        let secret = clientSecrets.get(ui.namespace);
        if (!secret) {
            secret = new k8s.core.v1.Secret(
                `${name}-oidc-client-${ui.namespace}`,
                {
                    metadata: { name: CLIENT_SECRET, namespace: ui.namespace },
                    type: "Opaque",
                    stringData: { "client-secret": oidc.clientSecret },
                },
                { parent: this },
            );
            clientSecrets.set(ui.namespace, secret);
        }
        new k8s.apiextensions.CustomResource(
            `${name}-sso-${ui.name}`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "SecurityPolicy",
                metadata: { name: `${ui.name}-sso`, namespace: ui.namespace },
                spec: oidcSecurityPolicy({
                    route: ui.name,
                    host: args.host,
                    clientSecret: CLIENT_SECRET,
                    oidc,
                    forwardIdToken: ui.signsInWithIdToken,
                }),
            },
            { parent: this, dependsOn: [args.route, secret] },
        );
    }
}

/** The managed prefix list of CloudFront's origin-facing addresses (in the load balancer's region). */
function cloudFrontPrefixList(parent: pulumi.Resource): pulumi.Output<string> {
    return aws.ec2.getManagedPrefixListOutput({ name: "com.amazonaws.global.cloudfront.origin-facing" }, { parent }).id;
}

/**
 * A gateway's Service as an NLB (AWS Load Balancer Controller) targeting pod IPs: internet-facing
 * (admitting only a prefix list, when given) or internal.
 */
export function nlbAnnotations(args: { internal: boolean; prefixList?: pulumi.Input<string> }): Record<string, pulumi.Input<string>> {
    return {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": args.internal ? "internal" : "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        // Load balancer attributes, not the cross-zone annotation the controller deprecated in v2.3
        // (docs/guide/service/annotations.md: "use service.beta.kubernetes.io/aws-load-balancer-attributes instead").
        "service.beta.kubernetes.io/aws-load-balancer-attributes": "load_balancing.cross_zone.enabled=true",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "tcp",
        ...(args.prefixList ? { "service.beta.kubernetes.io/aws-load-balancer-security-group-prefix-lists": args.prefixList } : {}),
    };
}
