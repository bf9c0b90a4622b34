// The network flows of the monitoring namespace. Pure.
import { grafanaHasDatabase } from "../config/monitoring";
import { FlowContext } from "../lib/flowContext";
import { TLS_FRONT_PORT } from "../lib/tlsFrontend";
import {
    DNS,
    Flow,
    INTERNET,
    KUBE_DNS_PODS,
    NamespaceFlows,
    POD_IDENTITY_AGENT,
    podsExcept,
    sameNamespace,
    when,
    withinNamespace,
} from "../lib/networkPolicy";
import { POSTGRES } from "../data/ports";
import { IDENTITY_PROVIDER } from "../traffic/egress";
import { ELASTICSEARCH_HTTP_PORT, ELASTICSEARCH_PODS } from "../logging/labels";
import { ADAPTER_PODS, ALERTMANAGER_PODS, BLACKBOX_PODS, COREDNS_METRICS, GRAFANA_PODS, PROMETHEUS_PODS, UI_PORTS } from "./labels";

/** Prometheus, Alertmanager, Grafana, the blackbox exporter and OpenCost. */
export function monitoringFlows(ctx: FlowContext): NamespaceFlows[] {
    const { config, ns, vpc, uiProxies, apiServer, webhooks } = ctx;
    const { monitoringOn, loggingOn, trafficOn } = ctx.on;
    const identityKeys = ctx.egress.filter((route) => route.provider.name === IDENTITY_PROVIDER);
    const monitoring: NamespaceFlows = {
        namespace: ns.monitoring,
        flows: [
            DNS,
            // Grafana, a web app that can be made to fetch URLs, admits its gateway and Prometheus' scrape only,
            // and reaches only its data sources (not the blackbox exporter, which would fetch any URL for it).
            ...sameNamespace(ns.monitoring, podsExcept(GRAFANA_PODS), true),
            ...(["prometheus", "alertmanager"] as const).flatMap((source) =>
                withinNamespace({
                    namespace: ns.monitoring,
                    names: { ingress: `${source}-from-grafana`, egress: `grafana-to-${source}` },
                    why: `Grafana queries ${source === "prometheus" ? "Prometheus" : "Alertmanager"}, one of its data sources.`,
                    from: GRAFANA_PODS,
                    to: source === "prometheus" ? PROMETHEUS_PODS : ALERTMANAGER_PODS,
                    ports: [UI_PORTS[source]],
                }),
            ),
            ...scrapeFlows(ctx),
            apiServer("The Prometheus operator, Prometheus' service discovery, kube-state-metrics, Grafana's sidecars."),
            webhooks("The Prometheus operator's admission webhook.", [10250]),
            ...when(ctx.servicePorts.length > 0, {
                name: "probe-services",
                why: "The blackbox exporter probes the services' health endpoints.",
                direction: "egress",
                pods: BLACKBOX_PODS,
                peers: [{ namespace: ns.apps }],
                ports: ctx.servicePorts,
            }),
            ...when(grafanaHasDatabase(config.monitoring) && config.database.mode === "aurora" && vpc.length > 0, {
                name: "grafana-to-database",
                why: "Grafana keeps its users and sessions in its own database on Aurora, through RDS Proxy.",
                direction: "egress",
                pods: GRAFANA_PODS,
                peers: vpc,
                ports: [POSTGRES],
            }),
            {
                name: "alertmanager-out",
                why: "Alertmanager notifies PagerDuty, Slack and the dead man's switch (HTTPS).",
                direction: "egress",
                pods: ALERTMANAGER_PODS,
                peers: [INTERNET],
                ports: [443],
            },
            {
                name: "probes-out",
                why: "The blackbox exporter probes the public URLs (HTTPS).",
                direction: "egress",
                pods: BLACKBOX_PODS,
                peers: [INTERNET],
                ports: [443],
            },
            ...when(config.monitoring.cost, {
                name: "opencost-prices",
                why: "OpenCost reads the cloud's prices and instances (HTTPS).",
                direction: "egress",
                pods: { "app.kubernetes.io/name": "opencost" },
                peers: [INTERNET],
                ports: [443],
            }),
            ...when(config.monitoring.cost && config.cluster.mode !== "local", {
                name: "opencost-pod-identity",
                why: "EKS Pod Identity's agent hands OpenCost its read-only AWS credentials.",
                direction: "egress",
                pods: { "app.kubernetes.io/name": "opencost" },
                peers: [POD_IDENTITY_AGENT],
                ports: [80],
            }),
            ...when(trafficOn, {
                name: "from-gateway",
                why: "Operators reach Grafana, Prometheus and Alertmanager through the operator UIs' gateway, at their TLS fronts.",
                direction: "ingress",
                peers: [{ namespace: ns.traffic, pods: uiProxies }],
                ports: [TLS_FRONT_PORT],
            }),
            {
                name: "from-prometheus-adapter",
                why: "prometheus-adapter queries Prometheus for the HPAs' request rates (KEDA reads RabbitMQ, not Prometheus).",
                direction: "ingress",
                pods: PROMETHEUS_PODS,
                peers: [{ namespace: ns.autoscaling, pods: ADAPTER_PODS }],
                ports: [UI_PORTS.prometheus],
            },
            ...identityKeys.map((route): Flow => ({
                name: "grafana-to-identity-keys",
                why: "Grafana fetches the identity provider's signing keys (to verify the ID tokens the gateway forwards) through the egress gateway.",
                direction: "egress",
                pods: GRAFANA_PODS,
                peers: [{ namespace: ns.traffic, pods: ctx.egressProxies }],
                ports: [route.port],
            })),
            ...when(loggingOn, {
                name: "to-elasticsearch",
                why: "Grafana reads page-load and log data from Elasticsearch.",
                direction: "egress",
                pods: GRAFANA_PODS,
                peers: [{ namespace: ns.logging, pods: ELASTICSEARCH_PODS }],
                ports: [ELASTICSEARCH_HTTP_PORT],
            }),
        ],
    };

    return monitoringOn ? [monitoring] : [];
}

