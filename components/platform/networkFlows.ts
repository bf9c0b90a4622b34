// Every network flow the platform allows, per namespace; everything else is denied (see
// lib/networkPolicy.ts). The cluster gets exactly this table, and docs/network.md is generated
// from it. Pure.
import { stackDefaults } from "../config/resolve";
import { PlatformConfig } from "../config/schema";
import { QUEUE_OPERATORS_NAMESPACE } from "../data/queue";
import { CHECKS_RECEIVER_PODS } from "../monitoring/checksReceiver";
import { networkFacts } from "../lib/awsNetwork";
import { PAGE_CHECK_LABELS } from "../traffic/pageChecks";
import { measuredPages } from "../traffic/pages";
import { EGRESS_GATEWAY, egressRoutes } from "../traffic/egress";
import { GATEWAY, INTERNAL_GATEWAY } from "../traffic/routes";
import { Flow, INTERNET, NamespaceFlows, POD_IDENTITY_AGENT, Peer } from "../lib/networkPolicy";

const KARPENTER = { "app.kubernetes.io/name": "karpenter" };

const DNS: Flow = {
    name: "dns",
    why: "Name resolution (CoreDNS).",
    direction: "egress",
    peers: [{ namespace: "kube-system", pods: { "k8s-app": "kube-dns" } }],
    ports: [
        { port: 53, protocol: "UDP" },
        { port: 53, protocol: "TCP" },
    ],
};

const ENVOY_PROXIES = { "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway" };
/** The proxies of one gateway (Envoy Gateway labels each proxy pod with the Gateway it serves). */
const proxiesOf = (gateway: string) => ({ ...ENVOY_PROXIES, "gateway.envoyproxy.io/owning-gateway-name": gateway });
/** Envoy Gateway's controller and its certgen Job (gateway-helm v1.9 templates: envoy-gateway-deployment.yaml, certgen.yaml). */
const ENVOY_GATEWAY_CONTROLLER = { "control-plane": "envoy-gateway" };
const ENVOY_GATEWAY_CERTGEN = { app: "certgen" };
/** Every pod of the cert-manager release (its chart labels them all with the release). */
const CERT_MANAGER = { "app.kubernetes.io/instance": "cert-manager" };
const POSTGRES = 5432;
const REDIS = 6379;
const AMQPS = 5671;
const RABBITMQ_MANAGEMENT_TLS = 15671;
const APM = 8200;

/** Whether the stack runs synthetic clients (load tests, page checks), in their own namespace. */
export const syntheticChecks = (config: PlatformConfig) =>
    config.monitoring.enabled && (config.traffic.loadTest.enabled || measuredPages(config).length > 0);

/** Where the API server answers (and the nodes: kubelets, host-network agents). */
export function apiServerCidrs(config: PlatformConfig): string[] {
    const vpcCidr = networkFacts(config)?.vpcCidr;
    return config.kubernetes.apiServerCidrs ?? (vpcCidr ? [vpcCidr] : ["0.0.0.0/0"]);
}

/**
 * Pods of Prometheus (the label its operator selects them by: prometheus-operator
 * pkg/prometheus/server/statefulset.go, podSelectorLabels), the blackbox exporter and Grafana (their
 * charts' `app.kubernetes.io/name`).
 */
const PROMETHEUS_PODS = { "app.kubernetes.io/name": "prometheus" };
const BLACKBOX_PODS = { "app.kubernetes.io/name": "prometheus-blackbox-exporter" };
const GRAFANA_PODS = { "app.kubernetes.io/name": "grafana" };
/** prometheus-adapter's pods (its chart's name). */
const ADAPTER_PODS = { "app.kubernetes.io/name": "prometheus-adapter" };

/**
 * The allowed flows of every namespace the platform creates (and of `rabbitmq-system`, which the
 * RabbitMQ operators' manifest creates). Within a namespace pods reach each other; across
 * namespaces, to the API server and out of the cluster only what is listed.
 */
