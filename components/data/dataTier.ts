import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CacheConfig, DatabaseConfig, QueueConfig } from "../config/data";
import { CertificateIssuer } from "../lib/certificates";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { ManifestFetcher, PinnedManifest } from "../lib/manifest";
import { podSecurityLabels } from "../lib/namespace";
import { NamespaceFlows, namespacePolicies } from "../lib/networkPolicy";
import { AwsPlacement, POSTGRES_CLIENT_LABEL } from "./aurora";
import { parseDuration } from "../config/quantities";
import { Cache, REDIS_CLIENT_LABEL } from "./cache";
import { Connections } from "./connections";
import { Database } from "./database";
import { OwnDatabase } from "./postgresRoles";
import { KEDA_QUEUE_USER, QUEUE_OPERATORS_NAMESPACE, Queue } from "./queue";

/** A service or worker, with what it uses of the data tier. */
export interface DataConsumer {
    name: string;
    uses: { database: "none" | "read" | "readWrite"; cache: boolean; cacheTtl: string; publishes: string[] };
    /** The queue a worker consumes. */
    consumes?: string;
}

export interface DataTierArgs {
    /** The validated `finbot:database`. */
    database: DatabaseConfig;
    /** The validated `finbot:cache`. */
    cache: CacheConfig;
    /** The validated `finbot:queue`. */
    queue: QueueConfig;
    /** Production sizing, spreading, TLS and protection. */
    production: boolean;
    /** Namespace of the in-cluster parts (the platform creates it). */
    namespace: string;
    /** That namespace, which every part waits for. */
    namespaceResource: pulumi.Resource;
    /** Namespace of FinBot's services and workers. */
    clientNamespace: string;
    /**
     * The allowed flows of `rabbitmq-system`, which the operators' manifest creates (everything else is denied).
     * @default no policies there
     */
    operatorFlows?: NamespaceFlows;
    /** Every service and worker, with what it uses: each gets credentials for that only. */
    consumers: DataConsumer[];
    /**
     * Platform parts with a PostgreSQL database of their own (Grafana's state, aurora mode).
     * @default none
     */
    ownDatabases?: OwnDatabase[];
    /** Images from `finbot:releases.images`. */
    images: Record<string, string>;
    /** Exact version of the cloudnative-pg chart. */
    cloudnativePgVersion: string;
    /** Exact version of the plugin-barman-cloud chart (PostgreSQL backups). */
    backupPluginChartVersion: string;
    /** The RabbitMQ operators' release manifests with their pinned SHA-256. */
    queueOperatorManifest: PinnedManifest;
    /** The messaging-topology operator's release manifest. */
    topologyOperatorManifest: PinnedManifest;
    /** Downloads release manifests (the program) or stands in for them (the offline plan). */
    fetchManifest: ManifestFetcher;
    /** Issues the data stores' server certificates. */
    issuer: CertificateIssuer;
    /**
     * StorageClass of the volumes.
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * VPC and EKS cluster of the managed stores.
     * @default none (in-cluster stores only)
     */
    aws?: AwsPlacement;
    /**
     * The resource installing the monitoring CRDs; monitors are created after it.
     * @default no monitors
     */
    monitoringCrds?: pulumi.Resource;
}

/**
 * FinBot's data tier: PostgreSQL, Redis and RabbitMQ in their namespace (default deny, then the
 * flows that exist), and for each service and worker the connection settings of what it uses,
 * each with credentials of its own. Its children keep the names and, through aliases, the
 * identities they had directly under the platform, so introducing this component replaced nothing.
 */
export class DataTier extends pulumi.ComponentResource {
    /** Each consumer's connection URLs (secrets), only those it uses. */
    public readonly connections: Record<string, Connections> = {};
    /** KEDA's AMQP URL (reads queue lengths only), when there is a queue. */
    public readonly kedaAmqpUrl?: pulumi.Output<string>;
    public readonly database?: Database;
    public readonly cache?: Cache;
    public readonly queue?: Queue;
    /** What the data tier runs, in the cluster and on AWS. */
    public readonly footprint: Footprint = emptyFootprint();

