// The network flows of the logging namespace and of the node agents' (Filebeat, node-exporter). Pure.
import { FlowContext } from "../lib/flowContext";
import { DNS, INTERNET, NamespaceFlows, podsExcept, sameNamespace, when, withinNamespace } from "../lib/networkPolicy";
import { GRAFANA_PODS } from "../monitoring/labels";
import {
    APM_PORT,
    APM_SERVER_PODS,
    BEATS_PORT,
    BEAT_PODS,
    ELASTICSEARCH_EXPORTER_METRICS,
    ELASTICSEARCH_HTTP_PORT,
    ELASTICSEARCH_PODS,
    KIBANA_PODS,
    KIBANA_PORT,
    LOGSTASH_PODS,
} from "./labels";

/** ECK's Elasticsearch, Kibana, Logstash, APM Server, and Filebeat on the nodes. */
export function loggingFlows(ctx: FlowContext): NamespaceFlows[] {
    const { ns, vpc, production, publicProxies, uiProxies } = ctx;
    const { scraped, apiServer, webhooks } = ctx;
    const { monitoringOn, loggingOn, apmOn, trafficOn } = ctx.on;
    const logging: NamespaceFlows = {
        namespace: ns.logging,
        flows: [
            DNS,
            // Kibana admits its gateway and APM Server only (ECK 3.5 sets APM Server's kibana.host from its kibanaRef:
            // pkg/controller/apmserver/config.go; the operator itself calls no Kibana API).
            ...sameNamespace(ns.logging, podsExcept(KIBANA_PODS)),
            ...when(
                apmOn,
                ...withinNamespace({
                    namespace: ns.logging,
                    names: { ingress: "kibana-from-apm", egress: "apm-to-kibana" },
                    why: "APM Server reads its agent configuration from Kibana.",
                    from: APM_SERVER_PODS,
                    to: KIBANA_PODS,
                    ports: [KIBANA_PORT],
                }),
            ),
            ...scraped([ELASTICSEARCH_EXPORTER_METRICS], "Prometheus scrapes the Elasticsearch exporter."),
            apiServer("The ECK operator manages Elasticsearch, Kibana, Logstash, APM Server and Filebeat."),
            webhooks("The ECK operator's admission webhook.", [9443]),
            {
                name: "from-filebeat",
                why: "Filebeat ships container logs to Logstash (TLS).",
                direction: "ingress",
                peers: [{ namespace: ns.nodeAgents, pods: BEAT_PODS }],
                ports: [BEATS_PORT],
            },
            ...when(apmOn, {
                name: "from-apps",
                why: "Services send traces to APM Server (TLS).",
                direction: "ingress",
                pods: APM_SERVER_PODS,
                peers: [{ namespace: ns.apps }],
                ports: [APM_PORT],
            }),
            ...when(trafficOn, {
                name: "from-gateway",
                why: "Operators reach Kibana through the operator UIs' gateway.",
                direction: "ingress",
                pods: KIBANA_PODS,
                peers: [{ namespace: ns.traffic, pods: uiProxies }],
                ports: [KIBANA_PORT],
            }),
            ...when(trafficOn, {
                name: "rum-from-gateway",
                why: "Browsers reach APM Server's RUM intake through the public gateway.",
                direction: "ingress",
                pods: APM_SERVER_PODS,
                peers: [{ namespace: ns.traffic, pods: publicProxies }],
                ports: [APM_PORT],
            }),
            ...when(monitoringOn, {
                name: "from-grafana",
                why: "Grafana reads page-load and log data from Elasticsearch.",
                direction: "ingress",
                pods: ELASTICSEARCH_PODS,
                peers: [{ namespace: ns.monitoring, pods: GRAFANA_PODS }],
                ports: [ELASTICSEARCH_HTTP_PORT],
            }),
            ...when(production, {
                name: "snapshots-to-s3",
                why: "Elasticsearch writes snapshots to S3 (HTTPS) and exchanges its web identity token with STS.",
                direction: "egress",
                pods: ELASTICSEARCH_PODS,
                peers: [INTERNET, ...vpc],
                ports: [443],
            }),
        ],
    };

    const nodeAgents: NamespaceFlows = {
        namespace: ns.nodeAgents,
        flows: [
            DNS,
            apiServer("Filebeat adds pod metadata to log lines."),
            ...when(loggingOn, {
                name: "to-logstash",
                why: "Filebeat ships container logs to Logstash (TLS).",
                direction: "egress",
                peers: [{ namespace: ns.logging, pods: LOGSTASH_PODS }],
                ports: [BEATS_PORT],
            }),
        ],
    };

    return [...(loggingOn ? [logging] : []), ...(monitoringOn || loggingOn ? [nodeAgents] : [])];
}
