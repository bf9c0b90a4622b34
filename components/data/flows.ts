// The network flows of the data tier's namespace and of `rabbitmq-system` (the operators' manifest makes it). Pure.
import { FlowContext } from "../lib/flowContext";
import { DNS, INTERNET, NamespaceFlows, POD_IDENTITY_AGENT, sameNamespace, when } from "../lib/networkPolicy";
import {
    AMQPS,
    POOLER_METRICS,
    POSTGRES,
    POSTGRES_METRICS,
    RABBITMQ_MANAGEMENT_TLS,
    RABBITMQ_METRICS_TLS,
    REDIS,
    REDIS_METRICS,
} from "./ports";
import { QUEUE_OPERATORS_NAMESPACE } from "./queue";

/** PostgreSQL, Redis, RabbitMQ and their operators. */
export function dataFlows(ctx: FlowContext): NamespaceFlows[] {
    const { config, ns, vpc, production } = ctx;
    const { scraped, apiServer, webhooks } = ctx;
    const { dataOn, managedStores } = ctx.on;
    const data: NamespaceFlows = {
        namespace: ns.data,
        flows: [
            DNS,
            ...sameNamespace(ns.data),
            ...scraped(
                [
                    ...(config.database.enabled ? [POSTGRES_METRICS, ...(config.database.mode === "aurora" ? [] : [POOLER_METRICS])] : []),
                    ...(config.cache.enabled ? [REDIS_METRICS] : []),
                    ...(config.queue.enabled ? [RABBITMQ_METRICS_TLS] : []),
                ],
                "Prometheus scrapes PostgreSQL (CloudNativePG's instances and poolers, or the exporters beside Aurora), redis_exporter and RabbitMQ (TLS).",
            ),
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

    return [...(dataOn ? [data] : []), ...(config.queue.enabled ? [rabbitmqSystem] : [])];
}
