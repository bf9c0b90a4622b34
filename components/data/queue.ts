import * as k8s from "@pulumi/kubernetes";
import { containerResources } from "../config/primitives";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { QueueConfig } from "../config/data";
import { ManifestFetcher, PinnedManifest, verifyManifest } from "../lib/manifest";
import { amqpUrl } from "./connections";
import { serviceMonitor } from "../lib/cluster";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { RABBITMQ_OPERATOR_REQUESTS } from "./sizes";
import { rabbitPasswordHash, rabbitmqAdditionalConfig, rabbitmqDefinitions } from "./definitions";

export interface QueueArgs {
    /** The validated `finbot:queue`. */
    config: QueueConfig;
    /** Production: nodes spread over zones. */
    production: boolean;
    /** Namespace of the RabbitmqCluster (created by the caller). */
    namespace: string;
    /** RabbitMQ image from `finbot:releases.images`. */
    image: string;
    /** The Cluster Operator's release manifest (CRDs, RBAC, Deployment) and its pinned SHA-256. */
    operatorManifest: PinnedManifest;
    /** Downloads the manifest (the program) or stands in for it (the offline plan). */
    fetchManifest: ManifestFetcher;
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
const DEFINITIONS_DIR = "/etc/rabbitmq/definitions";

/**
 * RabbitMQ through the Cluster Operator: a RabbitmqCluster (1 node in dev, 3 zone-spread nodes in
 * prod), quorum queues with dead-letter queues from config, and Prometheus scraping.
 */
export class Queue extends pulumi.ComponentResource {
    /** `amqp://` URL with credentials (secret). */
    public readonly url: pulumi.Output<string>;
    /** What it runs in the cluster. */
    public readonly footprint: Footprint = emptyFootprint();

    constructor(name: string, args: QueueArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:Queue", name, {}, opts);
        const { config, namespace } = args;
        this.footprint.requests.push(
            { part: "RabbitMQ Cluster Operator", pods: 1, ...RABBITMQ_OPERATOR_REQUESTS },
            { part: "RabbitMQ nodes", pods: config.replicas, ...config.resources.requests },
        );
        const host = `${QUEUE_CLUSTER}.${namespace}.svc.cluster.local`;
        const labels = { "app.kubernetes.io/name": QUEUE_CLUSTER };

        // The operator's release manifest (CRDs, RBAC, Deployment in rabbitmq-system), applied from the
        // bytes checked against the pin: a new version brings its CRDs with it.
        const manifest = pulumi
            .output(args.fetchManifest(args.operatorManifest.url))
            .apply((text) => verifyManifest(args.operatorManifest, text));
        const operator = new k8s.yaml.v2.ConfigGroup(`${name}-operator`, { yaml: manifest }, { parent: this });

        // The default user is ours (secretBackend.externalSecret), so its password is known to the program.
        const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
        const user = "finbot";
        const defaultUser = new k8s.core.v1.Secret(
            `${name}-default-user`,
            {
                metadata: { name: `${QUEUE_CLUSTER}-default-user`, namespace },
                type: "Opaque",
                stringData: {
                    "default_user.conf": password.result.apply((pw) => `default_user = ${user}\ndefault_pass = ${pw}\n`),
                    username: user,
                    password: password.result,
                    host,
                    port: "5672",
                    provider: "rabbitmq",
                    type: "rabbitmq",
                },
            },
            { parent: this },
        );
        // The definitions carry the user's password hash: a Secret, not a ConfigMap.
        const definitions = new k8s.core.v1.Secret(
            `${name}-definitions`,
            {
                metadata: { name: `${QUEUE_CLUSTER}-definitions`, namespace },
                type: "Opaque",
                stringData: {
                    "definitions.json": password.result.apply((pw) =>
                        JSON.stringify(rabbitmqDefinitions(config.queues, { name: user, passwordHash: rabbitPasswordHash(pw) }), null, 2),
                    ),
                },
            },
            { parent: this },
        );
        const spreadKey = args.production ? "topology.kubernetes.io/zone" : "kubernetes.io/hostname";
        const cluster = new k8s.apiextensions.CustomResource(
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
                    secretBackend: { externalSecret: { name: `${QUEUE_CLUSTER}-default-user` } },
                    rabbitmq: { additionalConfig: rabbitmqAdditionalConfig(`${DEFINITIONS_DIR}/definitions.json`) },
                    affinity:
                        config.replicas > 1
                            ? {
                                  podAntiAffinity: {
                                      requiredDuringSchedulingIgnoredDuringExecution: [
                                          { topologyKey: spreadKey, labelSelector: { matchLabels: labels } },
                                      ],
                                  },
                              }
                            : undefined,
                    override: {
                        statefulSet: {
                            spec: {
                                template: {
                                    spec: {
                                        containers: [
                                            {
                                                name: "rabbitmq",
                                                volumeMounts: [{ name: "definitions", mountPath: DEFINITIONS_DIR, readOnly: true }],
                                            },
                                        ],
                                        volumes: [{ name: "definitions", secret: { secretName: `${QUEUE_CLUSTER}-definitions` } }],
                                    },
                                },
                            },
                        },
                    },
                },
            },
            { parent: this, dependsOn: [operator, defaultUser, definitions] },
        );
        if (config.replicas > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-pdb`,
                { metadata: { name: QUEUE_CLUSTER, namespace }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } },
                { parent: this, dependsOn: [cluster] },
            );
        }
        if (args.monitoringCrds) {
            serviceMonitor(
                `${name}-service-monitor`,
                {
                    name: QUEUE_CLUSTER,
                    namespace,
                    selector: { matchLabels: labels },
                    endpoints: [{ port: "prometheus", path: "/metrics", interval: "30s" }],
                },
                { parent: this, dependsOn: [args.monitoringCrds] },
            );
        }
        this.url = pulumi.secret(password.result.apply((pw) => amqpUrl({ user, password: pw, host, port: 5672 })));
        this.registerOutputs({ url: this.url });
    }
}
