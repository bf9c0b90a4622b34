// `finbot:logging` (ELK on ECK, APM) and `finbot:errorTracking` (Sentry).
import { z } from "zod";
import { isNumber, memoryQuantity, resourcesSchema, secretString } from "./primitives";
import { parseBytes } from "./quantities";

const heapWithin = (path: string[], heapMb: unknown, limit: unknown, ctx: z.RefinementCtx) => {
    const bytes = typeof limit === "string" ? parseBytes(limit) : undefined;
    if (isNumber(heapMb) && isNumber(bytes) && heapMb * 2 ** 20 > bytes / 2) {
        ctx.addIssue({
            code: "custom",
            path,
            input: heapMb,
            message: `a heap at most half the memory limit (${Math.floor(bytes / 2 ** 21)})`,
        });
    }
};

export const loggingSchema = z
    .strictObject({
        enabled: z.boolean().default(true).describe("Install the logging stack (ECK)."),
        elasticsearch: z
            .strictObject({
                nodes: z
                    .number()
                    .int()
                    .min(1)
                    .max(30)
                    .default(1)
                    .describe("Elasticsearch nodes (production: at least 3, spread over zones)."),
                storage: memoryQuantity.default("10Gi").describe("`elasticsearch-data` volume per node."),
                heapMb: z.number().int().min(256).max(31744).default(512).describe("JVM heap per node (at most half the memory limit)."),
                resources: resourcesSchema.prefault({ requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "1Gi" } }),
            })
            .prefault({}),
        kibana: z
            .strictObject({
                replicas: z.number().int().min(1).max(10).default(1),
                resources: resourcesSchema.prefault({ requests: { cpu: "200m", memory: "768Mi" }, limits: { memory: "1Gi" } }),
            })
            .prefault({}),
        logstash: z
            .strictObject({
                replicas: z.number().int().min(1).max(10).default(1),
                heapMb: z.number().int().min(256).max(31744).default(384).describe("JVM heap per Logstash pod."),
                resources: resourcesSchema.prefault({ requests: { cpu: "200m", memory: "768Mi" }, limits: { memory: "1Gi" } }),
            })
            .prefault({}),
        apm: z
            .strictObject({
                enabled: z.boolean().default(true).describe("Elastic APM Server for traces."),
                replicas: z.number().int().min(1).max(10).default(1),
                resources: resourcesSchema.prefault({ requests: { cpu: "50m", memory: "256Mi" }, limits: { memory: "512Mi" } }),
            })
            .prefault({}),
        filebeat: z
            .strictObject({
                resources: resourcesSchema.prefault({ requests: { cpu: "50m", memory: "100Mi" }, limits: { memory: "200Mi" } }),
            })
            .prefault({}),
        retentionDays: z.number().int().min(1).max(3650).default(7).describe("Days FinBot's logs are kept (index lifecycle delete phase)."),
        rollover: z
            .strictObject({
                maxAge: z
                    .string()
                    .regex(/^\d+[dh]$/, { error: 'an Elasticsearch time unit such as "1d" or "12h"' })
                    .default("1d"),
                maxPrimaryShardSize: z
                    .string()
                    .regex(/^\d+(gb|mb)$/, { error: 'a size such as "10gb"' })
                    .default("10gb"),
            })
            .prefault({})
            .describe("When a backing index rolls over."),
    })
    .superRefine(
        (logging, ctx) => {
            const l = logging as Partial<typeof logging>;
            heapWithin(["elasticsearch", "heapMb"], l.elasticsearch?.heapMb, l.elasticsearch?.resources?.limits?.memory, ctx);
            heapWithin(["logstash", "heapMb"], l.logstash?.heapMb, l.logstash?.resources?.limits?.memory, ctx);
        },
        { when: () => true },
    )
    .prefault({});

export const errorTrackingSchema = z
    .strictObject({
        enabled: z.boolean().default(false).describe("Send FinBot's errors to Sentry."),
        organization: z.string().min(1).optional().describe("Sentry organization slug."),
        team: z.string().min(1).optional().describe("Sentry team slug owning the projects."),
        authToken: secretString().optional().describe("Sentry API token: a project and a key per service are created."),
        dsn: secretString().optional().describe("A DSN to use for every service when no token is given."),
        url: z.url().optional().describe("Sentry API URL for self-hosted Sentry. @default sentry.io"),
    })
    .superRefine(
        (tracking, ctx) => {
            const t = tracking as Partial<typeof tracking>;
            if (t.enabled !== true) return;
            if (t.authToken === undefined && t.dsn === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["authToken"],
                    input: undefined,
                    message: "an API token (or a dsn) when error tracking is enabled",
                });
            }
            if (t.authToken !== undefined) {
                for (const key of ["organization", "team"] as const) {
                    if (t[key] === undefined)
                        ctx.addIssue({
                            code: "custom",
                            path: [key],
                            input: undefined,
                            message: `the Sentry ${key} when an API token is given`,
                        });
                }
            }
        },
        { when: () => true },
    )
    .prefault({});

export type LoggingConfig = z.output<typeof loggingSchema>;
export type ErrorTrackingConfig = z.output<typeof errorTrackingSchema>;
