// The network flows of the traffic namespace and of the synthetic checks'. Pure.
import { CERT_MANAGER_METRICS, CERT_MANAGER_PODS } from "../pki";
import { FlowContext } from "../lib/flowContext";
import { TLS_FRONT_PORT } from "../lib/tlsFrontend";
import { DNS, Flow, INTERNET, NamespaceFlows, POD_IDENTITY_AGENT, podsExcept, sameNamespace, when } from "../lib/networkPolicy";
import { CHECKS_RECEIVER_PODS, CHECKS_RECEIVER_PORT } from "../monitoring/checksReceiver";
import { APM_PORT, APM_SERVER_PODS, KIBANA_PODS, KIBANA_PORT } from "../logging/labels";
import { EGRESS_GATEWAY, ENVOY_METRICS, listenerCallers } from "./egress";
import { PAGE_CHECK_LABELS } from "./pageChecks";
import { ENVOY_GATEWAY_CERTGEN, ENVOY_GATEWAY_CONTROLLER, OWNING_GATEWAY, PROXY_PORTS } from "./routes";

/** The gateways' proxies, Envoy Gateway and cert-manager. */
export function trafficFlows(ctx: FlowContext): NamespaceFlows[] {
    const { ns, production, operatorAccess, publicProxies, uiProxies, egressProxies } = ctx;
    const { egress, thirdPartyCallers, scraped, apiServer, webhooks } = ctx;
    const { trafficOn } = ctx.on;
    const traffic: NamespaceFlows = {
        namespace: ns.traffic,
        flows: [
            DNS,
            // The egress gateway's proxies admit their providers' callers only, not cert-manager or the other gateways.
            ...sameNamespace(ns.traffic, egress.length > 0 ? podsExcept({ [OWNING_GATEWAY]: EGRESS_GATEWAY }) : undefined),
            ...scraped(
                // The namespace exists only with the PKI (below), so cert-manager is always there.
                [CERT_MANAGER_METRICS, ...(egress.length > 0 ? [ENVOY_METRICS.port] : [])],
                "Prometheus scrapes cert-manager (certificate expiry) and the egress gateway's proxies (third-party calls).",
            ),
            // The controllers alone: the proxies (the egress gateway's included) never talk to the API server.
            ...when(
                trafficOn,
                { ...apiServer("Envoy Gateway watches its resources and programs the proxies."), pods: ENVOY_GATEWAY_CONTROLLER },
                {
                    ...apiServer("Envoy Gateway's certgen Job stores the control plane's certificates."),
                    name: "certgen-api-server",
                    pods: ENVOY_GATEWAY_CERTGEN,
                },
            ),
            { ...apiServer("cert-manager watches and issues certificates."), name: "cert-manager-api-server", pods: CERT_MANAGER_PODS },
            webhooks("cert-manager's and Envoy Gateway's webhooks.", [10250, 9443]),
            ...when(trafficOn, {
                name: "public-in",
                why: "Clients reach the proxies through the load balancer (in production only CloudFront, by security group).",
                direction: "ingress",
                pods: publicProxies,
                peers: [{ cidrs: ["0.0.0.0/0"] }],
                ports: [PROXY_PORTS.http, PROXY_PORTS.https],
            }),
            ...when(trafficOn && operatorAccess.internal, {
                name: "operators-in",
                why: "Operators reach the UIs' proxies through the internal load balancer.",
                direction: "ingress",
                pods: uiProxies,
                peers: [{ cidrs: ["0.0.0.0/0"] }],
                ports: [PROXY_PORTS.https],
            }),
            ...egress.map((route): Flow => {
                const callers = listenerCallers(route, thirdPartyCallers, ns);
                return {
                    name: `egress-${route.provider.name}-in`,
                    why: `Only ${callers.who} (its listener on the egress gateway).`,
                    direction: "ingress",
                    pods: egressProxies,
                    peers: callers.peers,
                    ports: [route.port],
                };
            }),
            ...when(egress.length > 0, {
                name: "egress-to-providers",
                why: "The egress gateway's proxies alone reach the third parties' hosts (HTTPS, verified).",
                direction: "egress",
                pods: egressProxies,
                peers: [INTERNET],
                ports: [...new Set(egress.map((r) => r.provider.port))],
            }),
            ...when(
                trafficOn,
                {
                    name: "to-backends",
                    why: "The public gateway's proxies forward to the services (their TLS fronts) and APM Server's RUM intake, over TLS.",
                    direction: "egress",
                    pods: publicProxies,
                    peers: [{ namespace: ns.apps }, { namespace: ns.logging, pods: APM_SERVER_PODS }],
                    ports: [TLS_FRONT_PORT, APM_PORT],
                },
                {
                    name: "to-operator-uis",
                    why: "The operator UIs' gateway forwards to Grafana, Prometheus and Alertmanager (their TLS fronts) and Kibana, over TLS.",
                    direction: "egress",
                    pods: uiProxies,
                    peers: [{ namespace: ns.monitoring }, { namespace: ns.logging, pods: KIBANA_PODS }],
                    ports: [TLS_FRONT_PORT, KIBANA_PORT],
                },
            ),
            ...when(trafficOn && operatorAccess.mode === "oidc", {
                name: "proxies-to-identity-provider",
                why: "The operator UIs' gateway exchanges OIDC codes and fetches signing keys from the identity provider (HTTPS).",
                direction: "egress",
                pods: uiProxies,
                peers: [INTERNET],
                ports: [443],
            }),
            {
                name: "cert-manager-out",
                why: "cert-manager talks to the ACME server and self-checks HTTP-01 challenges; in production Route 53 for DNS-01.",
                direction: "egress",
                pods: CERT_MANAGER_PODS,
                peers: [INTERNET],
                ports: [80, 443],
            },
            ...when(production, {
                name: "cert-manager-to-pod-identity",
                why: "EKS Pod Identity's agent hands cert-manager its Route 53 credentials.",
                direction: "egress",
                pods: CERT_MANAGER_PODS,
                peers: [POD_IDENTITY_AGENT],
                ports: [80],
            }),
        ],
    };

    // The namespace holds the PKI (cert-manager) whenever the gateway, the data tier or logging serves TLS.
    return ctx.on.pkiOn ? [traffic] : [];
}

