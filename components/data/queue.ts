import * as k8s from "@pulumi/kubernetes";
import { AMQPS, RABBITMQ_MANAGEMENT_TLS } from "./ports";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { QueueConfig } from "../config/data";
import { containerResources } from "../config/primitives";
import { CertificateIssuer, serverCertificate, serviceDnsNames } from "../lib/certificates";
import { clusterServiceHost, serviceHost } from "../lib/services";
import { serviceMonitor } from "../lib/monitors";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { ManifestFetcher, PinnedManifest, verifyManifest } from "../lib/manifest";
import { Connections, amqpUrl } from "./connections";
import { QueueConsumer, VHOST, queueTopology, queueUsers, rabbitmqAdditionalConfig } from "./definitions";

export type { QueueConsumer };
import { RABBITMQ_OPERATOR_REQUESTS } from "./sizes";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { hardenedPodSpec } from "../lib/security";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";

export interface QueueArgs {
    /** The validated `finbot:queue`. */
    config: QueueConfig;
    /** Production: nodes spread over zones. */
    production: boolean;
    /** Namespace of the RabbitmqCluster (created by the caller). */
    namespace: string;
    /** RabbitMQ image from `finbot:releases.images`. */
    image: string;
    /** curl image (exports the definitions). */
    curlImage: string;
    /** The Cluster Operator's release manifest (CRDs, RBAC, Deployment) and its pinned SHA-256. */
    operatorManifest: PinnedManifest;
    /** The messaging-topology operator's release manifest (users, permissions, queues, policies as resources). */
    topologyOperatorManifest: PinnedManifest;
    /** Downloads the manifests (the program) or stands in for them (the offline plan). */
    fetchManifest: ManifestFetcher;
    /** Every service and worker that publishes or consumes: each gets its own user. */
    consumers: QueueConsumer[];
    /** Issues the nodes' certificate (AMQPS, management API, metrics). */
    issuer: CertificateIssuer;
    /**
     * StorageClass of the nodes' volumes.
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * When set, a ServiceMonitor is created after this resource (it installs the monitoring CRDs).
     * @default no ServiceMonitor
     */
    monitoringCrds?: pulumi.Resource;
}

export const QUEUE_CLUSTER = "finbot-queue";
/** The labels the operator gives the cluster's nodes (pods and Service). */
const NODE_LABELS = { "app.kubernetes.io/name": QUEUE_CLUSTER };
/** KEDA's user: reads queue lengths, consumes nothing. */
export const KEDA_QUEUE_USER = "keda";

/** Where the topology operator's release manifest runs it. */
/**
 * Merged into the operator's own container securityContext (strategic merge), which since v2.17
 * makes the root file system read-only (internal/resource/statefulset.go; writable: /var/lib/rabbitmq
 * and the data volume, logs to the console): said here too, so no override can lose it unseen.
 */
const OPERATOR_CONTAINER_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true };

/**
 * The definitions export as kept on its volume: every user's password hash blanked (a hash is
 * base64: it never holds a quote), so the volume holds no credential a
 * cracker could start from. A restore brings users back without passwords until the topology
 * operator sets them again from their Secrets (docs/runbooks/rabbitmq-restore.md).
 */
export const WITHOUT_PASSWORD_HASHES = `sed -E 's/"password_hash"[[:space:]]*:[[:space:]]*"[^"]*"/"password_hash":""/g'`;

/** Where the operators' release manifests run them. */
export const QUEUE_OPERATORS_NAMESPACE = "rabbitmq-system";
const TOPOLOGY_OPERATOR = { namespace: QUEUE_OPERATORS_NAMESPACE, deployment: "messaging-topology-operator", container: "manager" };

/**
 * RabbitMQ through the Cluster Operator (1 node in dev, 3 zone-spread nodes in prod) and the
 * messaging-topology operator: quorum queues with dead-letter queues, policies, and one user per
 * service and worker with permissions only on what it publishes to or consumes (no tags). The
 * operator's default user stays with the operators. TLS only, verified against the internal CA.
 */
export class Queue extends pulumi.ComponentResource {
    /** Each consumer's `AMQP_URL` (secret), and KEDA's under its own name. */
    public readonly connections: Record<string, Connections>;
    /** What it runs in the cluster. */
    public readonly footprint: Footprint = emptyFootprint();
    /** The operators' manifests (they create rabbitmq-system). */
    public readonly operators: pulumi.Resource;

