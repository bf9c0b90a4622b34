// The data tier's config: `finbot:database`, `finbot:cache`, `finbot:queue` and `finbot:workers`.
// One switch per part chooses in-cluster or AWS-managed; services see the same contract either way.
import { z } from "zod";
import { dnsLabel, duration, isNumber, memoryQuantity, resourcesSchema } from "./primitives";
import { parseBytes } from "./quantities";

const poolerSchema = z
    .strictObject({
        instances: z.number().int().min(1).max(10).default(1).describe("PgBouncer pods per pooler (read-write and read-only)."),
        defaultPoolSize: z.number().int().min(1).max(1000).default(20).describe("Server connections per user/database pair."),
        maxClientConnections: z.number().int().min(10).max(100000).default(1000).describe("Client connections a pooler accepts."),
    })
    .prefault({});

const awsRegion = z.string().regex(/^[a-z]{2}-[a-z]+-\d$/, { error: 'an AWS region such as "eu-west-1"' });

/** Aurora PostgreSQL (production): a Multi-AZ writer and readers that follow load behind the reader endpoint. */
const auroraSchema = z
    .strictObject({
        instanceClass: z
            .string()
            .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { error: 'an instance class such as "db.r6g.large"' })
            .default("db.r6g.large")
            .describe("Class of the writer and every reader."),
        engineVersion: z
            .string()
            .regex(/^\d+\.\d+$/, { error: 'an Aurora PostgreSQL version such as "17.6"' })
            .default("17.6")
            .describe("Aurora PostgreSQL version."),
        readers: z
            .strictObject({
                min: z.number().int().min(1).max(15).default(2).describe("Readers always running (in other zones than the writer)."),
                max: z.number().int().min(1).max(15).default(8).describe("Readers Application Auto Scaling may add up to."),
                targetCpuPercent: z.number().int().min(10).max(90).default(60).describe("Average reader CPU the scaling aims for."),
            })
            .prefault({})
            .describe("Readers behind the reader endpoint, scaled on their average CPU."),
        readQueriesPerSecondPerReader: z
            .number()
            .positive()
            .optional()
            .describe(
                "Measured read queries/s one reader serves at the scaling target (pgbench -S, docs/capacity.md): the database's 10x check.",
            ),
        backupRetentionDays: z
            .number()
            .int()
            .min(1)
            .max(35)
            .default(14)
            .describe("Automated backups with point-in-time recovery (production: at least 14)."),
        backupCopyRegion: awsRegion.optional().describe("Second region AWS Backup copies each backup to (required in production)."),
        backupCopyRetentionDays: z
            .number()
            .int()
            .min(7)
            .max(3650)
            .default(35)
            .describe("How long the copies in the second region are kept."),
        logRetentionDays: z
            .union(
                [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365].map((d) => z.literal(d)) as [z.ZodLiteral<1>, ...z.ZodLiteral<number>[]],
            )
            .default(30)
            .describe("Days the PostgreSQL log is kept in CloudWatch."),
        performanceInsightsRetentionDays: z.number().int().min(7).max(731).default(7).describe("Performance Insights retention."),
        monitoringIntervalSeconds: z
            .union([z.literal(1), z.literal(5), z.literal(10), z.literal(15), z.literal(30), z.literal(60)])
            .default(60)
            .describe("Enhanced monitoring interval."),
    })
    .prefault({});

export const databaseSchema = z
    .strictObject({
        enabled: z.boolean().default(true).describe("Provision PostgreSQL for FinBot."),
        mode: z
            .enum(["in-cluster", "aurora"])
            .default("in-cluster")
            .describe("CloudNativePG in the cluster, or Aurora PostgreSQL (requires finbot:network)."),
        name: dnsLabel(30).default("finbot").describe("Database and owner name."),
        readReplicas: z.number().int().min(0).max(5).default(1).describe("Streaming read replicas besides the primary (in-cluster)."),
        storage: memoryQuantity.default("5Gi").describe("Volume per instance (in-cluster)."),
        resources: resourcesSchema
            .prefault({ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } })
            .describe("Per instance (in-cluster)."),
        pooler: poolerSchema.describe("PgBouncer poolers, transaction mode (in-cluster); RDS Proxy pools in aurora mode."),
        slowQueryMs: z
            .number()
            .int()
            .min(10)
            .max(600000)
            .default(500)
            .describe("log_min_duration_statement, and the slow-query alert threshold."),
        aurora: auroraSchema.describe("Aurora settings (aurora mode)."),
    })
    .prefault({});

const elasticacheSchema = z
    .strictObject({
        engine: z.enum(["valkey", "redis"]).default("valkey"),
        engineVersion: z
            .string()
            .regex(/^\d+\.\d+$/, { error: 'an engine version such as "8.0"' })
            .default("8.0"),
        nodeType: z
            .string()
            .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { error: 'a node type such as "cache.r7g.large"' })
            .default("cache.r7g.large"),
        snapshotRetentionDays: z.number().int().min(0).max(35).default(7),
    })
    .prefault({});

export const EVICTION_POLICIES = [
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "volatile-lru",
    "volatile-lfu",
    "allkeys-random",
    "volatile-random",
    "volatile-ttl",
] as const;

