// Hostnames and route specs of the gateway. Pure.
import { containerResources } from "../config/primitives";
import { ServiceConfig } from "../config/schema";
import { PLATFORM_CRITICAL } from "../lib/priority";

import { OidcConfig } from "../config/traffic";

/** The public gateway (services; operator UIs where they are not internal). */
export const GATEWAY = "finbot";
/** The gateway of the operator UIs on an internal load balancer (production). */
export const INTERNAL_GATEWAY = "finbot-internal";
export const GATEWAY_TLS_SECRET = "finbot-gateway-tls";

export const hostFor = (name: string, domain: string) => `${name}.${domain}`;
/** The service behind the CDN's default behaviour (everything not static nor RUM): the first public one. */
export const cdnOriginService = (services: Array<Pick<ServiceConfig, "name" | "public">>) => services.find((s) => s.public)?.name ?? "api";
/** The host browsers send RUM data to: `rum.<domain>`. */
export const RUM_HOST = "rum";
/** The Service of a gateway's proxies (EnvoyProxy \`envoyService.name\`). */
export const gatewayServiceName = (gateway: string) => `envoy-${gateway}`;

/**
 * An EnvoyProxy's Kubernetes provider: the proxies of `gateway` spread over zones (strictly in
 * production), under a disruption budget when there are several, behind `service`.
 */
export function envoyProxyProvider(args: {
    gateway: string;
    replicas: number;
    resources: ReturnType<typeof containerResources>;
    production: boolean;
    service: Record<string, unknown>;
}): Record<string, unknown> {
    return {
        type: "Kubernetes",
        kubernetes: {
            envoyDeployment: {
                replicas: args.replicas,
                container: { resources: args.resources },
                pod: {
                    priorityClassName: PLATFORM_CRITICAL,
                    topologySpreadConstraints: [
                        {
                            maxSkew: 1,
                            topologyKey: "topology.kubernetes.io/zone",
                            whenUnsatisfiable: args.production ? "DoNotSchedule" : "ScheduleAnyway",
                            labelSelector: { matchLabels: { [OWNING_GATEWAY]: args.gateway } },
                        },
                    ],
                },
            },
            envoyPDB: args.replicas > 1 ? { maxUnavailable: 1 } : undefined,
            envoyService: args.service,
        },
    };
}

/** Every Envoy proxy pod Envoy Gateway runs. */
const ENVOY_PROXIES = { "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway" };
/**
 * The ports the proxies listen on for the gateways' HTTP (80) and HTTPS (443) listeners: Envoy
 * Gateway v1.9 shifts a listener's port below 1024 by 10000 (internal/gatewayapi/listener.go).
 */
export const PROXY_PORTS = { http: 10080, https: 10443 };
/** The label Envoy Gateway gives each proxy pod: the Gateway it serves (v1.9: `OwningGatewayNameLabel`). */
export const OWNING_GATEWAY = "gateway.envoyproxy.io/owning-gateway-name";
/** The proxies of one gateway. */
export const proxiesOf = (gateway: string) => ({ ...ENVOY_PROXIES, [OWNING_GATEWAY]: gateway });
/** Envoy Gateway's controller and its certgen Job (gateway-helm v1.9 templates: envoy-gateway-deployment.yaml, certgen.yaml). */
export const ENVOY_GATEWAY_CONTROLLER = { "control-plane": "envoy-gateway" };
export const ENVOY_GATEWAY_CERTGEN = { app: "certgen" };

/** The operator UIs routed through the gateway: name, namespace, service, port, needs basic auth. */
export interface UiRoute {
    name: string;
    namespace: string;
    service: string;
    port: number;
    /** Grafana and Kibana have a login of their own; Prometheus and Alertmanager do not. */
    ownLogin: boolean;
    /**
     * Path prefixes the gateway answers 403 itself, never reaching the UI (Prometheus's remote-write
     * endpoint: a signed-in person could otherwise write series).
     * @default none
     */
    forbiddenPaths?: string[];
    /**
     * With single sign-on, the gateway forwards the person's ID token to the UI (ID_TOKEN_HEADER),
     * which verifies it and signs them in (Grafana).
     * @default not forwarded
     */
    signsInWithIdToken?: boolean;
    /**
     * The UI serves TLS with a certificate of the internal CA: the gateway verifies it (BackendTLSPolicy) for this host name.
     * @default plain HTTP
     */
    tlsHostname?: string;
}

