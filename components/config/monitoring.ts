// `finbot:monitoring`: Prometheus, Alertmanager, Grafana, uptime probes and alert routing.
import { z } from "zod";
import { duration, isNumber, memoryQuantity, resourcesSchema, secretString } from "./primitives";
import { parseBytes, parsePrometheusSize } from "./quantities";

// Prometheus' own size format for retentionSize, as the operator validates it.
const prometheusByteSize = z
    .string()
    .regex(/^(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$/, { error: 'a Prometheus size such as "8GB" or "500MiB"' });

const prometheusSchema = z
    .strictObject({
        replicas: z.number().int().min(1).max(5).default(1).describe("Prometheus replicas (production: at least 2)."),
        retention: duration.default("7d").describe("How long samples are kept."),
        retentionSize: prometheusByteSize.optional().describe("Cap on the TSDB size. @default 85% of storage"),
        storage: memoryQuantity.default("10Gi").describe("Volume size per replica."),
        scrapeInterval: duration.default("30s").describe("Default scrape interval."),
        resources: resourcesSchema.prefault({ requests: { cpu: "200m", memory: "512Mi" }, limits: { memory: "1Gi" } }),
    })
    .prefault({});

const alertmanagerSchema = z
    .strictObject({
        replicas: z.number().int().min(1).max(5).default(1).describe("Alertmanager replicas (production: at least 2)."),
        storage: memoryQuantity.default("1Gi").describe("Volume size per replica (silences, notification log)."),
        resources: resourcesSchema.prefault({ requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "128Mi" } }),
    })
    .prefault({});

const grafanaSchema = z
    .strictObject({
        replicas: z
            .int()
            .min(1)
            .default(1)
            .describe(
                "Grafana pods. One keeps its state in SQLite on a volume; more keep it in a PostgreSQL database of its own (`finbot:database` must be on), spread over zones with a disruption budget.",
            ),
        storage: memoryQuantity.default("1Gi").describe("Persistent volume for Grafana's SQLite database (one replica only)."),
        resources: resourcesSchema.prefault({ requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } }),
    })
    .prefault({});

const alertingSchema = z
    .strictObject({
        pagerduty: z
            .strictObject({ routingKey: secretString().describe("PagerDuty Events v2 routing key.") })
            .optional()
            .describe("Where `severity: page` (and critical) alerts go. Required in production."),
        slack: z
            .strictObject({
                webhookUrl: secretString().describe("Slack incoming-webhook URL."),
                channel: z.string().regex(/^#[-\w]+$/, { error: 'a Slack channel such as "#finbot-alerts"' }),
            })
            .optional()
            .describe("Where `severity: ticket` (and warning) alerts go."),
        deadMansSwitch: z
            .strictObject({
                url: secretString().describe("URL pinged by the always-firing Watchdog alert (e.g. a healthchecks.io check)."),
            })
            .optional()
            .describe("Dead man's switch: an outside service that raises the alarm when the pings stop."),
        groupWait: duration.default("30s"),
        groupInterval: duration.default("5m"),
        repeatInterval: duration.default("4h"),
    })
    .prefault({});

const businessPanelSchema = z.strictObject({
    title: z.string().min(1),
    expr: z.string().min(1).describe("PromQL of the panel."),
    unit: z.string().default("short").describe("Grafana unit (short, currencyEUR, percentunit, ...)."),
});

export const monitoringSchema = z
    .strictObject({
        enabled: z.boolean().default(true).describe("Install the monitoring stack."),
        runbookBaseUrl: z
            .url({ protocol: /^https$/, error: "an https URL of the folder holding the runbooks (docs/runbooks of this repository)" })
            .optional()
            .describe(
                "Where the runbooks are read: each alert's runbook_url is <runbookBaseUrl>/<runbook>.md (required with monitoring on).",
            ),
        managedControlPlane: z
            .boolean()
            .default(true)
            .describe(
                "No scrapes or rules for etcd, the scheduler, the controller manager and kube-proxy: EKS does not expose them, and kind, k3d and minikube bind their metrics to the node's loopback, so their targets would be down and their alerts fire on a healthy cluster. false: a self-managed control plane serving them on the nodes' addresses (ports 2381, 10259, 10257, 10249).",
            ),
        prometheus: prometheusSchema,
        alertmanager: alertmanagerSchema,
        grafana: grafanaSchema,
        alerting: alertingSchema.describe("Alert routing: page -> PagerDuty, ticket -> Slack."),
        uptime: z
            .strictObject({
                objective: z.number().min(90).max(99.999).default(99.9).describe("Uptime objective (%) of public endpoints over 30 days."),
                interval: duration.default("30s").describe("Probe interval."),
            })
            .prefault({}),
        businessMetrics: z.array(businessPanelSchema).default([]).describe("Panels of the Business metrics dashboard."),
        overheadCeilingPercent: z
            .int()
            .min(5)
            .max(95)
            .default(30)
            .describe(
                "The most of the cluster's requested CPU or memory that monitoring, logging and the node agents may take; more for an hour opens a ticket (FinbotObservabilityOverheadHigh).",
            ),
        noise: z
            .strictObject({
                pagesPerWeek: z
                    .int()
                    .min(1)
                    .default(5)
                    .describe("Pages a week the on-call can act on; more opens a ticket to tune the alerts (FinbotPagesOverNoiseBudget)."),
                flapsPerDay: z
                    .int()
                    .min(2)
                    .default(4)
                    .describe("Times one alert may start firing in a day before it counts as flapping (FinbotAlertFlapping)."),
            })
            .prefault({})
            .describe("Alert noise: how many pages a week, and how much flapping, before the alerts themselves need work."),
        pushgateway: z.boolean().default(false).describe("Install a Pushgateway (performance-budget results from CI pipelines)."),
        cost: z
            .boolean()
            .default(true)
            .describe(
                "Install OpenCost: live cost per namespace, service and node from the cluster's prices, on the FinBot / Cost dashboard.",
            ),
    })
    .superRefine(
        (monitoring, ctx) => {
            // retentionSize must leave room on the volume for the WAL and compaction.
            const m = monitoring as Partial<typeof monitoring>;
            if (m.prometheus?.retentionSize && typeof m.prometheus.storage === "string") {
                const size = parsePrometheusSize(m.prometheus.retentionSize);
                const storage = parseBytes(m.prometheus.storage);
                if (isNumber(size) && isNumber(storage) && size > storage * 0.9) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["prometheus", "retentionSize"],
                        input: m.prometheus.retentionSize,
                        message: `a size at most 90% of prometheus.storage (${m.prometheus.storage})`,
                    });
                }
            }
        },
        { when: () => true },
    )
    .prefault({});

export type MonitoringConfig = z.output<typeof monitoringSchema>;

/** `retentionSize` when not configured: 85% of the volume, in Prometheus' format. */
export function defaultRetentionSize(storage: string): string {
    const bytes = parseBytes(storage) ?? 0;
    return `${Math.floor((bytes * 0.85) / 2 ** 20)}MiB`;
}

/** More than one Grafana keeps its state in a database of its own (on the stack's PostgreSQL). */
export const grafanaHasDatabase = (monitoring: Pick<MonitoringConfig, "grafana">) => monitoring.grafana.replicas > 1;