    constructor(name: string, args: DataTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:DataTier", name, {}, opts);
        // Where these resources lived before the data tier was a component of its own.
        const formerly = (type: string) => [{ parent: opts?.parent ?? pulumi.rootStackResource, type }];
        const namespace = args.namespaceResource;
        const common = {
            production: args.production,
            namespace: args.namespace,
            clientNamespace: args.clientNamespace,
            images: args.images,
            storageClass: args.storageClass,
            aws: args.aws,
            issuer: args.issuer,
            monitoringCrds: args.monitoringCrds,
        };
        const after = (type: string) => ({ parent: this, dependsOn: [namespace], aliases: formerly(type) });
        const consumers = args.consumers;
        if (args.database.enabled) {
            this.database = new Database(
                `${name}-database`,
                {
                    ...common,
                    config: args.database,
                    chartVersion: args.cloudnativePgVersion,
                    backupPluginChartVersion: args.backupPluginChartVersion,
                    ownDatabases: args.ownDatabases,
                    fetchManifest: args.fetchManifest,
                    consumers: consumers
                        .filter((c) => c.uses.database !== "none")
                        .map((c) => ({ name: c.name, access: c.uses.database as "read" | "readWrite" })),
                },
                after("finbot:database:Database"),
            );
        }
        if (args.cache.enabled) {
            this.cache = new Cache(
                `${name}-cache`,
                {
                    ...common,
                    config: args.cache,
                    consumers: consumers
                        .filter((c) => c.uses.cache)
                        .map((c) => ({ name: c.name, maxTtlSeconds: parseDuration(c.uses.cacheTtl) ?? 3600 })),
                },
                after("finbot:cache:Cache"),
            );
        }
        if (args.queue.enabled) {
            this.queue = new Queue(
                `${name}-queue`,
                {
                    ...common,
                    config: args.queue,
                    image: args.images.rabbitmq,
                    curlImage: args.images.curl,
                    operatorManifest: args.queueOperatorManifest,
                    topologyOperatorManifest: args.topologyOperatorManifest,
                    fetchManifest: args.fetchManifest,
                    consumers: consumers
                        .filter((c) => c.uses.publishes.length > 0 || c.consumes)
                        .map((c) => ({ name: c.name, publishes: c.uses.publishes, consumes: c.consumes ? [c.consumes] : [] })),
                },
                after("finbot:queue:Queue"),
            );
            this.kedaAmqpUrl = this.queue.connections[KEDA_QUEUE_USER]?.AMQP_URL;
            // The operators' manifest creates rabbitmq-system without a Pod Security label: the
            // program labels it as it labels its own operator namespaces. Its policies follow it too.
            new k8s.core.v1.NamespacePatch(
                `${name}-rabbitmq-system-pod-security`,
                { metadata: { name: QUEUE_OPERATORS_NAMESPACE, labels: podSecurityLabels("baseline") } },
                { parent: this, dependsOn: [this.queue.operators] },
            );
            const operatorFlows = args.operatorFlows;
            if (operatorFlows)
                namespacePolicies(`${name}-rabbitmq-system-network`, operatorFlows, { parent: this, dependsOn: [this.queue.operators] });
        }
        for (const consumer of consumers) {
            this.connections[consumer.name] = {
                ...this.database?.connections[consumer.name],
                ...this.cache?.connections[consumer.name],
                ...this.queue?.connections[consumer.name],
            };
        }
        for (const part of [this.database, this.cache, this.queue]) {
            if (!part) continue;
            this.footprint.requests.push(...part.footprint.requests);
            this.footprint.managed.push(...part.footprint.managed);
        }
        this.registerOutputs({});
    }

    /** Labels a consumer's pods carry so that AWS security groups for pods admit them to what they use. */
    public podLabels(consumer: DataConsumer): Record<string, string> {
        return {
            ...(consumer.uses.database !== "none" && this.database ? POSTGRES_CLIENT_LABEL : {}),
            ...(consumer.uses.cache && this.cache ? REDIS_CLIENT_LABEL : {}),
        };
    }
}