/** parentRef to a listener of a gateway. */
export function gatewayParent(gateway: string, trafficNamespace: string, listener: "http" | "https") {
    return { group: "gateway.networking.k8s.io", kind: "Gateway", name: gateway, namespace: trafficNamespace, sectionName: listener };
}

/** The ID token cookie the OIDC filter sets and the JWT filter reads the groups from. */
export const ID_TOKEN_COOKIE = "finbot-id-token";
/**
 * The request header the gateway forwards the signed-in person's ID token on, to a UI that signs
 * people in with it (Grafana). Envoy owns it: one sent by a client is removed (Envoy Gateway v1.9
 * `oidc.forwardIDToken`, Envoy 1.39's oauth2 `forward_id_token`).
 */
export const ID_TOKEN_HEADER = "x-finbot-id-token";

/**
 * Single sign-on for a UI route: OIDC login at the gateway, the ID token validated again against
 * the provider's keys, and only members of the allowed groups let through (default deny).
 */
export function oidcSecurityPolicy(args: {
    route: string;
    host: string;
    clientSecret: string;
    oidc: OidcConfig;
    /** Forward the ID token to the UI on ID_TOKEN_HEADER (it signs people in with it). */
    forwardIdToken?: boolean;
}): Record<string, unknown> {
    const { oidc } = args;
    return {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: args.route }],
        oidc: {
            provider: { issuer: oidc.issuer },
            clientID: oidc.clientId,
            clientSecret: { name: args.clientSecret },
            redirectURL: `https://${args.host}/oauth2/callback`,
            logoutPath: "/oauth2/logout",
            scopes: oidc.scopes,
            cookieNames: { idToken: ID_TOKEN_COOKIE, accessToken: "finbot-access-token" },
            cookieConfig: { sameSite: "Lax" },
            refreshToken: true,
            ...(args.forwardIdToken ? { forwardIDToken: { header: ID_TOKEN_HEADER } } : {}),
        },
        jwt: {
            providers: [
                {
                    name: "sso",
                    issuer: oidc.issuer,
                    audiences: [oidc.clientId],
                    remoteJWKS: { uri: oidc.jwksUri },
                    extractFrom: { cookies: [ID_TOKEN_COOKIE] },
                },
            ],
        },
        authorization: {
            defaultAction: "Deny",
            rules: [
                {
                    name: "allowed-groups",
                    action: "Allow",
                    principal: {
                        jwt: {
                            provider: "sso",
                            claims: [{ name: oidc.groupsClaim, valueType: "StringArray", values: oidc.allowedGroups }],
                        },
                    },
                },
            ],
        },
    };
}

/** Route rules of a service (to its Services' `port`): a header-matched rule for A/B cohorts, then the weighted split. */
export function serviceRouteRules(service: ServiceConfig, requestTimeout: string, port: number): Array<Record<string, unknown>> {
    const stable = { name: service.name, port };
    const timeouts = { request: requestTimeout };
    const canary = service.canary;
    if (!canary) return [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ ...stable, weight: 100 }], timeouts }];
    const second = { name: `${service.name}-canary`, port };
    return [
        ...(canary.header
            ? [
                  {
                      matches: [
                          {
                              path: { type: "PathPrefix", value: "/" },
                              headers: [{ type: "Exact", name: canary.header.name, value: canary.header.value }],
                          },
                      ],
                      backendRefs: [{ ...second, weight: 100 }],
                      timeouts,
                  },
              ]
            : []),
        {
            matches: [{ path: { type: "PathPrefix", value: "/" } }],
            backendRefs: [
                { ...stable, weight: 100 - canary.weight },
                { ...second, weight: canary.weight },
            ],
            timeouts,
        },
    ];
}

/** `user:{SHA}base64(sha1(password))`, the htpasswd form Envoy Gateway's basic auth reads. */
export function htpasswdLine(user: string, sha1Base64: string): string {
    return `${user}:{SHA}${sha1Base64}`;
}
