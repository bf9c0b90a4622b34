// Hostnames and route specs of the gateway. Pure.
import { ServiceConfig } from "../config/schema";

export const GATEWAY = "finbot";
export const GATEWAY_TLS_SECRET = "finbot-gateway-tls";

export const hostFor = (name: string, domain: string) => `${name}.${domain}`;

/** The operator UIs routed through the gateway: name, namespace, service, port, needs basic auth. */
export interface UiRoute {
    name: string;
    namespace: string;
    service: string;
    port: number;
    /** Prometheus and Alertmanager have no login of their own. */
    basicAuth: boolean;
}

/** parentRef to the gateway's HTTPS listener. */
export function httpsParent(trafficNamespace: string) {
    return { group: "gateway.networking.k8s.io", kind: "Gateway", name: GATEWAY, namespace: trafficNamespace, sectionName: "https" };
}

/** Route rules of a service: a header-matched rule for A/B cohorts, then the weighted split. */
export function serviceRouteRules(service: ServiceConfig, requestTimeout: string): Array<Record<string, unknown>> {
    const stable = { name: service.name, port: service.port };
    const timeouts = { request: requestTimeout };
    const canary = service.canary;
    if (!canary) return [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ ...stable, weight: 100 }], timeouts }];
    const second = { name: `${service.name}-canary`, port: service.port };
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
