// The stack configuration: one schema for every `finbot:` key, with defaults, ranges and
// cross-field rules. Each top-level field is one config key (`finbot:<field>`).
import { z } from "zod";
import {
    absolutePath,
    chartVersion,
    dnsLabel,
    envName,
    httpPath,
    imageRef,
    isNumber,
    port,
    resourcesSchema,
    secretString,
} from "./primitives";
import { cacheSchema, databaseSchema, queueSchema, workerSchema } from "./data";
import { errorTrackingSchema, loggingSchema } from "./logging";
import { monitoringSchema } from "./monitoring";
import { trafficSchema } from "./traffic";
import { CHARTS, ChartName, ELASTIC_STACK_VERSION, MANIFESTS, PLATFORM_IMAGES } from "./releases";
import { capacityProblem } from "./capacityRule";

const PROMETHEUS_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export { isPinnedImage, isSecretSchema, secretString } from "./primitives";

const scaleUpSchema = z
    .strictObject({
        stabilizationSeconds: z.number().int().min(0).max(3600).default(0).describe("Window before scaling up again."),
        percent: z.number().int().min(1).max(1000).default(100).describe("At most this % more pods per period."),
        pods: z.number().int().min(1).max(1000).default(4).describe("...or at most this many more pods per period, whichever is more."),
        periodSeconds: z.number().int().min(1).max(1800).default(15).describe("Length of a scale-up period."),
    })
    .prefault({});

const scaleDownSchema = z
    .strictObject({
        stabilizationSeconds: z
            .number()
            .int()
            .min(0)
            .max(3600)
            .default(300)
            .describe("Window of recommendations considered before scaling down."),
        percent: z.number().int().min(1).max(100).default(10).describe("At most this % fewer pods per period."),
        periodSeconds: z.number().int().min(1).max(1800).default(60).describe("Length of a scale-down period."),
    })
    .prefault({});

/** HPA behaviour: fast scale-up, slow scale-down (the defaults apply to workers too). */
export const scalingSchema = z.strictObject({ scaleUp: scaleUpSchema, scaleDown: scaleDownSchema }).prefault({});

