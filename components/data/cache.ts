import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CacheConfig } from "../config/data";
import { containerResources } from "../config/primitives";
import { clusterServiceHost } from "../lib/services";
import { podMonitor } from "../lib/monitors";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { AwsPlacement } from "./aurora";
import { Connections, redisUrl } from "./connections";
import { ExporterContainerArgs, exporterContainer, exporterDeployment } from "./exporter";
import { EXPORTER_ACL, HEALTHCHECK_ACL, RedisUser, consumerAcl, redisConf } from "./redisConf";
import { EXPORTER_RESOURCES } from "../lib/sizes";
import { clientSecurityGroupPolicies } from "./network";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";
import { hardenedContainer } from "../lib/security";
import { REDIS, REDIS_METRICS } from "./ports";

export interface CacheArgs {
    /** The validated `finbot:cache`. */
    config: CacheConfig;
    /** Production: ElastiCache is protected from deletion. */
    production: boolean;
    /** Namespace of the in-cluster parts. */
    namespace: string;
    /** Namespace of FinBot's services (their pods get the client security group on AWS). */
    clientNamespace: string;
    /** Images from `finbot:releases.images` (redis, redis-exporter). */
    images: Record<string, string>;
    /** The services and workers that use the cache: each gets its own user under its own key prefix, with its TTL policy. */
    consumers: CacheConsumer[];
    /**
     * StorageClass of the Redis volume (with persistence on).
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * VPC and EKS cluster (elasticache mode).
     * @default none
     */
    aws?: AwsPlacement;
    /**
     * When set, a PodMonitor for the exporter is created after this resource (it installs the monitoring CRDs).
     * @default no PodMonitor
     */
    monitoringCrds?: pulumi.Resource;
}

const REDIS_UID = 999; // the official image's redis user
/** A service or worker that uses the cache, and how long its entries may live (seconds). */
export interface CacheConsumer {
    name: string;
    maxTtlSeconds: number;
}

/** The key prefix a consumer's user may touch (its ACL) and its entries live under. */
const keyPrefix = (consumer: string) => `${consumer}:`;

/**
 * redis_exporter counts keys (and their memory) per prefix, the part before the first `:`
 * (`--check-key-groups`, a Lua pattern; it SCANs the keyspace on each scrape, in batches).
 */
export const KEY_GROUPS = "^([^:]+):";

/** Pods carrying this label get the security group ElastiCache admits (security groups for pods). */
export const REDIS_CLIENT_LABEL = { "finbot.io/redis-client": "true" };
const EXPORTER_USER = "exporter";
const HEALTHCHECK_USER = "healthcheck";

/** redis_exporter signing in as its own user, its password from the `redis-exporter` Secret. */
function redisExporter(image: string, address: pulumi.Input<string>): ExporterContainerArgs {
    return {
        name: "redis-exporter",
        image,
        port: REDIS_METRICS,
        healthPath: "/health",
        args: [`--check-key-groups=${KEY_GROUPS}`],
        env: [
            { name: "REDIS_ADDR", value: address },
            { name: "REDIS_USER", value: EXPORTER_USER },
            { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "redis-exporter", key: "password" } } },
        ],
    };
}

/** A Redis user as the program generates it: its password still an output. */
type CacheUser = Omit<RedisUser, "password"> & { password: pulumi.Output<string> };

/** A changed redis.conf (a Secret) must roll the pod: a hash of it, leaving the passwords out. */
function redisConfChecksum(config: CacheConfig, users: Array<{ name: string; rules: string }>): string {
    return createHash("sha256")
        .update(redisConf({ cache: config, users: users.map((u) => ({ name: u.name, password: "", rules: u.rules })) }))
        .digest("hex")
        .slice(0, 16);
}

/**
 * Redis for sessions and query caching: in the cluster (StatefulSet, ACL users, memory policy,
 * redis_exporter) or ElastiCache (replication group, one node per zone, encrypted, failover, RBAC
 * users). Every consumer signs in as its own user, limited to keys and channels under `<name>:`.
 */
export class Cache extends pulumi.ComponentResource {
    /** Each consumer's `REDIS_URL` (secret). */
    public readonly connections: Record<string, Connections>;
    /** What it runs in the cluster and on AWS. */
    public readonly footprint: Footprint = emptyFootprint();

    constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:Cache", name, {}, opts);
        const users: CacheUser[] = [
            ...args.consumers.map((c) => ({ name: c.name, rules: consumerAcl(c.name) })),
            { name: EXPORTER_USER, rules: EXPORTER_ACL },
            { name: HEALTHCHECK_USER, rules: HEALTHCHECK_ACL },
        ].map((u) => ({
            ...u,
            password: new random.RandomPassword(`${name}-user-${u.name}`, { length: 32, special: false }, { parent: this }).result,
        }));
        const password = (user: string) => users.find((u) => u.name === user)?.password ?? pulumi.output("");
        new k8s.core.v1.Secret(
            `${name}-exporter-auth`,
            {
                metadata: { name: "redis-exporter", namespace: args.namespace },
                type: "Opaque",
                stringData: { password: password(EXPORTER_USER) },
            },
            { parent: this },
        );
        const target = args.config.mode === "elasticache" ? this.elasticache(name, args, users) : this.inCluster(name, args, users);
        this.connections = Object.fromEntries(
            args.consumers.map((c) => [
                c.name,
                {
                    REDIS_URL: pulumi.secret(
                        pulumi
                            .all([target.host, password(c.name)])
                            .apply(([host, pw]) => redisUrl({ user: c.name, password: pw, host, port: REDIS, tls: target.tls })),
                    ),
                    // Its TTL policy: every key it writes lives under its prefix and expires within this.
                    REDIS_KEY_PREFIX: pulumi.output(keyPrefix(c.name)),
                    REDIS_MAX_TTL_SECONDS: pulumi.output(String(c.maxTtlSeconds)),
                },
            ]),
        );
        this.exporter(name, args, target);
        this.registerOutputs({});
    }

    private inCluster(name: string, args: CacheArgs, users: CacheUser[]) {
        const { config, namespace } = args;
        this.footprint.requests.push({ part: "Redis", pods: 1, ...config.resources.requests });
        const labels = { "app.kubernetes.io/name": "redis", "app.kubernetes.io/part-of": "finbot" };
        // redis.conf holds the users' password hashes: the whole file is a Secret.
        const conf = new k8s.core.v1.Secret(
            `${name}-conf`,
            {
                metadata: { name: "redis-conf", namespace, labels },
                type: "Opaque",
                stringData: {
                    "redis.conf": pulumi.all(users.map((u) => u.password)).apply((pws) =>
                        redisConf({
                            cache: config,
                            users: users.map((u, i): RedisUser => ({ name: u.name, password: pws[i], rules: u.rules })),
                        }),
                    ),
                },
            },
            { parent: this },
        );
        const health = new k8s.core.v1.Secret(
            `${name}-auth`,
            {
                metadata: { name: "redis-healthcheck", namespace, labels },
                type: "Opaque",
                stringData: { password: users.find((u) => u.name === HEALTHCHECK_USER)?.password ?? "" },
            },
            { parent: this },
        );
        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: "redis", namespace, labels },
                spec: {
                    selector: labels,
                    ports: [
                        { name: "redis", port: REDIS, targetPort: "redis" },
                        { name: "metrics", port: REDIS_METRICS, targetPort: "metrics" },
                    ],
                },
            },
            { parent: this },
        );
        const checksum = redisConfChecksum(config, users);
        const dataVolume = config.persistence ? [] : [{ name: "data", emptyDir: { sizeLimit: "256Mi" } }];
        new k8s.apps.v1.StatefulSet(
            `${name}-redis`,
            {
                metadata: { name: "redis", namespace, labels },
                spec: {
                    serviceName: "redis",
                    replicas: 1,
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels, annotations: { "checksum/redis-conf": checksum } },
                        spec: {
                            automountServiceAccountToken: false,
                            priorityClassName: PLATFORM_CRITICAL,
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
                                    ports: [{ name: "redis", containerPort: REDIS }],
                                    resources: containerResources(config.resources),
                                    readinessProbe: {
                                        exec: {
                                            command: [
                                                "sh",
                                                "-c",
                                                `redis-cli --user ${HEALTHCHECK_USER} -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG`,
                                            ],
                                        },
                                        periodSeconds: 5,
                                    },
                                    livenessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 10, failureThreshold: 3 },
                                    env: [
                                        {
                                            name: "REDIS_PASSWORD",
                                            valueFrom: { secretKeyRef: { name: "redis-healthcheck", key: "password" } },
                                        },
                                    ],
                                    securityContext: hardenedContainer(),
                                    volumeMounts: [
                                        { name: "conf", mountPath: "/etc/redis", readOnly: true },
                                        { name: "data", mountPath: "/data" },
                                    ],
                                },
                                exporterContainer(redisExporter(args.images["redis-exporter"], `redis://localhost:${REDIS}`)),
                            ],
                            volumes: [{ name: "conf", secret: { secretName: "redis-conf" } }, ...dataVolume],
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
            { parent: this, dependsOn: [conf, health, service] },
        );
        return { host: pulumi.output(clusterServiceHost("redis", namespace)), tls: false, inCluster: true };
    }

    /**
     * ElastiCache with RBAC users (the default user disabled), reachable only from pods of the client
     * security group (security groups for pods), every rule its own resource.
     */
    private elasticache(name: string, args: CacheArgs, users: CacheUser[]) {
        const { config, production } = args;
        const placement = args.aws;
        if (!placement) throw new Error("Cache: elasticache mode needs finbot:network and finbot:cluster (the config check requires them)");
        const { network } = placement;
        const ec = config.elasticache;
        this.footprint.managed.push({
            kind: "elasticache-node",
            engine: ec.engine,
            nodeType: ec.nodeType,
            count: network.availabilityZones.length,
        });
        const parent = { parent: this };
        const securityGroup = this.cacheSecurityGroups(name, args, network);
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
        const userGroup = this.rbacUsers(name, ec.engine, users);
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
                userGroupIds: [userGroup.userGroupId],
                parameterGroupName: parameterGroup.name,
                subnetGroupName: subnetGroup.name,
                securityGroupIds: [securityGroup.id],
                port: REDIS,
                snapshotRetentionLimit: ec.snapshotRetentionDays,
                snapshotWindow: "02:00-03:00",
                finalSnapshotIdentifier: "finbot-cache-final",
                autoMinorVersionUpgrade: true,
                applyImmediately: false,
            },
            { parent: this, protect: production },
        );
        return { host: group.primaryEndpointAddress, tls: true, inCluster: false };
    }

    /** Its own security group, admitting only the clients' group, which pods of both namespaces get. */
    private cacheSecurityGroups(name: string, args: CacheArgs, network: AwsPlacement["network"]): aws.ec2.SecurityGroup {
        const parent = { parent: this };
        const clients = new aws.ec2.SecurityGroup(
            `${name}-clients-sg`,
            {
                vpcId: network.vpcId,
                description: "FinBot cache clients (security groups for pods)",
                tags: { Name: "finbot-cache-clients" },
            },
            parent,
        );
        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { vpcId: network.vpcId, description: "FinBot cache: only its clients", tags: { Name: "finbot-cache" } },
            parent,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-from-clients`,
            {
                securityGroupId: securityGroup.id,
                referencedSecurityGroupId: clients.id,
                ipProtocol: "tcp",
                fromPort: REDIS,
                toPort: REDIS,
                description: "cache clients",
            },
            parent,
        );
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-clients-to-cache`,
            {
                securityGroupId: clients.id,
                referencedSecurityGroupId: securityGroup.id,
                ipProtocol: "tcp",
                fromPort: REDIS,
                toPort: REDIS,
                description: "the cache",
            },
            parent,
        );
        clientSecurityGroupPolicies(
            `${name}-pod-sg`,
            {
                name: "redis-clients",
                namespaces: [args.clientNamespace, args.namespace],
                podLabels: REDIS_CLIENT_LABEL,
                groupIds: [clients.id, network.nodeSecurityGroupId],
            },
            parent,
        );
        return securityGroup;
    }

    /** The RBAC users (the required "default" one can do nothing) in one user group. */
    private rbacUsers(name: string, engine: string, users: CacheUser[]): aws.elasticache.UserGroup {
        const parent = { parent: this };
        // Every user group needs a user called "default": this one can do nothing.
        const rbac = [
            new aws.elasticache.User(
                `${name}-user-default`,
                {
                    userId: "finbot-default-off",
                    userName: "default",
                    engine,
                    accessString: "off -@all",
                    noPasswordRequired: true,
                },
                parent,
            ),
            ...users
                .filter((u) => u.name !== "healthcheck")
                .map(
                    (u) =>
                        new aws.elasticache.User(
                            `${name}-user-${u.name}`,
                            {
                                userId: `finbot-${u.name}`,
                                userName: u.name,
                                engine,
                                accessString: `on ${u.rules}`,
                                authenticationMode: { type: "password", passwords: [u.password] },
                            },
                            parent,
                        ),
                ),
        ];
        return new aws.elasticache.UserGroup(
            `${name}-users`,
            { userGroupId: "finbot-cache-users", engine, userIds: rbac.map((u) => u.userId) },
            parent,
        );
    }

    /** Metrics: the in-cluster pod has a sidecar; ElastiCache gets a redis_exporter Deployment. */
    private exporter(name: string, args: CacheArgs, target: { host: pulumi.Output<string>; tls: boolean; inCluster: boolean }): void {
        const { namespace, monitoringCrds } = args;
        if (!monitoringCrds) return;
        this.footprint.requests.push({ part: "redis_exporter", pods: 1, ...EXPORTER_RESOURCES.requests });
        const labels = { "app.kubernetes.io/name": target.inCluster ? "redis" : "redis-exporter", "app.kubernetes.io/part-of": "finbot" };
        if (!target.inCluster) {
            exporterDeployment(
                `${name}-exporter`,
                {
                    name: "redis-exporter",
                    namespace,
                    labels,
                    podLabels: REDIS_CLIENT_LABEL,
                    runAsUser: 59000,
                    container: redisExporter(args.images["redis-exporter"], pulumi.interpolate`rediss://${target.host}:${REDIS}`),
                },
                { parent: this },
            );
        }
        podMonitor(
            `${name}-pod-monitor`,
            { name: "redis", namespace, selector: { matchLabels: labels }, limits: SCRAPE_LIMITS.redis },
            { parent: this, dependsOn: [monitoringCrds] },
        );
    }
}