/** The load tests and page checks: the gateway (or, in production, the CDN) and their receiver. */
export function checksFlows(ctx: FlowContext): NamespaceFlows[] {
    const { ns, production, publicProxies, receiver, scraped } = ctx;
    const { monitoringOn, trafficOn, checks, pageChecks } = ctx.on;
    // The synthetic clients: apart from FinBot's pods, since in production the page checks load the
    // public CDN (the internet) as a visitor would, and nothing else there may.
    const synthetic: NamespaceFlows = {
        namespace: ns.checks,
        flows: [
            DNS,
            ...scraped([CHECKS_RECEIVER_PORT], "The platform's Prometheus federates the checks' series from their receiver."),
            {
                name: "receiver-in",
                why: "Only the checks write into their receiver; the platform's Prometheus accepts no writes at all.",
                direction: "ingress",
                pods: CHECKS_RECEIVER_PODS,
                peers: [
                    ...(pageChecks ? [{ namespace: ns.checks, pods: PAGE_CHECK_LABELS }] : []),
                    ...(checks ? [{ namespace: ns.checks, pods: { "app.kubernetes.io/name": "k6" } }] : []),
                ],
                ports: [CHECKS_RECEIVER_PORT],
            },
            ...when(
                pageChecks,
                {
                    name: "page-checks-to-gateway",
                    why: "The synthetic browser checks load the pages through the gateway (staging) or the CDN (production, HTTPS).",
                    direction: "egress",
                    pods: PAGE_CHECK_LABELS,
                    peers: production ? [INTERNET] : [{ namespace: ns.traffic, pods: publicProxies }],
                    ports: production ? [443] : [PROXY_PORTS.http, PROXY_PORTS.https],
                },
                {
                    name: "page-checks-to-receiver",
                    why: "The browser checks write their Web Vitals into the checks' own Prometheus (remote write).",
                    direction: "egress",
                    pods: PAGE_CHECK_LABELS,
                    peers: [receiver],
                    ports: [CHECKS_RECEIVER_PORT],
                },
            ),
            ...when(
                checks && trafficOn && monitoringOn,
                {
                    name: "checks-to-gateway",
                    why: "Load tests and synthetic checks call the services through the gateway.",
                    direction: "egress",
                    pods: { "app.kubernetes.io/name": "k6" },
                    peers: [{ namespace: ns.traffic, pods: publicProxies }],
                    ports: [PROXY_PORTS.http, PROXY_PORTS.https],
                },
                {
                    name: "checks-to-receiver",
                    why: "Load tests write their metrics into the checks' own Prometheus (remote write).",
                    direction: "egress",
                    pods: { "app.kubernetes.io/name": "k6" },
                    peers: [receiver],
                    ports: [CHECKS_RECEIVER_PORT],
                },
            ),
        ],
    };

    return ctx.on.syntheticChecks ? [synthetic] : [];
}