/**
 * What Prometheus scrapes besides the namespaces that admit it (the platform mirrors those): CoreDNS,
 * the nodes, and Grafana (which admits nothing else of its namespace).
 */
function scrapeFlows(ctx: FlowContext): Flow[] {
    const { config, ns, api } = ctx;
    return [
        ...withinNamespace({
            namespace: ns.monitoring,
            names: { ingress: "grafana-scraped", egress: "scrape-grafana" },
            why: "Prometheus scrapes Grafana's own metrics (kube-prometheus-stack's Grafana ServiceMonitor), through its TLS front behind the gateway.",
            from: PROMETHEUS_PODS,
            to: GRAFANA_PODS,
            ports: [ctx.on.trafficOn ? TLS_FRONT_PORT : UI_PORTS.grafana],
        }),
        {
            name: "scrape-kube-dns",
            why: "Prometheus scrapes CoreDNS (kube-prometheus-stack's coreDns ServiceMonitor, port 9153).",
            direction: "egress",
            pods: PROMETHEUS_PODS,
            peers: [{ namespace: "kube-system", pods: KUBE_DNS_PODS }],
            ports: [COREDNS_METRICS],
        },
        {
            name: "scrape-nodes",
            why: config.monitoring.managedControlPlane
                ? "Prometheus scrapes the kubelets (cAdvisor) and node-exporter on the nodes."
                : "Prometheus scrapes the kubelets (cAdvisor), node-exporter, etcd, the scheduler, the controller manager and kube-proxy on the nodes.",
            direction: "egress",
            pods: PROMETHEUS_PODS,
            peers: [api],
            // etcd 2381, kube-scheduler 10259, kube-controller-manager 10257, kube-proxy 10249 (kubeadm's metrics ports).
            ports: config.monitoring.managedControlPlane ? [10250, 9100] : [10250, 9100, 2381, 10259, 10257, 10249],
        },
    ];
}
