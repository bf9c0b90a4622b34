// The network flows of FinBot's namespace and of the autoscaling namespace. Pure.
import { TLS_FRONT_PORT } from "../lib/tlsFrontend";
import { FlowContext } from "../lib/flowContext";
import { DNS, Flow, INTERNET, NamespaceFlows, POD_IDENTITY_AGENT, sameNamespace, when } from "../lib/networkPolicy";
import { KARPENTER_METRICS, KARPENTER_PODS } from "../cluster/karpenter";
import { AMQPS, POSTGRES, REDIS } from "../data/ports";
import { APM_PORT, APM_SERVER_PODS } from "../logging/labels";
import { ADAPTER_PODS, UI_PORTS } from "../monitoring/labels";

/** FinBot's services and workers: their stores, APM, their third parties through the egress gateway; nothing else out. */
export function appsFlows(ctx: FlowContext): NamespaceFlows[] {
    const { config, ns, vpc, publicProxies, egressProxies } = ctx;
    const { blackbox, servicePorts, thirdPartyCallers, scraped } = ctx;
    const { dataOn, managedStores, monitoringOn, apmOn, trafficOn } = ctx.on;
    const apps: NamespaceFlows = {
        namespace: ns.apps,
        flows: [
            DNS,
            ...scraped(servicePorts, "Prometheus scrapes the services' metrics (their ServiceMonitors name the service port)."),
            ...when(monitoringOn && servicePorts.length > 0, {
                name: "from-blackbox-exporter",
                why: "The blackbox exporter probes the services' health endpoints (uptime).",
                direction: "ingress",
                peers: [blackbox],
                ports: servicePorts,
            }),
            ...when(trafficOn, {
                name: "from-gateway",
                why: "The public gateway's proxies forward requests to the services, at their TLS fronts.",
                direction: "ingress",
                peers: [{ namespace: ns.traffic, pods: publicProxies }],
                ports: [TLS_FRONT_PORT],
            }),
            ...when(dataOn, {
                name: "to-data-stores",
                why: "Services and workers use PostgreSQL (pooler), Redis and RabbitMQ (AMQPS).",
                direction: "egress",
                peers: [{ namespace: ns.data }],
                ports: [POSTGRES, REDIS, AMQPS],
            }),
            ...when(managedStores, {
                name: "to-managed-stores",
                why: "Aurora through RDS Proxy and ElastiCache, in the VPC.",
                direction: "egress",
                peers: vpc,
                ports: [POSTGRES, REDIS],
            }),
            ...when(apmOn, {
                name: "to-apm",
                why: "Traces and errors to APM Server (TLS).",
                direction: "egress",
                peers: [{ namespace: ns.logging, pods: APM_SERVER_PODS }],
                ports: [APM_PORT],
            }),
            // Third parties only through the egress gateway, each caller only to its providers' listeners.
            ...thirdPartyCallers.map(({ pods, routes }): Flow => ({
                name: `${pods}-to-providers`,
                why: `${pods} calls ${routes.map((r) => r.provider.name).join(", ")} through the metered egress gateway (finbot:thirdParties).`,
                direction: "egress",
                pods: { "app.kubernetes.io/name": pods },
                peers: [{ namespace: ns.traffic, pods: egressProxies }],
                ports: routes.map((r) => r.port),
            })),
            ...config.services
                .filter((s) => s.egress.length > 0)
                .map((s): Flow => ({
                    name: `${s.name}-egress`,
                    why: `${s.name}'s declared destinations (finbot:services[].egress).`,
                    direction: "egress",
                    pods: { "app.kubernetes.io/name": s.name },
                    peers: s.egress.map((e) => ({ cidrs: [e.cidr] })),
                    ports: [...new Set(s.egress.flatMap((e) => e.ports))],
                })),
        ],
    };

    return [apps];
}

/** metrics-server, prometheus-adapter, KEDA and Karpenter. */
export function autoscalingFlows(ctx: FlowContext): NamespaceFlows[] {
    const { config, ns, api } = ctx;
    const { prometheus, scraped, apiServer, webhooks } = ctx;
    const { monitoringOn, karpenterOn } = ctx.on;
    const autoscaling: NamespaceFlows = {
        namespace: ns.autoscaling,
        flows: [
            DNS,
            ...sameNamespace(ns.autoscaling),
            ...scraped(karpenterOn ? [KARPENTER_METRICS] : [], "Prometheus scrapes Karpenter's controller."),
            apiServer("metrics-server, prometheus-adapter and KEDA serve and watch the API."),
            webhooks(
                "The API server calls the metrics APIs (metrics-server, prometheus-adapter, KEDA) and KEDA's webhooks.",
                [10250, 6443, 9443],
            ),
            {
                name: "to-kubelets",
                why: "metrics-server reads the kubelets' resource metrics.",
                direction: "egress",
                peers: [api],
                ports: [10250],
            },
            ...when(monitoringOn, {
                name: "to-prometheus",
                why: "prometheus-adapter queries Prometheus.",
                direction: "egress",
                pods: ADAPTER_PODS,
                peers: [prometheus],
                ports: [UI_PORTS.prometheus],
            }),
            ...when(
                karpenterOn,
                {
                    name: "karpenter-to-aws",
                    why: "Karpenter calls the EC2, SQS, SSM, pricing and EKS APIs (HTTPS) to launch and retire nodes.",
                    direction: "egress",
                    pods: KARPENTER_PODS,
                    peers: [INTERNET],
                    ports: [443],
                },
                {
                    name: "karpenter-pod-identity",
                    why: "EKS Pod Identity's agent hands Karpenter its credentials.",
                    direction: "egress",
                    pods: KARPENTER_PODS,
                    peers: [POD_IDENTITY_AGENT],
                    ports: [80],
                },
            ),
            ...when(config.workers.length > 0, {
                name: "to-rabbitmq",
                why: "KEDA reads queue lengths (AMQPS).",
                direction: "egress",
                peers: [{ namespace: ns.data }],
                ports: [AMQPS],
            }),
        ],
    };

    return [autoscaling];
}
