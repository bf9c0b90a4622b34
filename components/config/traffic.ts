// `finbot:traffic`: Gateway API load balancing (Envoy Gateway), TLS (cert-manager), CDN,
// autoscaling inputs (metrics-server, prometheus-adapter) and load tests.
import { z } from "zod";
import { duration, resourcesSchema, secretString } from "./primitives";

const hostname = z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
    error: 'a lower-case DNS domain such as "finbot.example.com"',
});

const oidcSchema = z
    .strictObject({
        issuer: z.url().describe("The identity provider's issuer URL."),
        jwksUri: z.url().describe("Where the provider publishes its signing keys (from its discovery document)."),
        clientId: z.string().min(1).describe("The platform's client id at the provider."),
        clientSecret: secretString().describe("The client secret (set with `pulumi config set --secret --path`)."),
        allowedGroups: z.array(z.string().min(1)).min(1).describe("Groups (in the groups claim) allowed in; everyone else is refused."),
        groupsClaim: z.string().min(1).default("groups").describe("ID token claim listing the user's groups."),
        scopes: z.array(z.string().min(1)).default(["openid", "email", "profile"]).describe("Scopes requested besides openid."),
        emailClaim: z.string().min(1).default("email").describe("ID token claim with the user's email: Grafana's login and email."),
        grafanaRoles: z
            .strictObject({
                admin: z.array(z.string().min(1)).default([]).describe("Groups given Grafana's Admin role."),
                editor: z.array(z.string().min(1)).default([]).describe("Groups given Grafana's Editor role."),
            })
            .prefault({})
            .describe("Grafana's roles from the groups claim; every other allowed group is a Viewer. Each group must be an allowed one."),
    })
    .describe("Single sign-on for the operator UIs (OpenID Connect).");

const pageSchema = z.strictObject({
    name: z
        .string()
        .regex(/^[a-z][a-z0-9-]{0,30}$/, { error: 'a page name such as "checkout" (lower-case letters, digits, "-")' })
        .describe("Page group: names the check, the series and the alert."),
    service: z.string().min(1).describe("The public service serving the page (its host)."),
    path: z
        .string()
        .regex(/^\/\S*$/, { error: 'an absolute URL path such as "/checkout"' })
        .describe("URL path of the page."),
    lcpBudgetMs: z.number().int().min(100).max(60000).describe("Budget for the 75th percentile of Largest Contentful Paint, in ms."),
    ttfbBudgetMs: z.number().int().min(10).max(60000).describe("Budget for the 75th percentile of Time To First Byte, in ms."),
});

export type PageConfig = z.output<typeof pageSchema>;

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
        egressGateway: z
            .strictObject({
                replicas: z
                    .number()
                    .int()
                    .min(1)
                    .max(20)
                    .default(1)
                    .describe("Proxies of the egress gateway to finbot:thirdParties (production: at least 2)."),
                resources: resourcesSchema.prefault({ requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } }),
            })
            .prefault({})
            .describe("The metered egress gateway: the only way from FinBot's pods to a third party (when finbot:thirdParties lists any)."),
        requestTimeout: duration.default("15s").describe("Per-request timeout at the gateway."),
        retries: z.number().int().min(0).max(5).default(2).describe("Retries of idempotent failures (5xx, resets) at the gateway."),
        rateLimitPerSecond: z
            .number()
            .int()
            .min(1)
            .max(1000000)
            .default(1000)
            .describe("Requests per second per route, per gateway replica."),
        operatorAccess: z
            .strictObject({
                mode: z
                    .enum(["basic-auth", "oidc"])
                    .optional()
                    .describe(
                        "How people sign in to Grafana, Prometheus, Alertmanager and Kibana at the gateway. @default oidc in production, basic-auth in staging",
                    ),
                internal: z
                    .boolean()
                    .optional()
                    .describe("Serve the operator UIs on an internal load balancer only (not the public one). @default true in production"),
                oidc: oidcSchema.optional(),
            })
            .prefault({})
            .describe("Access to the operator UIs."),
        cdn: z
            .strictObject({
                enabled: z.boolean().default(false).describe("CloudFront in front of the load balancer (production)."),
                aliases: z
                    .array(hostname)
                    .default([])
                    .describe("Domain names CloudFront serves (its ACM certificate covers them; required in production)."),
                hostedZoneId: z
                    .string()
                    .min(1)
                    .optional()
                    .describe("Route 53 zone of the domain: certificate validation, aliases, DNS-01 (required in production)."),
                logRetentionDays: z.number().int().min(1).max(3650).default(90).describe("Days CloudFront's access logs are kept."),
                rateLimitPer5Minutes: z
                    .number()
                    .int()
                    .min(100)
                    .max(2_000_000_000)
                    .default(2000)
                    .describe("Requests per client IP per 5 minutes before the web ACL blocks it."),
                staticPaths: z
                    .array(z.string().regex(/^\/[\w./-]*\*?$/, { error: 'a path pattern such as "/static/*"' }))
                    .default(["/static/*", "/assets/*"]),
                priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]).default("PriceClass_100"),
            })
            .prefault({}),
        pages: z
            .array(pageSchema)
            .default([])
            .describe("Pages whose load time is measured: a synthetic browser check each, RUM per page group, budgets and alerts."),
        pageChecks: z
            .strictObject({
                schedule: z
                    .string()
                    .regex(/^(\S+\s+){4}\S+$/, { error: 'a cron schedule such as "*/5 * * * *"' })
                    .default("*/5 * * * *")
                    .describe("How often each page is loaded by the synthetic browser check."),
            })
            .prefault({})
            .describe("Synthetic browser checks of finbot:traffic.pages (k6 with a browser)."),
        rum: z
            .strictObject({
                enabled: z.boolean().default(true).describe("Accept page-load data from browsers at APM Server's RUM intake (needs APM)."),
                allowedOrigins: z
                    .array(z.url())
                    .default([])
                    .describe("Origins whose pages may send RUM data (CORS). @default the public services' https://<name>.<domain>"),
                eventRateLimit: z.number().int().min(1).max(100000).default(300).describe("RUM events per second per client IP."),
            })
            .prefault({})
            .describe("Real user monitoring through APM Server's RUM intake, on its own host."),
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
export type OidcConfig = z.output<typeof oidcSchema>;

/** How the operator UIs are reached, with the environment's defaults filled in. */
export function operatorAccessOf(
    traffic: TrafficConfig,
    production: boolean,
): { mode: "basic-auth" | "oidc"; internal: boolean; oidc?: OidcConfig } {
    const access = traffic.operatorAccess;
    return { mode: access.mode ?? (production ? "oidc" : "basic-auth"), internal: access.internal ?? production, oidc: access.oidc };
}