export const serviceSchema = z
    .strictObject({
        name: dnsLabel(40).describe("Deployment, Service and HPA name; the `service` label on its metrics and alerts."),
        image: z.string().min(1).describe("Key of `finbot:releases.images` to run."),
        port: port.describe("Container port serving HTTP, health and metrics."),
        args: z.array(z.string()).optional().describe("Container arguments."),
        env: z.record(envName, z.string()).default({}).describe("Plain environment variables."),
        secretEnv: z
            .record(envName, secretString())
            .default({})
            .describe(
                "Secret environment variables (set with `pulumi config set --secret --path`); delivered through a Kubernetes Secret.",
            ),
        public: z.boolean().default(true).describe("Exposed through the gateway and probed for uptime."),
        health: z
            .strictObject({
                liveness: httpPath.describe("Liveness probe path."),
                readiness: httpPath.describe("Readiness probe path."),
                startup: httpPath.optional().describe("Startup probe path. @default the liveness path"),
            })
            .describe("Health endpoints."),
        metrics: z
            .strictObject({ path: httpPath.default("/metrics").describe("Prometheus metrics path on the service port.") })
            .prefault({}),
        replicas: z
            .strictObject({
                min: z.number().int().min(1).max(1000).describe("HPA minReplicas."),
                max: z.number().int().min(1).max(1000).describe("HPA maxReplicas."),
            })
            .describe("Autoscaling bounds."),
        targets: z
            .strictObject({
                cpuPercent: z.number().int().min(10).max(200).default(70).describe("HPA target CPU utilisation (% of requests)."),
                memoryPercent: z.number().int().min(10).max(200).default(80).describe("HPA target memory utilisation (% of requests)."),
                requestsPerSecond: z
                    .number()
                    .positive()
                    .optional()
                    .describe("HPA target requests/s per pod (through prometheus-adapter). @default none"),
            })
            .prefault({}),
        scaling: scalingSchema.describe("HPA behaviour: fast scale-up, slow scale-down."),
        resources: resourcesSchema,
        writablePaths: z
            .array(absolutePath)
            .default(["/tmp"])
            .describe("Paths mounted as emptyDir; the rest of the root file system is read-only."),
        canary: z
            .strictObject({
                image: z.string().min(1).describe("Key of `finbot:releases.images` of the second release."),
                weight: z.number().int().min(0).max(100).describe("% of traffic the second release gets."),
                header: z
                    .strictObject({ name: z.string().regex(/^[A-Za-z0-9-]+$/), value: z.string().min(1) })
                    .optional()
                    .describe("Requests with this header always go to the second release (A/B cohorts)."),
            })
            .optional()
            .describe("A second release behind the same route (canary or A/B)."),
        capacity: z
            .strictObject({
                requestsPerSecondPerPod: z.number().positive().describe("Measured requests/s one pod serves within its latency SLO."),
                peakRequestsPerSecond: z.number().positive().describe("Expected peak requests/s of the service."),
            })
            .optional()
            .describe("Capacity facts for the 10x check and the HPA's requests-per-second target."),
        slo: z
            .strictObject({
                availability: z.number().min(90).max(99.999).describe("Availability target in % over 30 days."),
                latency: z.strictObject({
                    thresholdSeconds: z
                        .number()
                        .positive()
                        .max(60)
                        .describe("Latency threshold of a good request: a bucket boundary (`le`) of the duration histogram."),
                    percent: z.number().min(50).max(99.999).describe("% of requests faster than the threshold."),
                }),
                sli: z
                    .strictObject({
                        requestsMetric: z.string().regex(PROMETHEUS_NAME).default("http_requests_total").describe("Counter of requests."),
                        statusLabel: z.string().regex(PROMETHEUS_NAME).default("code").describe("Label holding the HTTP status code."),
                        errorStatus: z.string().min(1).default("5..").describe("Regex of status codes that count as errors."),
                        durationMetric: z
                            .string()
                            .regex(PROMETHEUS_NAME)
                            .default("http_request_duration_seconds")
                            .describe("Histogram of request durations (without _bucket)."),
                    })
                    .prefault({})
                    .describe("Where the SLIs come from (Prometheus conventions by default)."),
            })
            .describe("Service level objectives, used by monitoring."),
    })
    // Cross-field rules run even when other fields failed (`when`), so every problem is
    // reported at once; they only look at the fields that are well-formed.
    .superRefine(
        (svc, ctx) => {
            const { replicas } = svc as Partial<typeof svc>;
            if (isNumber(replicas?.min) && isNumber(replicas?.max) && replicas.min > replicas.max) {
                ctx.addIssue({
                    code: "custom",
                    path: ["replicas", "min"],
                    input: replicas.min,
                    message: `a value <= replicas.max (${replicas.max})`,
                });
            }
        },
        { when: () => true },
    );

const chartVersions = z
    .strictObject(
        Object.fromEntries(
            (Object.keys(CHARTS) as ChartName[]).map((name) => [
                name,
                chartVersion.default(CHARTS[name].version).describe(`Version of the ${name} chart.`),
            ]),
        ) as Record<ChartName, z.ZodDefault<typeof chartVersion>>,
    )
    .prefault({});

const manifestVersion = (name: keyof typeof MANIFESTS) =>
    z
        .strictObject({
            version: z
                .string()
                .regex(/^v?\d+\.\d+\.\d+$/, { error: 'an exact release such as "v2.22.3"' })
                .describe("Release tag."),
            sha256: z
                .string()
                .regex(/^[a-f0-9]{64}$/, { error: "a SHA-256 in hex (npm run manifests:pin records it)" })
                .nullable()
                .describe("SHA-256 of the release asset; required in production."),
        })
        .prefault({ version: MANIFESTS[name].version, sha256: MANIFESTS[name].sha256 })
        .describe(`The ${name} release manifest.`);

