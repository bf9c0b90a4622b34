// The stack configuration's shape: one schema for every `finbot:` key, with defaults and ranges.
// Each top-level field is one config key (`finbot:<field>`); the checks across keys are checks.ts.
import { IPV4_CIDR } from "./cidr";
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
import { clusterSchema } from "./cluster";
import { deliverySchema } from "./delivery";
import { cacheSchema, databaseSchema, queueSchema, usesSchema, workerSchema } from "./data";
import { errorTrackingSchema, loggingSchema } from "./logging";
import { monitoringSchema } from "./monitoring";
import { thirdPartiesSchema } from "./thirdParties";
import { trafficSchema } from "./traffic";
import { CHARTS, ChartName, ELASTIC_STACK_VERSION, MANIFESTS, PLATFORM_IMAGES } from "./releases";

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
        uses: usesSchema.describe("What it uses of the data tier: its connections Secret holds only these. @default nothing"),
        egress: z
            .array(
                z.strictObject({
                    cidr: z.string().regex(IPV4_CIDR, { error: 'an IPv4 CIDR such as "203.0.113.0/24"' }),
                    ports: z.array(port).min(1).describe("TCP ports."),
                }),
            )
            .default([])
            .describe(
                "Private destinations outside the cluster it may reach (a partner over VPN or peering); APIs on the internet are finbot:thirdParties.",
            ),
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
                readQueriesPerRequest: z
                    .number()
                    .min(0)
                    .optional()
                    .describe("Read queries one request sends to PostgreSQL's readers: the database's 10x check (Aurora)."),
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

const manifestVersions = z
    .strictObject({
        "rabbitmq-cluster-operator": manifestVersion("rabbitmq-cluster-operator"),
        "rabbitmq-messaging-topology-operator": manifestVersion("rabbitmq-messaging-topology-operator"),
    })
    .prefault({});

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
    vpcCidr: z
        .string()
        .regex(IPV4_CIDR, { error: 'the VPC\'s IPv4 CIDR such as "10.0.0.0/16"' })
        .describe("CIDR of the VPC: where the EKS API endpoint and the managed data stores answer (network policies allow only it)."),
    nodeSecurityGroupId: z
        .string()
        .regex(/^sg-[0-9a-zA-Z_]+$/, { error: 'a security group id such as "sg-0abc..."' })
        .describe("Security group of the cluster's nodes: the only one admitted to databases and caches."),
    availabilityZones: z
        .array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, { error: 'an availability zone such as "eu-central-1a"' }))
        .min(2)
        .describe("Zones of the private subnets: read replicas and cache nodes are spread over them."),
});

export const platformSchema = z.strictObject({
    environment: z.enum(["staging", "production"]).describe("What this stack is: dev is staging, prod is production."),
    namespaces: z
        .strictObject({
            apps: dnsLabel(63).default("finbot-apps").describe("Namespace of FinBot's services."),
            monitoring: dnsLabel(63).default("finbot-monitoring").describe("Namespace of Prometheus, Alertmanager, Grafana."),
            data: dnsLabel(63).default("finbot-data").describe("Namespace of PostgreSQL, Redis, RabbitMQ and their operators."),
            autoscaling: dnsLabel(63).default("finbot-autoscaling").describe("Namespace of KEDA."),
            logging: dnsLabel(63)
                .default("finbot-logging")
                .describe("Namespace of the ECK operator, Elasticsearch, Kibana, Logstash, APM."),
            traffic: dnsLabel(63).default("finbot-traffic").describe("Namespace of Envoy Gateway, cert-manager and the gateway."),
            checks: dnsLabel(63)
                .default("finbot-checks")
                .describe("Namespace of the synthetic clients (k6 load tests, browser page checks): apart from FinBot's pods."),
            nodeAgents: dnsLabel(63)
                .default("finbot-node-agents")
                .describe("Namespace of the agents on every node (Filebeat, node-exporter): the only privileged one."),
        })
        .prefault({})
        .describe("Namespaces per area, created by the program."),
    kubernetes: z
        .strictObject({
            storageClass: z
                .string()
                .min(1)
                .optional()
                .describe(
                    "StorageClass for volumes. @default in production finbot-retain (created: encrypted gp3, volumes retained), else the cluster's default class",
                ),
            zoneSpread: z
                .enum(["required", "preferred"])
                .optional()
                .describe("Spread pods across zones strictly or best-effort. @default required in production, preferred in staging"),
            apiServerCidrs: z
                .array(z.string().regex(IPV4_CIDR, { error: 'an IPv4 CIDR such as "10.0.0.0/16"' }))
                .min(1)
                .optional()
                .describe(
                    "Where the Kubernetes API server and the nodes (kubelets) answer, for the network policies of operators, controllers and scrapers. Private ranges only. @default a created cluster's private subnets (its nodes' and the control plane's interfaces), the VPC CIDR with finbot:network, else the RFC 1918 ranges (a laptop cluster's node network)",
                ),
        })
        .prefault({})
        .describe("Cluster facts the program cannot discover offline."),
    cluster: clusterSchema.describe("The Kubernetes cluster the stack deploys into, and the nodes that follow the pods."),
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
    traffic: trafficSchema.describe("Gateway API load balancing, TLS, CDN, load tests and page checks."),
    autoscaling: z
        .strictObject({
            metricsServer: z
                .boolean()
                .default(true)
                .describe("Install metrics-server, which the HPAs' CPU and memory targets read (off where the cluster already has it)."),
        })
        .prefault({})
        .describe("The cluster parts autoscaling rests on (KEDA comes with workers, prometheus-adapter with monitoring)."),
    thirdParties: thirdPartiesSchema.describe(
        "External APIs FinBot calls (Sentry included): each reached only through the metered egress gateway, with its callers, price and monthly budget.",
    ),
    delivery: deliverySchema.describe("How the stack is deployed: the GitHub Actions runner in the VPC of a private cluster."),
});

export type PlatformConfig = z.output<typeof platformSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type Environment = PlatformConfig["environment"];
