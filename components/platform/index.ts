import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MANIFESTS, manifestUrl } from "../config/releases";
import { ManifestFetcher, httpFetcher } from "../lib/manifest";
import { PlatformConfig } from "../config/schema";
import { CONNECTIONS_SUFFIX, Cache, Database, Queue, dataTierEnabled } from "../data";
import { ErrorTracking, Logging, OBSERVABILITY_SUFFIX } from "../logging";
import { Monitoring } from "../monitoring";
import { LoadTest, Traffic } from "../traffic";
import { Autoscaling, AutoscaledService, QueueWorker, SecretRef } from "../workloads";
import { PROMETHEUS_URL, allDashboards, areaRuleGroups, operatorUis, watchedVolumeNamespaces } from "./catalog";

export interface PlatformArgs {
    /** The validated stack config (`finbot:` keys). */
    config: PlatformConfig;
    /**
     * Downloads release manifests (verified against their pins before they are applied).
     * @default an HTTPS download
     */
    fetchManifest?: ManifestFetcher;
}

/** Namespace labels: FinBot's own pods meet the restricted Pod Security Standard; enforce it there. */
function namespaceLabels(restricted: boolean): Record<string, string> {
    return {
        "app.kubernetes.io/part-of": "finbot",
        ...(restricted
            ? { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" }
            : {}),
    };
}

/**
 * The whole FinBot platform of one stack: namespaces, monitoring, the data tier, and FinBot's
 * autoscaled services and queue workers. The root of every resource the program creates.
 */
export class Platform extends pulumi.ComponentResource {
    /** In-cluster URL of each service, by service name. */
    public readonly serviceUrls: pulumi.Output<Record<string, string>>;
    /** Namespaces by area. */
    public readonly namespaces: pulumi.Output<Record<string, string>>;
    /** In-cluster URLs of Grafana, Prometheus and Alertmanager (when monitoring is enabled). */
    public readonly monitoringUrls: pulumi.Output<Record<string, string>>;
    /** https://<name>.<domain> of every route through the gateway. */
    public readonly publicUrls: pulumi.Output<Record<string, string>>;
    /** Password of the `finbot` user in front of Prometheus and Alertmanager (secret). */
    public readonly uiPassword?: pulumi.Output<string>;
    /** CloudFront domain (production with the CDN on). */
    public readonly cdnDomain?: pulumi.Output<string>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:platform:Platform", name, {}, opts);
        const { config } = args;
        const production = config.environment === "production";
        const zoneSpread = config.kubernetes.zoneSpread ?? (production ? "required" : "preferred");
        const images = config.releases.images;

        const namespaces: Record<string, pulumi.Output<string>> = {};
        const namespace = (area: keyof PlatformConfig["namespaces"], restricted: boolean) => {
            const ns = new k8s.core.v1.Namespace(
                `${name}-${area}`,
                { metadata: { name: config.namespaces[area], labels: namespaceLabels(restricted) } },
                { parent: this },
            );
            namespaces[area] = ns.metadata.name;
            return ns;
        };
        const appsNamespace = namespace("apps", true);

        let monitoring: Monitoring | undefined;
        if (config.monitoring.enabled) {
            // node-exporter needs host access: this namespace cannot be "restricted".
            const monitoringNamespace = namespace("monitoring", false);
            monitoring = new Monitoring(
                `${name}-monitoring`,
                {
                    config: config.monitoring,
                    production,
                    namespace: config.namespaces.monitoring,
                    appsNamespace: config.namespaces.apps,
                    services: config.services,
                    chartVersions: config.releases.charts,
                    volumeNamespaces: watchedVolumeNamespaces(config),
                    dashboards: allDashboards(config),
                    extraRuleGroups: areaRuleGroups(config),
                    remoteWriteReceiver: config.traffic.loadTest.enabled,
                    certificates: config.traffic.enabled,
                    storageClass: config.kubernetes.storageClass,
                    images,
                },
                { parent: this, dependsOn: [monitoringNamespace] },
            );
        }

        // The data tier, and the settings every consumer gets in its `<name>-connections` Secret.
        const connectionUrls: Record<string, pulumi.Output<string>> = {};
        if (dataTierEnabled(config)) {
            const dataNamespace = namespace("data", false);
            const common = {
                production,
                namespace: config.namespaces.data,
                images,
                storageClass: config.kubernetes.storageClass,
                network: config.network,
                monitoringCrds: monitoring?.operator,
            };
            const after = { parent: this, dependsOn: [dataNamespace] };
            // Only FinBot's workloads, KEDA, Prometheus, the data tier itself and the RabbitMQ operator reach the data stores.
            new k8s.networking.v1.NetworkPolicy(
                `${name}-data-ingress`,
                {
                    metadata: { name: "data-ingress", namespace: config.namespaces.data },
                    spec: {
                        podSelector: {},
                        policyTypes: ["Ingress"],
                        ingress: [
                            {
                                from: [
                                    {
                                        namespaceSelector: {
                                            matchExpressions: [
                                                {
                                                    key: "kubernetes.io/metadata.name",
                                                    operator: "In",
                                                    values: [
                                                        config.namespaces.apps,
                                                        config.namespaces.data,
                                                        config.namespaces.monitoring,
                                                        config.namespaces.autoscaling,
                                                        "rabbitmq-system",
                                                    ],
                                                },
                                            ],
                                        },
                                    },
                                ],
                            },
                        ],
                    },
                },
                after,
            );
            if (config.database.enabled) {
                const db = new Database(
                    `${name}-database`,
                    { ...common, config: config.database, chartVersion: config.releases.charts["cloudnative-pg"] },
                    after,
                );
                connectionUrls.DATABASE_WRITER_URL = db.connection.writerUrl;
                connectionUrls.DATABASE_READER_URL = db.connection.readerUrl;
                connectionUrls.DATABASE_POOLED_URL = db.connection.pooledUrl;
            }
            if (config.cache.enabled) {
                connectionUrls.REDIS_URL = new Cache(`${name}-cache`, { ...common, config: config.cache }, after).url;
            }
            if (config.queue.enabled) {
                connectionUrls.AMQP_URL = new Queue(
                    `${name}-queue`,
                    {
                        ...common,
                        config: config.queue,
                        image: images.rabbitmq,
                        operatorManifest: {
                            url: manifestUrl({
                                ...MANIFESTS["rabbitmq-cluster-operator"],
                                ...config.releases.manifests["rabbitmq-cluster-operator"],
                            }),
                            sha256: config.releases.manifests["rabbitmq-cluster-operator"].sha256,
                        },
                        fetchManifest: args.fetchManifest ?? httpFetcher,
                    },
                    after,
                ).url;
            }
        }

        let logging: Logging | undefined;
        if (config.logging.enabled) {
            // Filebeat reads log files on the nodes as root: this namespace cannot be "restricted".
            const loggingNamespace = namespace("logging", false);
            logging = new Logging(
                `${name}-logging`,
                {
                    config: config.logging,
                    production,
                    environment: config.environment,
                    namespace: config.namespaces.logging,
                    versions: {
                        eckOperator: config.releases.charts["eck-operator"],
                        elasticsearchExporter: config.releases.charts["prometheus-elasticsearch-exporter"],
                        elasticStack: config.releases.elasticStack,
                    },
                    images,
                    storageClass: config.kubernetes.storageClass,
                    monitoringCrds: monitoring?.operator,
                },
                { parent: this, dependsOn: [loggingNamespace] },
            );
        }
        const consumers = [...config.services.map((s) => s.name), ...config.workers.map((w) => w.name)];
        const errorTracking = config.errorTracking.enabled
            ? new ErrorTracking(
                  `${name}-error-tracking`,
                  { config: config.errorTracking, consumers, environment: config.environment },
                  { parent: this },
              )
            : undefined;

        // Every service and worker gets its settings as Secrets in the apps namespace.
        const consumerSecret = (consumer: string, suffix: string, data: Record<string, pulumi.Input<string>>): SecretRef | undefined => {
            if (Object.keys(data).length === 0) return undefined;
            const secretName = `${consumer}-${suffix}`;
            const secret = new k8s.core.v1.Secret(
                `${name}-${consumer}-${suffix}`,
                { metadata: { name: secretName, namespace: config.namespaces.apps }, type: "Opaque", stringData: data },
                { parent: this, dependsOn: [appsNamespace] },
            );
            return { secretName, secret };
        };
        const connectionsFor = (consumer: string) => consumerSecret(consumer, CONNECTIONS_SUFFIX, connectionUrls);
        const observabilityFor = (consumer: string) =>
            consumerSecret(consumer, OBSERVABILITY_SUFFIX, {
                ...(logging?.apmServerUrl && logging.apmSecretToken
                    ? {
                          ELASTIC_APM_SERVER_URL: logging.apmServerUrl,
                          ELASTIC_APM_SECRET_TOKEN: logging.apmSecretToken,
                          ELASTIC_APM_SERVICE_NAME: consumer,
                          ELASTIC_APM_ENVIRONMENT: config.environment,
                      }
                    : {}),
                ...(errorTracking?.dsns[consumer]
                    ? { SENTRY_DSN: errorTracking.dsns[consumer], SENTRY_ENVIRONMENT: config.environment }
                    : {}),
            });
        const envFromFor = (consumer: string) =>
            [connectionsFor(consumer), observabilityFor(consumer)].filter((ref): ref is SecretRef => ref !== undefined);

        const serviceMonitor = monitoring
            ? { crds: monitoring.operator, interval: config.monitoring.prometheus.scrapeInterval }
            : undefined;
        const services = config.services.map((service) => {
            const common = { namespace: appsNamespace.metadata.name, zoneSpread, serviceMonitor, envFrom: envFromFor(service.name) };
            const stable = new AutoscaledService(
                `${name}-${service.name}`,
                { ...common, service, image: images[service.image] },
                { parent: this },
            );
            if (service.canary) {
                // The second release runs beside the first under its own name; the route splits traffic.
                new AutoscaledService(
                    `${name}-${service.name}-canary`,
                    { ...common, service: { ...service, name: `${service.name}-canary` }, image: images[service.canary.image] },
                    { parent: this },
                );
            }
            return stable;
        });

        const autoscalingNeeded = config.workers.length > 0 || config.traffic.metricsServer || monitoring !== undefined;
        let autoscaling: Autoscaling | undefined;
        if (autoscalingNeeded) {
            const autoscalingNamespace = namespace("autoscaling", false);
            autoscaling = new Autoscaling(
                `${name}-autoscaling`,
                {
                    namespace: config.namespaces.autoscaling,
                    chartVersions: config.releases.charts,
                    keda: config.workers.length > 0,
                    metricsServer: config.traffic.metricsServer,
                    insecureKubeletTls: !production,
                    prometheusUrl: monitoring ? PROMETHEUS_URL(config.namespaces.monitoring) : undefined,
                    services: config.services,
                },
                { parent: this, dependsOn: [autoscalingNamespace] },
            );
        }
        for (const worker of config.workers) {
            const [connections, ...envFrom] = envFromFor(worker.name);
            new QueueWorker(
                `${name}-${worker.name}`,
                {
                    worker,
                    image: images[worker.image],
                    namespace: appsNamespace.metadata.name,
                    connections,
                    envFrom,
                    keda: autoscaling!.keda!,
                },
                { parent: this },
            );
        }

        let traffic: Traffic | undefined;
        if (config.traffic.enabled) {
            const trafficNamespace = namespace("traffic", false);
            traffic = new Traffic(
                `${name}-traffic`,
                {
                    config: config.traffic,
                    production,
                    namespace: config.namespaces.traffic,
                    appsNamespace: config.namespaces.apps,
                    services: config.services,
                    uis: operatorUis(config),
                    chartVersions: config.releases.charts,
                    network: config.network,
                    monitoringCrds: monitoring?.operator,
                },
                { parent: this, dependsOn: [trafficNamespace] },
            );
        }
        if (config.traffic.loadTest.enabled && monitoring) {
            new LoadTest(
                `${name}-load-test`,
                {
                    services: config.services.filter((s) => s.public),
                    namespace: appsNamespace.metadata.name,
                    image: images.k6,
                    vus: config.traffic.loadTest.virtualUsers,
                    duration: config.traffic.loadTest.duration,
                    remoteWriteUrl: `${PROMETHEUS_URL(config.namespaces.monitoring)}/api/v1/write`,
                },
                { parent: this, dependsOn: services },
            );
        }

        this.namespaces = pulumi.all(namespaces);
        this.serviceUrls = pulumi.all(Object.fromEntries(services.map((s, i) => [config.services[i].name, s.url])));
        this.monitoringUrls = monitoring
            ? pulumi.all({ grafana: monitoring.grafanaUrl, prometheus: monitoring.prometheusUrl, alertmanager: monitoring.alertmanagerUrl })
            : pulumi.output<Record<string, string>>({});
        this.publicUrls = pulumi.output(traffic?.urls ?? {});
        this.uiPassword = traffic?.uiPassword;
        this.cdnDomain = traffic?.cdnDomain;
        this.registerOutputs({
            namespaces: this.namespaces,
            serviceUrls: this.serviceUrls,
            monitoringUrls: this.monitoringUrls,
            publicUrls: this.publicUrls,
            uiPassword: this.uiPassword,
            cdnDomain: this.cdnDomain,
        });
    }
}

/** Builds the platform for a validated config. The program (`index.ts`), tests and the offline plan all call this. */
export function buildPlatform(
    config: PlatformConfig,
    options: { fetchManifest?: ManifestFetcher } = {},
    opts?: pulumi.ComponentResourceOptions,
): Platform {
    return new Platform("finbot", { config, ...options }, opts);
}
