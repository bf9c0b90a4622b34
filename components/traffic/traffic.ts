import { createHash } from "node:crypto";
import { containerResources } from "../config/primitives";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Footprint } from "../lib/footprint";
import { TrafficControllers } from "./controllers";
import { PlatformConfig, ServiceConfig } from "../config/schema";
import { TrafficConfig } from "../config/traffic";
import { Cdn } from "./cdn";
import { GATEWAY, GATEWAY_TLS_SECRET, UiRoute, hostFor, htpasswdLine, httpsParent, serviceRouteRules } from "./routes";

export interface TrafficArgs {
    /** The validated `finbot:traffic`. */
    config: TrafficConfig;
    /** Production: internet-facing NLB, strict zone spread, ACME certificates. */
    production: boolean;
    /** Namespace of the gateway and cert-manager. */
    namespace: string;
    /** Namespace of FinBot's services (their routes live there). */
    appsNamespace: string;
    /** Public services get a route each. */
    services: ServiceConfig[];
    /** Operator UIs to route (Grafana, Prometheus, Alertmanager, Kibana), when their areas are on. */
    uis: UiRoute[];
    /** Envoy Gateway and cert-manager, installed before anything asks for a route or a certificate. */
    controllers: TrafficControllers;
    /**
     * AWS network (production).
     * @default none
     */
    network?: PlatformConfig["network"];
}

const ROUTE_LABELS = { "app.kubernetes.io/part-of": "finbot" };

/**
 * Public traffic: Envoy Gateway (Gateway API) behind the cloud load balancer (an internet-facing
 * NLB in production), TLS from cert-manager (ACME in production, self-signed in staging),
 * HTTPRoutes with timeouts, retries and rate limits for each public service (weighted for
 * canaries, header-matched for A/B cohorts) and for the operator UIs, and the CDN in production.
 */
export class Traffic extends pulumi.ComponentResource {
    /** https://<name>.<domain> of every route. */
    public readonly urls: Record<string, string> = {};
    /** Password of the `finbot` user guarding Prometheus and Alertmanager (secret). */
    public readonly uiPassword: pulumi.Output<string>;
    public readonly cdnDomain?: pulumi.Output<string>;
    /** What it runs in the cluster and on AWS. */
    public readonly footprint: Footprint;
    /** The operator UIs it routes. */
    public readonly uis: UiRoute[];

    constructor(name: string, args: TrafficArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:Traffic", name, {}, opts);
        const { config } = args;
        this.uis = args.uis;
        this.footprint = {
            requests: [{ part: "Envoy proxies", pods: config.gateway.replicas, ...config.gateway.resources.requests }],
            managed: [
                ...(args.production ? [{ kind: "nlb" as const }] : []),
                ...(config.cdn.enabled ? [{ kind: "cloudfront" as const }] : []),
            ],
        };
        const { envoyGateway, certManager } = args.controllers;
        const hosts = [...args.services.filter((s) => s.public).map((s) => s.name), ...args.uis.map((u) => u.name)].map((n) =>
            hostFor(n, config.domain),
        );
        const gateway = this.gateway(name, args, envoyGateway, certManager, hosts);
        const afterGateway = { parent: this, dependsOn: [gateway] };
        this.serviceRoutes(name, args, afterGateway);
        this.uiPassword = this.operatorUiRoutes(name, args, afterGateway);
        if (config.cdn.enabled) {
            const publicService = args.services.find((s) => s.public);
            const cdn = new Cdn(
                `${name}-cdn`,
                {
                    environment: args.production ? "production" : "staging",
                    staticPaths: config.cdn.staticPaths,
                    priceClass: config.cdn.priceClass,
                    originHost: hostFor(publicService?.name ?? "api", config.domain),
                },
                { parent: this },
            );
            this.cdnDomain = cdn.domainName;
        }
        this.registerOutputs({ urls: this.urls, uiPassword: this.uiPassword, cdnDomain: this.cdnDomain });
    }