export const cacheSchema = z
    .strictObject({
        enabled: z.boolean().default(true).describe("Provision Redis for sessions and query caching."),
        mode: z
            .enum(["in-cluster", "elasticache"])
            .default("in-cluster")
            .describe("Redis in the cluster, or ElastiCache (requires finbot:network)."),
        maxMemoryMb: z
            .number()
            .int()
            .min(16)
            .max(1048576)
            .default(128)
            .describe("maxmemory (in-cluster); the container limit leaves room above it."),
        evictionPolicy: z
            .enum(EVICTION_POLICIES)
            .default("volatile-lru")
            .describe("maxmemory-policy: volatile-lru evicts cached keys (with a TTL) before sessions without one."),
        persistence: z.boolean().default(false).describe("Append-only file on a volume (in-cluster)."),
        storage: memoryQuantity.default("1Gi").describe("Volume size when persistence is on."),
        resources: resourcesSchema.prefault({ requests: { cpu: "50m", memory: "160Mi" }, limits: { memory: "192Mi" } }),
        elasticache: elasticacheSchema,
    })
    .superRefine(
        (cache, ctx) => {
            const c = cache as Partial<typeof cache>;
            const limit = typeof c.resources?.limits?.memory === "string" ? c.resources.limits.memory : undefined;
            const bytes = limit ? parseBytes(limit) : undefined;
            if (isNumber(c.maxMemoryMb) && isNumber(bytes) && c.maxMemoryMb * 2 ** 20 * 1.2 > bytes) {
                ctx.addIssue({
                    code: "custom",
                    path: ["maxMemoryMb"],
                    input: c.maxMemoryMb,
                    message: `at most ${Math.floor(bytes / 2 ** 20 / 1.2)} (limits.memory ${limit} must exceed maxmemory by 20% for Redis' overhead)`,
                });
            }
        },
        { when: () => true },
    )
    .prefault({});

const queueNameSchema = z.string().regex(/^[a-z][a-z0-9._-]{0,100}$/, { error: 'a queue name such as "payments.settle"' });

export const queueSchema = z
    .strictObject({
        enabled: z.boolean().default(true).describe("Provision RabbitMQ."),
        replicas: z
            .union([z.literal(1), z.literal(3), z.literal(5)])
            .default(1)
            .describe("RabbitMQ nodes (1, or an odd number for quorum queues)."),
        storage: memoryQuantity.default("2Gi").describe("Volume per node."),
        resources: resourcesSchema.prefault({ requests: { cpu: "100m", memory: "384Mi" }, limits: { memory: "512Mi" } }),
        queues: z
            .array(
                z.strictObject({
                    name: queueNameSchema,
                    maxLength: z
                        .number()
                        .int()
                        .min(1)
                        .max(100_000_000)
                        .default(100_000)
                        .describe("Messages kept before publishers are refused."),
                    deliveryLimit: z.number().int().min(1).max(100).default(5).describe("Redeliveries before a message is dead-lettered."),
                }),
            )
            .default([])
            .describe("Quorum queues FinBot uses; each gets a dead-letter queue `<name>.dlq`."),
    })
    .prefault({});

/**
 * What a service or worker uses of the data tier: its `<name>-connections` Secret holds only these,
 * each with credentials that can do only this.
 */
export const usesSchema = z
    .strictObject({
        database: z
            .enum(["none", "read", "readWrite"])
            .default("none")
            .describe("PostgreSQL: its own schema read-write (and a reader URL), read only, or none."),
        cache: z.boolean().default(false).describe("Redis, under the key prefix `<name>:`."),
        cacheTtl: duration
            .default("1h")
            .describe(
                "Its cache entries' TTL policy: every key under its prefix expires within this (REDIS_MAX_TTL_SECONDS in its connections Secret); keys written without one show as keys without expiry.",
            ),
        publishes: z
            .array(queueNameSchema)
            .default([])
            .describe("Queues it publishes to, each through its exchange `finbot.publish.<queue>` (routing key: the queue's name)."),
    })
    .prefault({})
    .describe("What it uses of the data tier. @default nothing");

export const workerSchema = z.strictObject({
    name: dnsLabel(40).describe("Deployment and ScaledObject name."),
    image: z.string().min(1).describe("Key of `finbot:releases.images`."),
    queue: queueNameSchema.describe("Queue (of finbot:queue.queues) whose length drives scaling."),
    args: z.array(z.string()).optional(),
    replicas: z.strictObject({
        min: z.number().int().min(0).max(1000).describe("Minimum replicas; 0 (scale to zero) only in staging."),
        max: z.number().int().min(1).max(1000),
    }),
    messagesPerReplica: z.number().int().min(1).max(100000).default(20).describe("Target ready messages per replica."),
    resources: resourcesSchema,
    uses: usesSchema.describe("What it uses of the data tier besides consuming its queue. @default nothing"),
    health: z
        .strictObject({
            liveness: z.string().regex(/^\/\S*$/, { error: 'an absolute HTTP path such as "/healthz"' }),
            port: z.number().int().min(1).max(65535),
        })
        .describe("HTTP liveness endpoint of the worker: a hung consumer holds its messages unacknowledged, and is restarted."),
});

export type DatabaseConfig = z.output<typeof databaseSchema>;
export type CacheConfig = z.output<typeof cacheSchema>;
export type QueueConfig = z.output<typeof queueSchema>;
export type WorkerConfig = z.output<typeof workerSchema>;