const manifestVersions = z.strictObject({ "rabbitmq-cluster-operator": manifestVersion("rabbitmq-cluster-operator") }).prefault({});

/** AWS network the production data tier and load balancers live in. */
const networkSchema = z.strictObject({
    vpcId: z
        .string()
        .regex(/^vpc-[0-9a-zA-Z_]+$/, { error: 'a VPC id such as "vpc-0abc..."' })
        .describe("VPC of the EKS cluster."),
    privateSubnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-zA-Z_]+$/, { error: 'a subnet id such as "subnet-0abc..."' }))
        .min(2)
        .describe("Private subnets in at least two availability zones."),
    nodeSecurityGroupId: z
        .string()
        .regex(/^sg-[0-9a-zA-Z_]+$/, { error: 'a security group id such as "sg-0abc..."' })
        .describe("Security group of the cluster's nodes: the only one admitted to databases and caches."),
    availabilityZones: z
        .array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, { error: 'an availability zone such as "eu-central-1a"' }))
        .min(2)
        .describe("Zones of the private subnets: read replicas and cache nodes are spread over them."),
});

export const platformSchema = z
    .strictObject({
        environment: z.enum(["staging", "production"]).describe("What this stack is: dev is staging, prod is production."),
        namespaces: z
            .strictObject({
                apps: dnsLabel(63).default("finbot-apps").describe("Namespace of FinBot's services."),
                monitoring: dnsLabel(63).default("finbot-monitoring").describe("Namespace of Prometheus, Alertmanager, Grafana."),
                data: dnsLabel(63).default("finbot-data").describe("Namespace of PostgreSQL, Redis, RabbitMQ and their operators."),
                autoscaling: dnsLabel(63).default("finbot-autoscaling").describe("Namespace of KEDA."),
                logging: dnsLabel(63)
                    .default("finbot-logging")
                    .describe("Namespace of the ECK operator, Elasticsearch, Kibana, Logstash, Filebeat, APM."),
                traffic: dnsLabel(63).default("finbot-traffic").describe("Namespace of Envoy Gateway, cert-manager and the gateway."),
            })
            .prefault({})
            .describe("Namespaces per area, created by the program."),
        kubernetes: z
            .strictObject({
                storageClass: z.string().min(1).optional().describe("StorageClass for volumes. @default the cluster's default class"),
                zoneSpread: z
                    .enum(["required", "preferred"])
                    .optional()
                    .describe("Spread pods across zones strictly or best-effort. @default required in production, preferred in staging"),
            })
            .prefault({})
            .describe("Cluster facts the program cannot discover offline."),
        network: networkSchema.optional().describe("AWS network ids (required in production). Replace the placeholders."),
        releases: z
            .strictObject({
                images: z
                    .record(z.string().regex(/^[a-z][-a-z0-9]*$/, { error: "an image key (lower-case, digits, -)" }), imageRef)
                    .default({})
                    .transform((images) => ({ ...PLATFORM_IMAGES, ...images }))
                    .describe("Images by key; FinBot's service images are named per stack. @default the platform's images (releases.json)"),
                charts: chartVersions.describe("Helm chart versions by chart name."),
                elasticStack: z
                    .string()
                    .regex(/^\d+\.\d+\.\d+$/, { error: 'an exact Elastic Stack version such as "9.4.3"' })
                    .default(ELASTIC_STACK_VERSION)
                    .describe("Version of Elasticsearch, Kibana, Logstash, Filebeat and APM Server."),
                manifests: manifestVersions.describe("Release manifests applied as published, each verified against its SHA-256."),
            })
            .prefault({})
            .describe("What promotion moves from dev to prod: images, chart versions, manifests."),
        services: z.array(serviceSchema).default([]).describe("FinBot's HTTP services, each autoscaled."),
        monitoring: monitoringSchema.describe("Prometheus, Alertmanager, Grafana, uptime probes and alert routing."),
        database: databaseSchema.describe("PostgreSQL: CloudNativePG in the cluster, or RDS; read replicas and pooling."),
        cache: cacheSchema.describe("Redis: in the cluster, or ElastiCache."),
        queue: queueSchema.describe("RabbitMQ (Cluster Operator) with quorum queues."),
        workers: z.array(workerSchema).default([]).describe("Queue workers, scaled by KEDA on their queue's length."),
        logging: loggingSchema.describe("Logs (Filebeat -> Logstash -> Elasticsearch -> Kibana) and APM on ECK."),
        errorTracking: errorTrackingSchema.describe("Error tracking with Sentry (off by default)."),
        traffic: trafficSchema.describe("Gateway API load balancing, TLS, CDN, autoscaling inputs, load tests."),
    })
    .superRefine(
        (config, ctx) => {
            const services = Array.isArray(config.services) ? config.services : [];
            const imageKeys = Object.keys({ ...PLATFORM_IMAGES, ...(config.releases?.images ?? {}) });
            const seen = new Map<string, number>();
            services.forEach((svc, i) => {
                if (svc === null || typeof svc !== "object") return;
                if (typeof svc.name === "string") {
                    if (seen.has(svc.name)) {
                        ctx.addIssue({
                            code: "custom",
                            path: ["services", i, "name"],
                            input: svc.name,
                            message: `a unique service name (services[${seen.get(svc.name)}] has it already)`,
                        });
                    } else seen.set(svc.name, i);
                }
                if (typeof svc.image === "string" && !imageKeys.includes(svc.image)) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["services", i, "image"],
                        input: svc.image,
                        message: `a key of finbot:releases.images (${imageKeys.join(", ")})`,
                    });
                }
                if (config.environment === "production" && isNumber(svc.replicas?.min) && svc.replicas.min < 2) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["services", i, "replicas", "min"],
                        input: svc.replicas.min,
                        message: "at least 2 replicas in production (one node or zone may fail)",
                    });
                }
            });
            const monitoring = config.monitoring as Partial<PlatformConfig["monitoring"]> | undefined;
            if (config.environment === "production" && monitoring?.enabled !== false) {
                for (const part of ["prometheus", "alertmanager"] as const) {
                    const replicas = monitoring?.[part]?.replicas;
                    if (!isNumber(replicas) || replicas < 2) {
                        ctx.addIssue({
                            code: "custom",
                            path: ["monitoring", part, "replicas"],
                            input: replicas,
                            message: "at least 2 replicas in production",
                        });
                    }
                }
                if (monitoring?.alerting?.pagerduty === undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["monitoring", "alerting", "pagerduty"],
                        input: undefined,
                        message: "a PagerDuty routing key in production, or nobody is paged",
                    });
                }
            }
            const production = config.environment === "production";
            const queueNames = new Set((config.queue?.queues ?? []).map((q) => q?.name));
            (Array.isArray(config.workers) ? config.workers : []).forEach((worker, i) => {
                if (worker === null || typeof worker !== "object") return;
                const at = (...path: PropertyKey[]) => ["workers", i, ...path];
                if (isNumber(worker.replicas?.min) && isNumber(worker.replicas?.max) && worker.replicas.min > worker.replicas.max) {
                    ctx.addIssue({
                        code: "custom",
                        path: at("replicas", "min"),
                        input: worker.replicas.min,
                        message: `a value <= replicas.max (${worker.replicas.max})`,
                    });
                }
                if (production && worker.replicas?.min === 0) {
                    ctx.addIssue({
                        code: "custom",
                        path: at("replicas", "min"),
                        input: 0,
                        message: "at least 1 in production (scale to zero is for staging)",
                    });
                }
                if (typeof worker.image === "string" && !imageKeys.includes(worker.image)) {
                    ctx.addIssue({
                        code: "custom",
                        path: at("image"),
                        input: worker.image,
                        message: `a key of finbot:releases.images (${imageKeys.join(", ")})`,
                    });
                }
                if (typeof worker.queue === "string" && (config.queue?.enabled === false || !queueNames.has(worker.queue))) {
                    ctx.addIssue({
                        code: "custom",
                        path: at("queue"),
                        input: worker.queue,
                        message: `a queue of finbot:queue.queues (${[...queueNames].join(", ") || "none"})`,
                    });
                }
            });
            const needsNetwork = [
                config.database?.enabled !== false && config.database?.mode === "rds" ? "finbot:database.mode rds" : undefined,
                config.cache?.enabled !== false && config.cache?.mode === "elasticache" ? "finbot:cache.mode elasticache" : undefined,
            ].filter(Boolean);
            if (needsNetwork.length > 0 && config.network === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["network"],
                    input: undefined,
                    message: `the AWS network ids (needed by ${needsNetwork.join(" and ")})`,
                });
            }
            const rds = config.database?.rds;
            if (
                isNumber(rds?.allocatedStorageGb) &&
                isNumber(rds?.maxAllocatedStorageGb) &&
                rds.maxAllocatedStorageGb < rds.allocatedStorageGb
            ) {
                ctx.addIssue({
                    code: "custom",
                    path: ["database", "rds", "maxAllocatedStorageGb"],
                    input: rds.maxAllocatedStorageGb,
                    message: `at least allocatedStorageGb (${rds.allocatedStorageGb})`,
                });
            }
            if (production && config.queue?.enabled !== false && isNumber(config.queue?.replicas) && config.queue.replicas < 3) {
                ctx.addIssue({
                    code: "custom",
                    path: ["queue", "replicas"],
                    input: config.queue.replicas,
                    message: "3 or 5 nodes in production (quorum queues survive one node)",
                });
            }
            const es = config.logging?.elasticsearch;
            if (production && config.logging?.enabled !== false && isNumber(es?.nodes) && es.nodes < 3) {
                ctx.addIssue({
                    code: "custom",
                    path: ["logging", "elasticsearch", "nodes"],
                    input: es.nodes,
                    message: "at least 3 nodes in production (one per zone)",
                });
            }
            const traffic = config.traffic as Partial<PlatformConfig["traffic"]> | undefined;
            if (traffic?.enabled !== false) {
                const issuer = traffic?.tls?.issuer ?? (production ? "acme" : "self-signed");
                if (issuer === "acme" && traffic?.tls?.acmeEmail === undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["traffic", "tls", "acmeEmail"],
                        input: undefined,
                        message: "an email for the ACME account (tls.issuer acme)",
                    });
                }
                if (production && isNumber(traffic?.gateway?.replicas) && traffic.gateway.replicas < 2) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["traffic", "gateway", "replicas"],
                        input: traffic.gateway.replicas,
                        message: "at least 2 in production",
                    });
                }
                if (traffic?.cdn?.enabled && config.network === undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["network"],
                        input: undefined,
                        message: "the AWS network ids (needed by finbot:traffic.cdn)",
                    });
                }
            }
            services.forEach((svc, i) => {
                if (svc?.canary && typeof svc.canary.image === "string" && !imageKeys.includes(svc.canary.image)) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["services", i, "canary", "image"],
                        input: svc.canary.image,
                        message: `a key of finbot:releases.images (${imageKeys.join(", ")})`,
                    });
                }
                const problem = production ? capacityProblem(svc) : undefined;
                if (problem)
                    ctx.addIssue({ code: "custom", path: ["services", i, "replicas", "max"], input: svc.replicas.max, message: problem });
                if (production && svc && typeof svc === "object" && svc.public !== false && svc.capacity === undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["services", i, "capacity"],
                        input: undefined,
                        message: "measured capacity (requestsPerSecondPerPod, peakRequestsPerSecond) for the 10x check in production",
                    });
                }
            });
            if (production && config.network === undefined && needsNetwork.length === 0) {
                ctx.addIssue({
                    code: "custom",
                    path: ["network"],
                    input: undefined,
                    message: "the AWS network ids (vpcId, privateSubnetIds, nodeSecurityGroupId) in production",
                });
            }
        },
        { when: () => true },
    );

export type PlatformConfig = z.output<typeof platformSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type Environment = PlatformConfig["environment"];