    /** The proxy fleet behind the load balancer, TLS for every host, and the Gateway with its HTTP → HTTPS redirect. */
    private gateway(
        name: string,
        args: TrafficArgs,
        envoyGateway: pulumi.Resource,
        certManager: pulumi.Resource,
        hosts: string[],
    ): pulumi.Resource {
        const { config, namespace } = args;
        const afterGateway = { parent: this, dependsOn: [envoyGateway] };
        // The proxy fleet and its Service: the cloud load balancer.
        const proxy = new k8s.apiextensions.CustomResource(
            `${name}-proxy`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "EnvoyProxy",
                metadata: { name: "finbot-proxy", namespace },
                spec: {
                    provider: {
                        type: "Kubernetes",
                        kubernetes: {
                            envoyDeployment: {
                                replicas: config.gateway.replicas,
                                container: { resources: containerResources(config.gateway.resources) },
                                pod: {
                                    topologySpreadConstraints: [
                                        {
                                            maxSkew: 1,
                                            topologyKey: "topology.kubernetes.io/zone",
                                            whenUnsatisfiable: args.production ? "DoNotSchedule" : "ScheduleAnyway",
                                            labelSelector: { matchLabels: { "gateway.envoyproxy.io/owning-gateway-name": GATEWAY } },
                                        },
                                    ],
                                },
                            },
                            envoyService: {
                                type: "LoadBalancer",
                                // Keep client source IPs (rate limits, logs) and skip a hop.
                                externalTrafficPolicy: "Local",
                                annotations: args.production ? nlbAnnotations() : {},
                            },
                        },
                    },
                },
            },
            afterGateway,
        );
        new k8s.apiextensions.CustomResource(
            `${name}-class`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "GatewayClass",
                metadata: { name: GATEWAY },
                spec: {
                    controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
                    parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: "finbot-proxy", namespace },
                },
            },
            { parent: this, dependsOn: [envoyGateway, proxy] },
        );

        const issuerKind = config.tls.issuer ?? (args.production ? "acme" : "self-signed");
        const issuerName = `finbot-${issuerKind}`;
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
                                      { http01: { gatewayHTTPRoute: { parentRefs: [{ name: GATEWAY, namespace, kind: "Gateway" }] } } },
                                  ],
                              },
                          }
                        : { selfSigned: {} },
            },
            { parent: this, dependsOn: [certManager] },
        );
        const certificate = new k8s.apiextensions.CustomResource(
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

        const allowedRoutes = { namespaces: { from: "Selector", selector: { matchLabels: ROUTE_LABELS } } };
        const gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: { name: GATEWAY, namespace },
                spec: {
                    gatewayClassName: GATEWAY,
                    listeners: [
                        { name: "http", protocol: "HTTP", port: 80, allowedRoutes },
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
            { parent: this, dependsOn: [envoyGateway, certificate] },
        );
        const afterRoutesCan = { parent: this, dependsOn: [gateway] };

        // Plain HTTP only redirects to HTTPS (cert-manager's ACME challenge routes are more specific).
        new k8s.apiextensions.CustomResource(
            `${name}-https-redirect`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: "https-redirect", namespace },
                spec: {
                    parentRefs: [{ ...httpsParent(namespace), sectionName: "http" }],
                    hostnames: hosts,
                    rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
                },
            },
            afterRoutesCan,
        );

        return gateway;
    }

    /** A route per public service: timeout, retries of attempts that never reached a backend, rate limit. */
    private serviceRoutes(name: string, args: TrafficArgs, afterRoutesCan: pulumi.CustomResourceOptions): void {
        const { config, namespace } = args;
        for (const service of args.services.filter((s) => s.public)) {
            const route = new k8s.apiextensions.CustomResource(
                `${name}-route-${service.name}`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: service.name, namespace: args.appsNamespace },
                    spec: {
                        parentRefs: [httpsParent(namespace)],
                        hostnames: [hostFor(service.name, config.domain)],
                        rules: serviceRouteRules(service, config.requestTimeout),
                    },
                },
                afterRoutesCan,
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
                        rateLimit: {
                            type: "Local",
                            local: { rules: [{ limit: { requests: config.rateLimitPerSecond, unit: "Second" } }] },
                        },
                    },
                },
                { parent: this, dependsOn: [route] },
            );
            this.urls[service.name] = `https://${hostFor(service.name, config.domain)}`;
        }
    }

    /** Operator UIs: Grafana and Kibana have their own login; Prometheus and Alertmanager get basic auth. */
    private operatorUiRoutes(name: string, args: TrafficArgs, afterRoutesCan: pulumi.CustomResourceOptions): pulumi.Output<string> {
        const { config, namespace } = args;
        const uiPassword = new random.RandomPassword(`${name}-ui-password`, { length: 24, special: false }, { parent: this });
        const htpasswd = uiPassword.result.apply((pw) => htpasswdLine("finbot", createHash("sha1").update(pw).digest("base64")));
        const authSecrets = new Map<string, k8s.core.v1.Secret>();
        for (const ui of args.uis) {
            const route = new k8s.apiextensions.CustomResource(
                `${name}-route-${ui.name}`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: ui.name, namespace: ui.namespace },
                    spec: {
                        parentRefs: [httpsParent(namespace)],
                        hostnames: [hostFor(ui.name, config.domain)],
                        rules: [{ backendRefs: [{ name: ui.service, port: ui.port }] }],
                    },
                },
                afterRoutesCan,
            );
            if (ui.basicAuth) {
                let secret = authSecrets.get(ui.namespace);
                if (!secret) {
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
            this.urls[ui.name] = `https://${hostFor(ui.name, config.domain)}`;
        }
        return pulumi.secret(uiPassword.result);
    }
}

/** The gateway's Service becomes an internet-facing NLB (AWS Load Balancer Controller), targeting pod IPs. */
export function nlbAnnotations(): Record<string, string> {
    return {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "tcp",
    };
}
