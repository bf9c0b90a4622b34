// `finbot:traffic`: Gateway API load balancing (Envoy Gateway), TLS (cert-manager), CDN,
// autoscaling inputs (metrics-server, prometheus-adapter) and load tests.
import { z } from "zod";
import { duration, resourcesSchema } from "./primitives";

const hostname = z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
    error: 'a lower-case DNS domain such as "finbot.example.com"',
});

export const trafficSchema = z
    .strictObject({
        enabled: z.boolean().default(true).describe("Install the gateway and route public traffic through it."),
        domain: hostname
            .default("finbot.localtest.me")
            .describe("Services are served at <name>.<domain>; Grafana, Kibana, Prometheus, Alertmanager likewise."),
        tls: z
            .strictObject({
                issuer: z
                    .enum(["acme", "self-signed"])
                    .optional()
                    .describe("Certificate issuer. @default acme in production, self-signed in staging"),
                acmeEmail: z.email().optional().describe("ACME account email (required for acme)."),
                acmeServer: z.url().default("https://acme-v02.api.letsencrypt.org/directory"),
            })
            .prefault({}),
        gateway: z
            .strictObject({
                replicas: z.number().int().min(1).max(20).default(1).describe("Envoy proxy replicas (production: at least 2)."),
                resources: resourcesSchema.prefault({ requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } }),
            })
            .prefault({}),
        requestTimeout: duration.default("15s").describe("Per-request timeout at the gateway."),
        retries: z.number().int().min(0).max(5).default(2).describe("Retries of idempotent failures (5xx, resets) at the gateway."),
        rateLimitPerSecond: z
            .number()
            .int()
            .min(1)
            .max(1000000)
            .default(1000)
            .describe("Requests per second per route, per gateway replica."),
        cdn: z
            .strictObject({
                enabled: z.boolean().default(false).describe("CloudFront in front of the load balancer (production)."),
                staticPaths: z
                    .array(z.string().regex(/^\/[\w./-]*\*?$/, { error: 'a path pattern such as "/static/*"' }))
                    .default(["/static/*", "/assets/*"]),
                priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]).default("PriceClass_100"),
            })
            .prefault({}),
        metricsServer: z.boolean().default(true).describe("Install metrics-server (off where the cluster already has it)."),
        loadTest: z
            .strictObject({
                enabled: z.boolean().default(false).describe("Run a k6 load test Job per public service (staging only)."),
                virtualUsers: z.number().int().min(1).max(5000).default(20),
                duration: duration.default("5m"),
            })
            .prefault({}),
    })
    .prefault({});

export type TrafficConfig = z.output<typeof trafficSchema>;
