import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CacheConfig, DatabaseConfig, QueueConfig } from "../config/data";
import { PlatformConfig } from "../config/schema";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { ManifestFetcher, PinnedManifest } from "../lib/manifest";
import { platformNamespace } from "../lib/namespace";
import { Cache } from "./cache";
import { ConnectionKey } from "./connections";
import { Database } from "./database";
import { Queue } from "./queue";

export interface DataTierArgs {
    /** The validated `finbot:database`, `finbot:cache` and `finbot:queue`. */
    database: DatabaseConfig;
    /** The validated `finbot:cache`. */
    cache: CacheConfig;
    /** The validated `finbot:queue`. */
    queue: QueueConfig;
    /** Production sizing, spreading and protection. */
    production: boolean;
    /** Namespace of the in-cluster parts (created here). */
    namespace: string;
    /** Namespaces whose pods may reach the data stores (FinBot's apps, the data tier's own, Prometheus, KEDA, the RabbitMQ operator). */
    clientNamespaces: string[];
    /** Images from `finbot:releases.images`. */
    images: Record<string, string>;
    /** Exact version of the cloudnative-pg chart. */
    cloudnativePgVersion: string;
    /** The RabbitMQ Cluster Operator's release manifest with its pinned SHA-256. */
    queueOperatorManifest: PinnedManifest;
    /** Downloads release manifests (the program) or stands in for them (the offline plan). */
    fetchManifest: ManifestFetcher;
    /**
     * StorageClass of the volumes.
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * AWS network of the managed stores.
     * @default none (in-cluster stores only)
     */
    network?: PlatformConfig["network"];
    /**
     * The resource installing the monitoring CRDs; monitors are created after it.
     * @default no monitors
     */
    monitoringCrds?: pulumi.Resource;
}

/**
 * FinBot's data tier: PostgreSQL, Redis and RabbitMQ in their namespace, reachable only from their
 * clients' namespaces, and the connection settings every service and worker gets. Its children
 * keep the names and, through aliases, the identities they had directly under the platform, so
 * introducing this component replaced nothing.
 */
export class DataTier extends pulumi.ComponentResource {
    /** Connection URLs (secrets) by the keys of the `<name>-connections` contract. */
    public readonly connections: Partial<Record<ConnectionKey, pulumi.Output<string>>> = {};
    public readonly database?: Database;
    public readonly cache?: Cache;
    public readonly queue?: Queue;
    /** What the data tier runs, in the cluster and on AWS. */
    public readonly footprint: Footprint = emptyFootprint();
    /** The data namespace's name. */
    public readonly namespaceName: pulumi.Output<string>;

    constructor(name: string, args: DataTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:DataTier", name, {}, opts);
        // Where these resources lived before the data tier was a component of its own.
        const formerly = (type?: string) => [{ parent: opts?.parent ?? pulumi.rootStackResource, ...(type ? { type } : {}) }];
        const namespace = platformNamespace(`${name}-data`, { name: args.namespace }, { parent: this, aliases: formerly() });
        this.namespaceName = namespace.metadata.name;
        this.clientPolicy(name, args, namespace, formerly());
        const common = {
            production: args.production,
            namespace: args.namespace,
            images: args.images,
            storageClass: args.storageClass,
            network: args.network,
            monitoringCrds: args.monitoringCrds,
        };
        const after = (type: string) => ({ parent: this, dependsOn: [namespace], aliases: formerly(type) });
        if (args.database.enabled) {
            this.database = new Database(
                `${name}-database`,
                { ...common, config: args.database, chartVersion: args.cloudnativePgVersion },
                after("finbot:database:Database"),
            );
            this.connections.DATABASE_WRITER_URL = this.database.connection.writerUrl;
            this.connections.DATABASE_READER_URL = this.database.connection.readerUrl;
            this.connections.DATABASE_POOLED_URL = this.database.connection.pooledUrl;
        }
        if (args.cache.enabled) {
            this.cache = new Cache(`${name}-cache`, { ...common, config: args.cache }, after("finbot:cache:Cache"));
            this.connections.REDIS_URL = this.cache.url;
        }
        if (args.queue.enabled) {
            this.queue = new Queue(
                `${name}-queue`,
                {
                    ...common,
                    config: args.queue,
                    image: args.images.rabbitmq,
                    operatorManifest: args.queueOperatorManifest,
                    fetchManifest: args.fetchManifest,
                },
                after("finbot:queue:Queue"),
            );
            this.connections.AMQP_URL = this.queue.url;
        }
        for (const part of [this.database, this.cache, this.queue]) {
            if (!part) continue;
            this.footprint.requests.push(...part.footprint.requests);
            this.footprint.managed.push(...part.footprint.managed);
        }
        this.registerOutputs({ connections: this.connections });
    }

    /** Only the clients' namespaces reach the data stores. */
    private clientPolicy(name: string, args: DataTierArgs, namespace: pulumi.Resource, aliases: pulumi.Input<pulumi.Alias>[]): void {
        new k8s.networking.v1.NetworkPolicy(
            `${name}-data-ingress`,
            {
                metadata: { name: "data-ingress", namespace: args.namespace },
                spec: {
                    podSelector: {},
                    policyTypes: ["Ingress"],
                    ingress: [
                        {
                            from: [
                                {
                                    namespaceSelector: {
                                        matchExpressions: [
                                            { key: "kubernetes.io/metadata.name", operator: "In", values: args.clientNamespaces },
                                        ],
                                    },
                                },
                            ],
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [namespace], aliases },
        );
    }
}
