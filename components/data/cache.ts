import { createHash } from "node:crypto";
import { containerResources } from "../config/primitives";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CacheConfig } from "../config/data";
import { PlatformConfig } from "../config/schema";
import { redisUrl } from "./connections";
import { fromClusterNodes } from "./network";
import { redisConf } from "./redisConf";
import { ExporterContainerArgs, exporterContainer, exporterDeployment } from "./exporter";
import { podMonitor } from "../lib/cluster";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { EXPORTER_RESOURCES } from "./sizes";

export interface CacheArgs {
    /** The validated `finbot:cache`. */
    config: CacheConfig;
    /** Production: ElastiCache is protected from deletion. */
    production: boolean;
    /** Namespace of the in-cluster parts. */
    namespace: string;
    /** Images from `finbot:releases.images` (redis, redis-exporter). */
    images: Record<string, string>;
    /**
     * StorageClass of the Redis volume (with persistence on).
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * AWS network of ElastiCache (elasticache mode).
     * @default none
     */
    network?: PlatformConfig["network"];
    /**
     * When set, a PodMonitor for the exporter is created after this resource (it installs the monitoring CRDs).
     * @default no PodMonitor
     */
    monitoringCrds?: pulumi.Resource;
}

const REDIS_UID = 999; // the official image's redis user

/** redis_exporter reading the password from the `redis-auth` Secret. */
function redisExporter(image: string, address: pulumi.Input<string>): ExporterContainerArgs {
    return {
        name: "redis-exporter",
        image,
        port: 9121,
        healthPath: "/health",
        env: [
            { name: "REDIS_ADDR", value: address },
            { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "redis-auth", key: "password" } } },
        ],
    };
}

function confChecksum(config: CacheConfig): string {
    return createHash("sha256")
        .update(redisConf({ cache: config, password: "" }))
        .digest("hex")
        .slice(0, 16);
}

/**
 * Redis for sessions and query caching: in the cluster (StatefulSet with auth, memory policy,
 * redis_exporter) or ElastiCache (replication group, one node per zone, encrypted, failover).
 */
export class Cache extends pulumi.ComponentResource {
    /** `redis://` or `rediss://` URL with the password (secret). */
    public readonly url: pulumi.Output<string>;
    /** What it runs in the cluster and on AWS. */
    public readonly footprint: Footprint = emptyFootprint();

    constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:Cache", name, {}, opts);
        const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
        const target = args.config.mode === "elasticache" ? this.elasticache(name, args, password) : this.inCluster(name, args, password);
        this.url = pulumi.secret(
            pulumi.all([target.host, password.result]).apply(([host, pw]) => redisUrl({ password: pw, host, port: 6379, tls: target.tls })),
        );
        this.exporter(name, args, target, password.result);
        this.registerOutputs({ url: this.url });
    }

    private inCluster(name: string, args: CacheArgs, password: random.RandomPassword) {
        const { config, namespace } = args;
        this.footprint.requests.push({ part: "Redis", pods: 1, ...config.resources.requests });
        const labels = { "app.kubernetes.io/name": "redis", "app.kubernetes.io/part-of": "finbot" };
        // redis.conf holds requirepass: the whole file is a Secret.
        const conf = new k8s.core.v1.Secret(
            `${name}-conf`,
            {
                metadata: { name: "redis-conf", namespace, labels },
                type: "Opaque",
                stringData: { "redis.conf": password.result.apply((pw) => redisConf({ cache: config, password: pw })) },
            },
            { parent: this },
        );
        const auth = new k8s.core.v1.Secret(
            `${name}-auth`,
            { metadata: { name: "redis-auth", namespace, labels }, type: "Opaque", stringData: { password: password.result } },
            { parent: this },
        );
        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: "redis", namespace, labels },
                spec: {
                    selector: labels,
                    ports: [
                        { name: "redis", port: 6379, targetPort: "redis" },
                        { name: "metrics", port: 9121, targetPort: "metrics" },
                    ],
                },
            },
            { parent: this },
        );
        const dataVolume = config.persistence ? undefined : [{ name: "data", emptyDir: { sizeLimit: "256Mi" } }];
        new k8s.apps.v1.StatefulSet(
            `${name}-redis`,
            {
                metadata: { name: "redis", namespace, labels },
                spec: {
                    serviceName: "redis",
                    replicas: 1,
                    selector: { matchLabels: labels },
                    template: {
                        // A changed redis.conf (Secret) rolls the pod; the hash leaves the password out.
                        metadata: { labels, annotations: { "checksum/redis-conf": confChecksum(config) } },
                        spec: {
                            automountServiceAccountToken: false,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: REDIS_UID,
                                runAsGroup: REDIS_UID,
                                fsGroup: REDIS_UID,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "redis",
                                    image: args.images.redis,
                                    args: ["/etc/redis/redis.conf"],
                                    ports: [{ name: "redis", containerPort: 6379 }],
                                    resources: containerResources(config.resources),
                                    readinessProbe: {
                                        exec: {
                                            command: ["sh", "-c", 'redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG'],
                                        },
                                        periodSeconds: 5,
                                    },
                                    livenessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 10, failureThreshold: 3 },
                                    env: [{ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "redis-auth", key: "password" } } }],
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                    volumeMounts: [
                                        { name: "conf", mountPath: "/etc/redis", readOnly: true },
                                        { name: "data", mountPath: "/data" },
                                    ],
                                },
                                exporterContainer(redisExporter(args.images["redis-exporter"], "redis://localhost:6379")),
                            ],
                            volumes: [{ name: "conf", secret: { secretName: "redis-conf" } }, ...(dataVolume ?? [])],
                        },
                    },
                    volumeClaimTemplates: config.persistence
                        ? [
                              {
                                  metadata: { name: "data" },
                                  spec: {
                                      accessModes: ["ReadWriteOnce"],
                                      resources: { requests: { storage: config.storage } },
                                      ...(args.storageClass ? { storageClassName: args.storageClass } : {}),
                                  },
                              },
                          ]
                        : undefined,
                },
            },
            { parent: this, dependsOn: [conf, auth, service] },
        );
        return { host: pulumi.output(`redis.${namespace}.svc.cluster.local`), tls: false, inCluster: true };
    }

    private elasticache(name: string, args: CacheArgs, password: random.RandomPassword) {
        const { config, production, network } = args;
        if (!network) throw new Error("Cache: elasticache mode needs finbot:network (the config check requires it)");
        const ec = config.elasticache;
        this.footprint.managed.push({
            kind: "elasticache-node",
            engine: ec.engine,
            nodeType: ec.nodeType,
            count: network.availabilityZones.length,
        });
        const parent = { parent: this };
        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId: network.vpcId,
                description: "FinBot cache: only the cluster's nodes",
                ingress: [fromClusterNodes(network, 6379)],
                egress: [],
                tags: { Name: "finbot-cache" },
            },
            parent,
        );
        const subnetGroup = new aws.elasticache.SubnetGroup(
            `${name}-subnets`,
            { subnetIds: network.privateSubnetIds, description: "FinBot cache" },
            parent,
        );
        const parameterGroup = new aws.elasticache.ParameterGroup(
            `${name}-params`,
            {
                family: `${ec.engine}${ec.engineVersion.split(".")[0]}`,
                description: "FinBot cache: eviction policy",
                parameters: [{ name: "maxmemory-policy", value: config.evictionPolicy }],
            },
            parent,
        );
        const group = new aws.elasticache.ReplicationGroup(
            `${name}-group`,
            {
                replicationGroupId: "finbot-cache",
                description: "FinBot sessions and query cache",
                engine: ec.engine,
                engineVersion: ec.engineVersion,
                nodeType: ec.nodeType,
                // A primary plus one replica in each further zone.
                numCacheClusters: network.availabilityZones.length,
                preferredCacheClusterAzs: network.availabilityZones,
                automaticFailoverEnabled: true,
                multiAzEnabled: true,
                transitEncryptionEnabled: true,
                atRestEncryptionEnabled: true,
                authToken: password.result,
                authTokenUpdateStrategy: "ROTATE",
                parameterGroupName: parameterGroup.name,
                subnetGroupName: subnetGroup.name,
                securityGroupIds: [securityGroup.id],
                port: 6379,
                snapshotRetentionLimit: ec.snapshotRetentionDays,
                autoMinorVersionUpgrade: true,
                applyImmediately: false,
            },
            { parent: this, protect: production },
        );
        return { host: group.primaryEndpointAddress, tls: true, inCluster: false };
    }

    /** Metrics: the in-cluster pod has a sidecar; ElastiCache gets a redis_exporter Deployment. */
    private exporter(
        name: string,
        args: CacheArgs,
        target: { host: pulumi.Output<string>; tls: boolean; inCluster: boolean },
        password: pulumi.Output<string>,
    ): void {
        const { namespace, monitoringCrds } = args;
        if (!monitoringCrds) return;
        this.footprint.requests.push({ part: "redis_exporter", pods: 1, ...EXPORTER_RESOURCES.requests });
        const labels = { "app.kubernetes.io/name": target.inCluster ? "redis" : "redis-exporter", "app.kubernetes.io/part-of": "finbot" };
        if (!target.inCluster) {
            new k8s.core.v1.Secret(
                `${name}-exporter-auth`,
                { metadata: { name: "redis-auth", namespace }, type: "Opaque", stringData: { password } },
                { parent: this },
            );
            exporterDeployment(
                `${name}-exporter`,
                {
                    name: "redis-exporter",
                    namespace,
                    labels,
                    runAsUser: 59000,
                    container: redisExporter(args.images["redis-exporter"], pulumi.interpolate`rediss://${target.host}:6379`),
                },
                { parent: this },
            );
        }
        podMonitor(
            `${name}-pod-monitor`,
            { name: "redis", namespace, selector: { matchLabels: labels } },
            { parent: this, dependsOn: [monitoringCrds] },
        );
    }
}
