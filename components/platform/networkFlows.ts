// Every network flow the platform allows, per namespace; everything else is denied (see
// lib/networkPolicy.ts). Each area writes the flows of its namespaces (components/<area>/flows.ts)
// against one context built here; the cluster gets exactly this table, and docs/network.md is
// generated from it. Pure.
import { stackDefaults } from "../config/resolve";
import { PlatformConfig } from "../config/schema";
import { QUEUE_OPERATORS_NAMESPACE } from "../data/queue";
import { FlowContext, apiServerCidrs, privateNetworkCidrs } from "../lib/flowContext";
import { Flow, NamespaceFlows, Peer } from "../lib/networkPolicy";
import { CHECKS_RECEIVER_PODS } from "../monitoring/checksReceiver";
import { BLACKBOX_PODS, PROMETHEUS_PODS } from "../monitoring/labels";
import { EGRESS_GATEWAY, stackEgressRoutes, thirdPartyCallers } from "../traffic/egress";
import { measuredPages, syntheticChecks } from "../traffic/pages";
import { GATEWAY, INTERNAL_GATEWAY, proxiesOf } from "../traffic/routes";
import { AREAS } from "./areas";

/** What every area's flows are written against: the namespaces, the API server, the parts that are on, shared peers. */
export function flowContext(config: PlatformConfig): FlowContext {
    const ns = config.namespaces;
    const api: Peer = { cidrs: apiServerCidrs(config) };
    const privateNetwork = privateNetworkCidrs(config);
    const vpc: Peer[] = privateNetwork.length > 0 ? [{ cidrs: privateNetwork }] : [];
    const { production, operatorAccess, nodeAutoscaler, pki, dataTier } = stackDefaults(config);
    const monitoringOn = config.monitoring.enabled;
    const loggingOn = config.logging.enabled;
    const trafficOn = config.traffic.enabled;
    const egress = trafficOn ? stackEgressRoutes(config, operatorAccess) : [];
    // Of the monitoring namespace's pods, Prometheus scrapes, the blackbox exporter probes and Grafana
    // reads its data sources: each reaches into other namespaces only for that.
    const prometheus: Peer = { namespace: ns.monitoring, pods: PROMETHEUS_PODS };
    return {
        config,
        ns,
        api,
        vpc,
        production,
        operatorAccess,
        on: {
            dataOn: dataTier,
            managedStores: production && vpc.length > 0 && (config.database.mode === "aurora" || config.cache.mode === "elasticache"),
            monitoringOn,
            loggingOn,
            apmOn: loggingOn && config.logging.apm.enabled,
            trafficOn,
            checks: config.traffic.loadTest.enabled,
            pageChecks: monitoringOn && measuredPages(config).length > 0,
            karpenterOn: nodeAutoscaler === "karpenter",
            syntheticChecks: syntheticChecks(config),
            pkiOn: pki,
        },
        // Each gateway reaches only what it routes: the public one the services and the RUM intake, the
        // operator UIs' gateway (the internal one where they are private) the UIs.
        publicProxies: proxiesOf(GATEWAY),
        uiProxies: proxiesOf(operatorAccess.internal ? INTERNAL_GATEWAY : GATEWAY),
        egressProxies: proxiesOf(EGRESS_GATEWAY),
        prometheus,
        blackbox: { namespace: ns.monitoring, pods: BLACKBOX_PODS },
        receiver: { namespace: ns.checks, pods: CHECKS_RECEIVER_PODS },
        servicePorts: [...new Set(config.services.map((s) => s.port))],
        egress,
        thirdPartyCallers: thirdPartyCallers(config, egress),
        scraped: (ports, why) =>
            monitoringOn && ports.length > 0 ? [{ name: SCRAPED, why, direction: "ingress", peers: [prometheus], ports }] : [],
        apiServer: (why) => ({ name: "api-server", why, direction: "egress", peers: [api], ports: [443, 6443] }),
        webhooks: (why, ports) => ({ name: "from-api-server", why, direction: "ingress", peers: [api], ports }),
    };
}

/**
 * The allowed flows of every namespace the platform creates (and of `rabbitmq-system`, which the
 * RabbitMQ operators' manifest creates), each area's in turn. Within a namespace pods reach each
 * other where its area says so; across namespaces, to the API server and out of the cluster only
 * what is listed.
 */
export function platformFlows(config: PlatformConfig): NamespaceFlows[] {
    const ns = config.namespaces;
    const context = flowContext(config);
    // The table's order: FinBot's namespace first, then the tiers it uses, then the platform's own.
    const order = [
        ns.apps,
        ns.data,
        QUEUE_OPERATORS_NAMESPACE,
        ns.monitoring,
        ns.logging,
        ns.traffic,
        ns.autoscaling,
        ns.nodeAgents,
        ns.checks,
    ];
    const flows = AREAS.flatMap((area) => area.flows(context));
    return withScrapes(flows, ns.monitoring).sort((a, b) => order.indexOf(a.namespace) - order.indexOf(b.namespace));
}

/** The flow by which a namespace admits Prometheus' scrapes, on the ports its monitors name. */
const SCRAPED = "from-prometheus";

/**
 * Prometheus' way out mirrors what each namespace admits from it: to each scraped namespace, on
 * the ports that namespace's monitors name, and nowhere else.
 */
function withScrapes(flows: NamespaceFlows[], monitoringNamespace: string): NamespaceFlows[] {
    const scrapes: Flow[] = flows.flatMap(({ namespace, flows }) =>
        flows
            .filter((f) => f.name === SCRAPED)
            .map((f) => ({
                name: `scrape-${namespace}`,
                why: f.why,
                direction: "egress" as const,
                pods: PROMETHEUS_PODS,
                peers: [{ namespace }],
                ports: f.ports,
            })),
    );
    return flows.map((n) => (n.namespace === monitoringNamespace ? { ...n, flows: [...n.flows, ...scrapes] } : n));
}