// Long: one table of every namespace's flows, read top to bottom (docs/network.md is generated from it).
export function platformFlows(config: PlatformConfig): NamespaceFlows[] {
    const ns = config.namespaces;
    const api: Peer = { cidrs: apiServerCidrs(config) };
    const vpcCidr = networkFacts(config)?.vpcCidr;
    const vpc: Peer[] = vpcCidr ? [{ cidrs: [vpcCidr] }] : [];
    const { production, operatorAccess, nodeAutoscaler } = stackDefaults(config);
    // Each gateway reaches only what it routes: the public one the services and the RUM intake, the
    // operator UIs' gateway (the internal one where they are private) the UIs.
    const publicProxies = proxiesOf(GATEWAY);
    const uiProxies = proxiesOf(operatorAccess.internal ? INTERNAL_GATEWAY : GATEWAY);
    const dataOn = config.database.enabled || config.cache.enabled || config.queue.enabled;
    const managedStores = production && vpc.length > 0 && (config.database.mode === "aurora" || config.cache.mode === "elasticache");
    const monitoringOn = config.monitoring.enabled;
    const loggingOn = config.logging.enabled;
    const apmOn = loggingOn && config.logging.apm.enabled;
    const trafficOn = config.traffic.enabled;
    const checks = config.traffic.loadTest.enabled;
    const karpenterOn = nodeAutoscaler === "karpenter";
    const pageChecks = monitoringOn && measuredPages(config).length > 0;
    const servicePorts = [...new Set(config.services.map((s) => s.port))];
    const egressProxies = proxiesOf(EGRESS_GATEWAY);
    const egress = trafficOn ? egressRoutes(config.thirdParties, ns.traffic) : [];
    // Each workload that calls a third party (a service's canary with its service), and the routes it may use.
    const thirdPartyCallers = [
        ...config.services.flatMap((s) => [s.name, ...(s.canary ? [`${s.name}-canary`] : [])].map((pods) => ({ pods, caller: s.name }))),
        ...config.workers.map((w) => ({ pods: w.name, caller: w.name })),
    ]
        .map(({ pods, caller }) => ({ pods, routes: egress.filter((r) => r.provider.callers.includes(caller)) }))
        .filter((c) => c.routes.length > 0);

    // Of the monitoring namespace's pods, Prometheus scrapes, the blackbox exporter probes and Grafana
    // reads its data sources: each reaches into other namespaces only for that.
    const prometheus: Peer = { namespace: ns.monitoring, pods: PROMETHEUS_PODS };
    const blackbox: Peer = { namespace: ns.monitoring, pods: BLACKBOX_PODS };
    const receiver: Peer = { namespace: ns.checks, pods: CHECKS_RECEIVER_PODS };

    const sameNamespace = (namespace: string): Flow[] => [
        { name: "same-namespace-in", why: "Pods of this namespace talk to each other.", direction: "ingress", peers: [{ namespace }] },
        { name: "same-namespace-out", why: "Pods of this namespace talk to each other.", direction: "egress", peers: [{ namespace }] },
    ];
    const apiServer = (why: string): Flow => ({ name: "api-server", why, direction: "egress", peers: [api], ports: [443, 6443] });
    const webhooks = (why: string, ports: number[]): Flow => ({ name: "from-api-server", why, direction: "ingress", peers: [api], ports });
    const scraped: Flow[] = monitoringOn
        ? [
              {
                  name: "from-prometheus",
                  why: "Prometheus scrapes metrics.",
                  direction: "ingress",
                  peers: [prometheus],
              },
          ]
        : [];
    const when = (on: boolean, ...flows: Flow[]) => (on ? flows : []);

    const apps: NamespaceFlows = {
        namespace: ns.apps,
        flows: [
            DNS,
            ...scraped,
            ...when(monitoringOn, {
                name: "from-blackbox-exporter",
                why: "The blackbox exporter probes the services' health endpoints (uptime).",
                direction: "ingress",
                peers: [blackbox],
            }),
            ...when(trafficOn, {
                name: "from-gateway",
                why: "The public gateway's proxies forward requests to the services.",
                direction: "ingress",
                peers: [{ namespace: ns.traffic, pods: publicProxies }],
                ports: servicePorts,
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
                peers: [{ namespace: ns.logging, pods: { "common.k8s.elastic.co/type": "apm-server" } }],
                ports: [APM],
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

    // The synthetic clients: apart from FinBot's pods, since in production the page checks load the
    // public CDN (the internet) as a visitor would, and nothing else there may.
    const synthetic: NamespaceFlows = {
        namespace: ns.checks,
        flows: [
            DNS,
            ...scraped,
            {
                name: "receiver-in",
                why: "Only the checks write into their receiver; the platform's Prometheus accepts no writes at all.",
                direction: "ingress",
                pods: CHECKS_RECEIVER_PODS,
                peers: [
                    ...(pageChecks ? [{ namespace: ns.checks, pods: PAGE_CHECK_LABELS }] : []),
                    ...(checks ? [{ namespace: ns.checks, pods: { "app.kubernetes.io/name": "k6" } }] : []),
                ],
                ports: [9090],
            },
            ...when(
                pageChecks,
                {
                    name: "page-checks-to-gateway",
                    why: "The synthetic browser checks load the pages through the gateway (staging) or the CDN (production, HTTPS).",
                    direction: "egress",
                    pods: PAGE_CHECK_LABELS,
                    peers: production ? [INTERNET] : [{ namespace: ns.traffic, pods: publicProxies }],
                    ports: production ? [443] : [10080, 10443],
                },
                {
                    name: "page-checks-to-receiver",
                    why: "The browser checks write their Web Vitals into the checks' own Prometheus (remote write).",
                    direction: "egress",
                    pods: PAGE_CHECK_LABELS,
                    peers: [receiver],
                    ports: [9090],
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
                    ports: [10080, 10443],
                },
                {
                    name: "checks-to-receiver",
                    why: "Load tests write their metrics into the checks' own Prometheus (remote write).",
                    direction: "egress",
                    pods: { "app.kubernetes.io/name": "k6" },
                    peers: [receiver],
                    ports: [9090],
                },
            ),
        ],
    };

    const data: NamespaceFlows = {
        namespace: ns.data,
        flows: [
            DNS,
            ...sameNamespace(ns.data),
            ...scraped,
            apiServer("The CloudNativePG operator, its Barman Cloud plugin and instance managers, RabbitMQ peer discovery."),
            webhooks("The CloudNativePG operator's admission webhooks.", [9443]),
            {
                name: "from-apps",
                why: "FinBot's services and workers use the stores.",
                direction: "ingress",
                peers: [{ namespace: ns.apps }],
                ports: [POSTGRES, REDIS, AMQPS],
            },
            ...when(config.workers.length > 0, {
                name: "from-keda",
                why: "KEDA reads queue lengths (its own RabbitMQ user).",
                direction: "ingress",
                peers: [{ namespace: ns.autoscaling }],
                ports: [AMQPS],
            }),
            ...when(config.queue.enabled, {
                name: "from-rabbitmq-operators",
                why: "The RabbitMQ operators manage users, queues and policies through the management API.",
                direction: "ingress",
                peers: [{ namespace: QUEUE_OPERATORS_NAMESPACE }],
                ports: [RABBITMQ_MANAGEMENT_TLS, AMQPS],
            }),
            ...when(managedStores, {
                name: "to-managed-stores",
                why: "Exporters and the roles Job reach Aurora and ElastiCache in the VPC.",
                direction: "egress",
                peers: vpc,
                ports: [POSTGRES, REDIS],
            }),
            ...when(
                production && config.database.enabled && config.database.mode === "aurora",
                {
                    name: "roles-job-to-aws",
                    why: "The roles Job reads the master secret from Secrets Manager (HTTPS) with its pod identity.",
                    direction: "egress",
                    pods: { "app.kubernetes.io/name": "postgres-roles" },
                    peers: [INTERNET, ...vpc],
                    ports: [443],
                },
                {
                    name: "roles-job-to-pod-identity",
                    why: "EKS Pod Identity's agent hands the roles Job its credentials.",
                    direction: "egress",
                    pods: { "app.kubernetes.io/name": "postgres-roles" },
                    peers: [POD_IDENTITY_AGENT],
                    ports: [80],
                },
            ),
        ],
    };

    const rabbitmqSystem: NamespaceFlows = {
        namespace: QUEUE_OPERATORS_NAMESPACE,
        flows: [
            DNS,
            ...scraped,
            apiServer("The operators watch and change their resources."),
            webhooks("The messaging-topology operator's admission webhooks.", [9443]),
            {
                name: "to-rabbitmq",
                why: "The operators reach the nodes' management API and AMQPS.",
                direction: "egress",
                peers: [{ namespace: ns.data }],
                ports: [RABBITMQ_MANAGEMENT_TLS, AMQPS],
            },
        ],
    };

    const monitoring: NamespaceFlows = {
        namespace: ns.monitoring,
        flows: [
            DNS,
            ...sameNamespace(ns.monitoring),
            apiServer("The Prometheus operator, Prometheus' service discovery, kube-state-metrics, Grafana's sidecars."),
            webhooks("The Prometheus operator's admission webhook.", [10250]),
            {
                name: "probe-services",
                why: "The blackbox exporter probes the services' health endpoints.",
                direction: "egress",
                pods: BLACKBOX_PODS,
                peers: [{ namespace: ns.apps }],
            },
            {
                name: "scrape-cluster",
                why: "Prometheus scrapes every namespace's metrics.",
                direction: "egress",
                pods: PROMETHEUS_PODS,
                peers: [
                    { namespace: ns.apps },
                    { namespace: ns.data },
                    { namespace: ns.logging },
                    { namespace: ns.traffic },
                    { namespace: ns.autoscaling },
                    { namespace: ns.nodeAgents },
                    ...(syntheticChecks(config) ? [{ namespace: ns.checks }] : []),
                    { namespace: QUEUE_OPERATORS_NAMESPACE },
                    { namespace: "kube-system" },
                ],
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
            ...when(config.monitoring.grafana.replicas > 1 && config.database.mode === "aurora" && vpc.length > 0, {
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
                pods: { "app.kubernetes.io/name": "alertmanager" },
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
                why: "Operators reach Grafana, Prometheus and Alertmanager through the operator UIs' gateway.",
                direction: "ingress",
                peers: [{ namespace: ns.traffic, pods: uiProxies }],
                ports: [3000, 9090, 9093],
            }),
            {
                name: "from-prometheus-adapter",
                why: "prometheus-adapter queries Prometheus for the HPAs' request rates (KEDA reads RabbitMQ, not Prometheus).",
                direction: "ingress",
                pods: PROMETHEUS_PODS,
                peers: [{ namespace: ns.autoscaling, pods: ADAPTER_PODS }],
                ports: [9090],
            },
            ...when(loggingOn, {
                name: "to-elasticsearch",
                why: "Grafana reads page-load and log data from Elasticsearch.",
                direction: "egress",
                pods: GRAFANA_PODS,
                peers: [{ namespace: ns.logging, pods: { "common.k8s.elastic.co/type": "elasticsearch" } }],
                ports: [9200],
            }),
        ],
    };

    const logging: NamespaceFlows = {
        namespace: ns.logging,
        flows: [
            DNS,
            ...sameNamespace(ns.logging),
            ...scraped,
            apiServer("The ECK operator manages Elasticsearch, Kibana, Logstash, APM Server and Filebeat."),
            webhooks("The ECK operator's admission webhook.", [9443]),
            {
                name: "from-filebeat",
                why: "Filebeat ships container logs to Logstash (TLS).",
                direction: "ingress",
                peers: [{ namespace: ns.nodeAgents, pods: { "common.k8s.elastic.co/type": "beat" } }],
                ports: [5044],
            },
            ...when(apmOn, {
                name: "from-apps",
                why: "Services send traces to APM Server (TLS).",
                direction: "ingress",
                pods: { "common.k8s.elastic.co/type": "apm-server" },
                peers: [{ namespace: ns.apps }],
                ports: [APM],
            }),
            ...when(trafficOn, {
                name: "from-gateway",
                why: "Operators reach Kibana through the operator UIs' gateway.",
                direction: "ingress",
                pods: { "common.k8s.elastic.co/type": "kibana" },
                peers: [{ namespace: ns.traffic, pods: uiProxies }],
                ports: [5601],
            }),
            ...when(trafficOn, {
                name: "rum-from-gateway",
                why: "Browsers reach APM Server's RUM intake through the public gateway.",
                direction: "ingress",
                pods: { "common.k8s.elastic.co/type": "apm-server" },
                peers: [{ namespace: ns.traffic, pods: publicProxies }],
                ports: [APM],
            }),
            ...when(monitoringOn, {
                name: "from-grafana",
                why: "Grafana reads page-load and log data from Elasticsearch.",
                direction: "ingress",
                pods: { "common.k8s.elastic.co/type": "elasticsearch" },
                peers: [{ namespace: ns.monitoring, pods: GRAFANA_PODS }],
                ports: [9200],
            }),
            ...when(production, {
                name: "snapshots-to-s3",
                why: "Elasticsearch writes snapshots to S3 (HTTPS) and exchanges its web identity token with STS.",
                direction: "egress",
                pods: { "common.k8s.elastic.co/type": "elasticsearch" },
                peers: [INTERNET, ...vpc],
                ports: [443],
            }),
        ],
    };

    const traffic: NamespaceFlows = {
        namespace: ns.traffic,
        flows: [
            DNS,
            ...sameNamespace(ns.traffic),
            ...scraped,
            // The controllers alone: the proxies (the egress gateway's included) never talk to the API server.
            { ...apiServer("Envoy Gateway watches its resources and programs the proxies."), pods: ENVOY_GATEWAY_CONTROLLER },
            {
                ...apiServer("Envoy Gateway's certgen Job stores the control plane's certificates."),
                name: "certgen-api-server",
                pods: ENVOY_GATEWAY_CERTGEN,
            },
            { ...apiServer("cert-manager watches and issues certificates."), name: "cert-manager-api-server", pods: CERT_MANAGER },
            webhooks("cert-manager's and Envoy Gateway's webhooks.", [10250, 9443]),
            {
                name: "public-in",
                why: "Clients reach the proxies through the load balancer (in production only CloudFront, by security group).",
                direction: "ingress",
                pods: publicProxies,
                peers: [{ cidrs: ["0.0.0.0/0"] }],
                ports: [10080, 10443],
            },
            ...when(operatorAccess.internal, {
                name: "operators-in",
                why: "Operators reach the UIs' proxies through the internal load balancer.",
                direction: "ingress",
                pods: uiProxies,
                peers: [{ cidrs: ["0.0.0.0/0"] }],
                ports: [10443],
            }),
            ...egress.map((route): Flow => ({
                name: `egress-${route.provider.name}-in`,
                why: `Only ${route.provider.callers.join(", ")} may call ${route.provider.name} (its listener on the egress gateway).`,
                direction: "ingress",
                pods: egressProxies,
                peers: thirdPartyCallers
                    .filter((c) => c.routes.includes(route))
                    .map((c) => ({ namespace: ns.apps, pods: { "app.kubernetes.io/name": c.pods } })),
                ports: [route.port],
            })),
            ...when(egress.length > 0, {
                name: "egress-to-providers",
                why: "The egress gateway's proxies alone reach the third parties' hosts (HTTPS, verified).",
                direction: "egress",
                pods: egressProxies,
                peers: [INTERNET],
                ports: [...new Set(egress.map((r) => r.provider.port))],
            }),
            {
                name: "to-backends",
                why: "The public gateway's proxies forward to the services and APM Server's RUM intake.",
                direction: "egress",
                pods: publicProxies,
                peers: [{ namespace: ns.apps }, { namespace: ns.logging, pods: { "common.k8s.elastic.co/type": "apm-server" } }],
                ports: [...servicePorts, APM],
            },
            {
                name: "to-operator-uis",
                why: "The operator UIs' gateway forwards to Grafana, Prometheus, Alertmanager and Kibana.",
                direction: "egress",
                pods: uiProxies,
                peers: [{ namespace: ns.monitoring }, { namespace: ns.logging, pods: { "common.k8s.elastic.co/type": "kibana" } }],
                ports: [3000, 9090, 9093, 5601],
            },
            ...when(operatorAccess.mode === "oidc", {
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
                pods: CERT_MANAGER,
                peers: [INTERNET],
                ports: [80, 443],
            },
            ...when(production, {
                name: "cert-manager-to-pod-identity",
                why: "EKS Pod Identity's agent hands cert-manager its Route 53 credentials.",
                direction: "egress",
                pods: CERT_MANAGER,
                peers: [POD_IDENTITY_AGENT],
                ports: [80],
            }),
        ],
    };

    const autoscaling: NamespaceFlows = {
        namespace: ns.autoscaling,
        flows: [
            DNS,
            ...sameNamespace(ns.autoscaling),
            ...scraped,
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
                ports: [9090],
            }),
            ...when(
                karpenterOn,
                {
                    name: "karpenter-to-aws",
                    why: "Karpenter calls the EC2, SQS, SSM, pricing and EKS APIs (HTTPS) to launch and retire nodes.",
                    direction: "egress",
                    pods: KARPENTER,
                    peers: [INTERNET],
                    ports: [443],
                },
                {
                    name: "karpenter-pod-identity",
                    why: "EKS Pod Identity's agent hands Karpenter its credentials.",
                    direction: "egress",
                    pods: KARPENTER,
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

    const nodeAgents: NamespaceFlows = {
        namespace: ns.nodeAgents,
        flows: [
            DNS,
            ...scraped,
            apiServer("Filebeat adds pod metadata to log lines."),
            ...when(loggingOn, {
                name: "to-logstash",
                why: "Filebeat ships container logs to Logstash (TLS).",
                direction: "egress",
                peers: [{ namespace: ns.logging, pods: { "common.k8s.elastic.co/type": "logstash" } }],
                ports: [5044],
            }),
        ],
    };

    return [
        apps,
        ...(dataOn ? [data] : []),
        ...(config.queue.enabled ? [rabbitmqSystem] : []),
        ...(monitoringOn ? [monitoring] : []),
        ...(loggingOn ? [logging] : []),
        ...(trafficOn ? [traffic] : []),
        autoscaling,
        ...(monitoringOn || loggingOn ? [nodeAgents] : []),
        ...(syntheticChecks(config) ? [synthetic] : []),
    ];
}