    constructor(name: string, args: QueueArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:Queue", name, {}, opts);
        const { config, namespace } = args;
        this.footprint.requests.push(
            { part: "RabbitMQ Cluster Operator", pods: 1, ...RABBITMQ_OPERATOR_REQUESTS },
            { part: "RabbitMQ nodes", pods: config.replicas, ...config.resources.requests },
        );
        const host = clusterServiceHost(QUEUE_CLUSTER, namespace);

        // Release manifests (CRDs, RBAC, Deployments) applied from the bytes checked against their pins.
        const manifest = (resource: string, pinned: PinnedManifest, dependsOn: pulumi.Resource[] = []) =>
            new k8s.yaml.v2.ConfigGroup(
                resource,
                { yaml: pulumi.output(args.fetchManifest(pinned.url)).apply((text) => verifyManifest(pinned, text)) },
                { parent: this, dependsOn },
            );
        const operator = manifest(`${name}-operator`, args.operatorManifest);

        // Clients (and the topology operator, through the management API) verify the nodes against the internal CA.
        const tlsSecret = `${QUEUE_CLUSTER}-tls`;
        const certificate = serverCertificate(
            `${name}-tls`,
            { namespace, secretName: tlsSecret, dnsNames: serviceDnsNames(QUEUE_CLUSTER, namespace), issuer: args.issuer },
            { parent: this },
        );
        const cluster = this.rabbitmqCluster(name, args, tlsSecret, [operator, certificate]);
        const topologyOperator = manifest(`${name}-topology-operator`, args.topologyOperatorManifest, [operator]);
        this.trustInternalCa(name, args.issuer, topologyOperator);
        this.operators = topologyOperator;
        const afterTopology = { parent: this, dependsOn: [topologyOperator, cluster] };
        this.topology(name, args, afterTopology);

        this.connections = this.users(name, args, host, [topologyOperator, cluster]);
        this.definitionsExport(name, args, cluster);
        if (config.replicas > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-pdb`,
                { metadata: { name: QUEUE_CLUSTER, namespace }, spec: { maxUnavailable: 1, selector: { matchLabels: NODE_LABELS } } },
                { parent: this, dependsOn: [cluster] },
            );
        }
        this.metrics(name, args, tlsSecret);
        this.registerOutputs({});
    }

    /** The RabbitmqCluster: TLS-only listeners, spread over zones (nodes in dev), hardened pods. */
    private rabbitmqCluster(
        name: string,
        args: QueueArgs,
        tlsSecret: string,
        dependsOn: pulumi.Resource[],
    ): k8s.apiextensions.CustomResource {
        const { config, namespace, production } = args;
        const spreadKey = production ? "topology.kubernetes.io/zone" : "kubernetes.io/hostname";
        return new k8s.apiextensions.CustomResource(
            `${name}-cluster`,
            {
                apiVersion: "rabbitmq.com/v1beta1",
                kind: "RabbitmqCluster",
                metadata: { name: QUEUE_CLUSTER, namespace },
                spec: {
                    replicas: config.replicas,
                    image: args.image,
                    resources: containerResources(config.resources),
                    persistence: { storage: config.storage, ...(args.storageClass ? { storageClassName: args.storageClass } : {}) },
                    rabbitmq: { additionalConfig: rabbitmqAdditionalConfig() },
                    // TLS only: AMQP on 5671, the management API on 15671; the plain listeners are off.
                    tls: { secretName: tlsSecret, disableNonTLSListeners: true },
                    affinity:
                        config.replicas > 1
                            ? {
                                  podAntiAffinity: {
                                      requiredDuringSchedulingIgnoredDuringExecution: [
                                          { topologyKey: spreadKey, labelSelector: { matchLabels: NODE_LABELS } },
                                      ],
                                  },
                              }
                            : undefined,
                    // The operator's pods get the hardening of the program's own (Pod Security "restricted").
                    override: {
                        statefulSet: {
                            spec: {
                                template: {
                                    spec: {
                                        priorityClassName: PLATFORM_CRITICAL,
                                        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                                        containers: [{ name: "rabbitmq", securityContext: OPERATOR_CONTAINER_SECURITY }],
                                        initContainers: [{ name: "setup-container", securityContext: OPERATOR_CONTAINER_SECURITY }],
                                    },
                                },
                            },
                        },
                    },
                },
            },
            // The queues hold payments: a mistaken `pulumi up` or `destroy` stops here in production.
            { parent: this, dependsOn, protect: production },
        );
    }

    /**
     * One user per consumer (and KEDA's), with only its permissions, its password generated and
     * imported by the topology operator; returns each consumer's connection URL (a secret).
     */
    private users(name: string, args: QueueArgs, host: string, topology: pulumi.Resource[]): Record<string, Connections> {
        const { namespace } = args;
        const users = queueUsers(args.consumers, KEDA_QUEUE_USER);
        const connections: Record<string, Connections> = {};
        for (const user of users) {
            const password = new random.RandomPassword(`${name}-user-${user.name}`, { length: 32, special: false }, { parent: this });
            const secretName = `rabbitmq-user-${user.name}`;
            // The topology operator imports only Secrets carrying this label.
            const secret = new k8s.core.v1.Secret(
                `${name}-user-${user.name}`,
                {
                    metadata: { name: secretName, namespace, labels: { "rabbitmq.com/topology-operator": "true" } },
                    type: "Opaque",
                    stringData: { username: user.name, password: password.result },
                },
                { parent: this },
            );
            const ref = { name: QUEUE_CLUSTER };
            new k8s.apiextensions.CustomResource(
                `${name}-user-${user.name}`,
                {
                    apiVersion: "rabbitmq.com/v1beta1",
                    kind: "User",
                    metadata: { name: user.name, namespace },
                    spec: { rabbitmqClusterReference: ref, importCredentialsSecret: { name: secretName }, tags: [] },
                },
                { parent: this, dependsOn: [...topology, secret] },
            );
            new k8s.apiextensions.CustomResource(
                `${name}-permission-${user.name}`,
                {
                    apiVersion: "rabbitmq.com/v1beta1",
                    kind: "Permission",
                    metadata: { name: user.name, namespace },
                    spec: { vhost: VHOST, user: user.name, permissions: user.permissions, rabbitmqClusterReference: ref },
                },
                { parent: this, dependsOn: topology },
            );
            connections[user.name] = {
                AMQP_URL: pulumi.secret(
                    password.result.apply((pw) => amqpUrl({ user: user.name, password: pw, host, port: AMQPS, tls: true })),
                ),
            };
        }
        return connections;
    }

    /** Prometheus scrapes the nodes over TLS, verifying them with the internal CA. */
    private metrics(name: string, args: QueueArgs, tlsSecret: string): void {
        const { namespace } = args;
        if (args.monitoringCrds) {
            serviceMonitor(
                `${name}-service-monitor`,
                {
                    name: QUEUE_CLUSTER,
                    namespace,
                    selector: { matchLabels: NODE_LABELS },
                    limits: SCRAPE_LIMITS.rabbitmq,
                    // The metrics listener is TLS-only too; Prometheus verifies it with the CA beside the certificate.
                    endpoints: [
                        {
                            port: "prometheus-tls",
                            path: "/metrics",
                            interval: "30s",
                            scheme: "https",
                            tlsConfig: {
                                ca: { secret: { name: tlsSecret, key: "ca.crt" } },
                                serverName: serviceHost(QUEUE_CLUSTER, namespace),
                            },
                        },
                    ],
                },
                { parent: this, dependsOn: [args.monitoringCrds] },
            );
        }
    }

    /**
     * Every hour the definitions (users with their password hashes, permissions, queues, policies)
     * are exported through the management API to a volume that keeps a week of them: what a
     * rebuilt cluster imports (docs/runbooks/rabbitmq-restore.md). Messages are not in them: quorum
     * queues replicate those across the nodes.
     */
    private definitionsExport(name: string, args: QueueArgs, cluster: pulumi.Resource): void {
        const { namespace } = args;
        const labels = { "app.kubernetes.io/name": "rabbitmq-definitions-export", "app.kubernetes.io/part-of": "finbot" };
        const volume = new k8s.core.v1.PersistentVolumeClaim(
            `${name}-definitions`,
            {
                metadata: { name: "rabbitmq-definitions", namespace, labels },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: "1Gi" } },
                    ...(args.storageClass ? { storageClassName: args.storageClass } : {}),
                },
            },
            { parent: this, protect: args.production },
        );
        const secretEnv = (env: string, key: string) => ({
            name: env,
            valueFrom: { secretKeyRef: { name: `${QUEUE_CLUSTER}-default-user`, key } },
        });
        const script = [
            "set -eu",
            // Users come back without passwords: the topology operator sets them from their Secrets.
            `curl -fsS --cacert /tls/ca.crt -u "$RABBITMQ_USER:$RABBITMQ_PASSWORD" "https://${serviceHost(QUEUE_CLUSTER, namespace)}:${RABBITMQ_MANAGEMENT_TLS}/api/definitions" | ${WITHOUT_PASSWORD_HASHES} > /exports/tmp.json`,
            'mv /exports/tmp.json "/exports/definitions-$(date -u +%Y%m%dT%H%M%SZ).json"',
            "find /exports -name 'definitions-*.json' -mtime +7 -delete",
            "ls -1 /exports | tail -3",
        ].join("\n");
        new k8s.batch.v1.CronJob(
            `${name}-definitions-export`,
            {
                metadata: { name: "rabbitmq-definitions-export", namespace, labels },
                spec: {
                    schedule: "7 * * * *",
                    concurrencyPolicy: "Forbid",
                    successfulJobsHistoryLimit: 1,
                    jobTemplate: {
                        spec: {
                            backoffLimit: 3,
                            template: {
                                metadata: { labels },
                                spec: hardenedPodSpec({
                                    restartPolicy: "OnFailure",
                                    priorityClassName: PLATFORM_CRITICAL,
                                    runAs: { user: 100, fsGroup: 101 },
                                    containers: [
                                        {
                                            name: "export",
                                            image: args.curlImage,
                                            command: ["/bin/sh", "-c", script],
                                            env: [secretEnv("RABBITMQ_USER", "username"), secretEnv("RABBITMQ_PASSWORD", "password")],
                                            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                                            securityContext: OPERATOR_CONTAINER_SECURITY,
                                            volumeMounts: [
                                                { name: "exports", mountPath: "/exports" },
                                                { name: "tls", mountPath: "/tls", readOnly: true },
                                            ],
                                        },
                                    ],
                                    volumes: [
                                        { name: "exports", persistentVolumeClaim: { claimName: "rabbitmq-definitions" } },
                                        {
                                            name: "tls",
                                            secret: { secretName: `${QUEUE_CLUSTER}-tls`, items: [{ key: "ca.crt", path: "ca.crt" }] },
                                        },
                                    ],
                                }),
                            },
                        },
                    },
                },
            },
            { parent: this, dependsOn: [cluster, volume] },
        );
    }

    /**
     * The topology operator reaches the management API over HTTPS: the internal CA joins its trust
     * store (/etc/ssl/certs), patched onto the operator's Deployment from the release manifest.
     */
    private trustInternalCa(name: string, issuer: CertificateIssuer, topologyOperator: pulumi.Resource): void {
        const namespace = TOPOLOGY_OPERATOR.namespace;
        const ca = new k8s.core.v1.Secret(
            `${name}-topology-operator-ca`,
            { metadata: { name: "finbot-internal-ca", namespace }, type: "Opaque", stringData: { "ca.crt": issuer.caCertPem } },
            { parent: this, dependsOn: [topologyOperator] },
        );
        new k8s.apps.v1.DeploymentPatch(
            `${name}-topology-operator-trust`,
            {
                metadata: { name: TOPOLOGY_OPERATOR.deployment, namespace },
                spec: {
                    template: {
                        spec: {
                            containers: [
                                {
                                    name: TOPOLOGY_OPERATOR.container,
                                    volumeMounts: [
                                        {
                                            name: "finbot-internal-ca",
                                            mountPath: "/etc/ssl/certs/finbot-internal-ca.crt",
                                            subPath: "ca.crt",
                                            readOnly: true,
                                        },
                                    ],
                                },
                            ],
                            volumes: [{ name: "finbot-internal-ca", secret: { secretName: "finbot-internal-ca" } }],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [topologyOperator, ca] },
        );
    }

    /** Exchanges, quorum queues, bindings and policies as the topology operator's resources. */
    private topology(name: string, args: QueueArgs, opts: pulumi.CustomResourceOptions): void {
        const ref = { name: QUEUE_CLUSTER };
        const resource = (kind: string, id: string, spec: Record<string, unknown>) =>
            new k8s.apiextensions.CustomResource(
                `${name}-${kind.toLowerCase()}-${id}`,
                {
                    apiVersion: "rabbitmq.com/v1beta1",
                    kind,
                    metadata: { name: id, namespace: args.namespace },
                    spec: { ...spec, vhost: VHOST, rabbitmqClusterReference: ref },
                },
                opts,
            );
        const k8sName = (text: string) => text.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
        const t = queueTopology(args.config.queues);
        for (const e of t.exchanges)
            resource("Exchange", k8sName(e.name), { name: e.name, type: e.type, durable: true, autoDelete: false });
        for (const q of t.queues)
            // Retained when the resource goes: deleting a resource must never delete payments in the queue.
            resource("Queue", k8sName(q.name), {
                name: q.name,
                type: "quorum",
                durable: true,
                autoDelete: false,
                deletionPolicy: "retain",
            });
        for (const b of t.bindings)
            resource("Binding", k8sName(`${b.source}-${b.destination}`), {
                source: b.source,
                destination: b.destination,
                destinationType: "queue",
                routingKey: b.routingKey,
            });
        for (const p of t.policies)
            resource("Policy", k8sName(p.name), {
                name: p.name,
                pattern: p.pattern,
                applyTo: "queues",
                priority: 10,
                definition: p.definition,
            });
    }
}
