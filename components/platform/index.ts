import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, MANIFESTS } from "../config/releases";
import { PlatformConfig } from "../config/schema";
import { CONNECTIONS_SUFFIX, Cache, Database, Queue, dataTierEnabled } from "../data";
import { ErrorTracking, Logging, OBSERVABILITY_SUFFIX } from "../logging";
import { Monitoring } from "../monitoring";
import { AutoscaledService, QueueWorker, SecretRef } from "../workloads";
import { allDashboards, areaRuleGroups, watchedVolumeNamespaces } from "./catalog";

export interface PlatformArgs {
    /** The validated stack config (`finbot:` keys). */
    config: PlatformConfig;
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
                    storageClass: config.kubernetes.storageClass,
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
                        operatorVersion: MANIFESTS["rabbitmq-cluster-operator"].version,
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

        const services = config.services.map(
            (service) =>
                new AutoscaledService(
                    `${name}-${service.name}`,
                    {
                        service,
                        image: images[service.image],
                        namespace: appsNamespace.metadata.name,
                        zoneSpread,
                        serviceMonitor: monitoring
                            ? { crds: monitoring.operator, interval: config.monitoring.prometheus.scrapeInterval }
                            : undefined,
                        envFrom: envFromFor(service.name),
                    },
                    { parent: this },
                ),
        );

        if (config.workers.length > 0) {
            const autoscalingNamespace = namespace("autoscaling", false);
            const keda = new k8s.helm.v3.Release(
                `${name}-keda`,
                {
                    name: "keda",
                    chart: "keda",
                    version: config.releases.charts.keda,
                    repositoryOpts: { repo: CHARTS.keda.repo },
                    namespace: config.namespaces.autoscaling,
                    atomic: true,
                    cleanupOnFail: true,
                    maxHistory: 10,
                    values: {
                        resources: {
                            operator: { requests: { cpu: "50m", memory: "100Mi" }, limits: { memory: "512Mi" } },
                            metricServer: { requests: { cpu: "50m", memory: "100Mi" }, limits: { memory: "512Mi" } },
                            webhooks: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                        },
                    },
                },
                { parent: this, dependsOn: [autoscalingNamespace] },
            );
            for (const worker of config.workers) {
                const [connections, ...envFrom] = envFromFor(worker.name);
                new QueueWorker(
                    `${name}-${worker.name}`,
                    { worker, image: images[worker.image], namespace: appsNamespace.metadata.name, connections, envFrom, keda },
                    { parent: this },
                );
            }
        }

        this.namespaces = pulumi.all(namespaces);
        this.serviceUrls = pulumi.all(Object.fromEntries(services.map((s, i) => [config.services[i].name, s.url])));
        this.monitoringUrls = monitoring
            ? pulumi.all({ grafana: monitoring.grafanaUrl, prometheus: monitoring.prometheusUrl, alertmanager: monitoring.alertmanagerUrl })
            : pulumi.output<Record<string, string>>({});
        this.registerOutputs({ namespaces: this.namespaces, serviceUrls: this.serviceUrls, monitoringUrls: this.monitoringUrls });
    }
}

/** Builds the platform for a validated config. The program (`index.ts`), tests and the offline plan all call this. */
export function buildPlatform(config: PlatformConfig, opts?: pulumi.ComponentResourceOptions): Platform {
    return new Platform("finbot", { config }, opts);
}
