import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { coreDashboards } from "../../dashboards";
import { PlatformConfig } from "../config/schema";
import { Monitoring } from "../monitoring";
import { AutoscaledService } from "../workloads";

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
 * The whole FinBot platform of one stack: namespaces, monitoring and FinBot's autoscaled
 * services, and the areas each `finbot:` key switches on. The root of every resource.
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

        const namespace = (area: string, nsName: string, restricted: boolean) =>
            new k8s.core.v1.Namespace(
                `${name}-${area}`,
                { metadata: { name: nsName, labels: namespaceLabels(restricted) } },
                { parent: this },
            );
        const appsNamespace = namespace("apps", config.namespaces.apps, true);
        const namespaces: Record<string, pulumi.Output<string>> = { apps: appsNamespace.metadata.name };

        let monitoring: Monitoring | undefined;
        if (config.monitoring.enabled) {
            // node-exporter needs host access: this namespace cannot be "restricted".
            const monitoringNamespace = namespace("monitoring", config.namespaces.monitoring, false);
            namespaces.monitoring = monitoringNamespace.metadata.name;
            monitoring = new Monitoring(
                `${name}-monitoring`,
                {
                    config: config.monitoring,
                    production,
                    namespace: config.namespaces.monitoring,
                    appsNamespace: config.namespaces.apps,
                    services: config.services,
                    chartVersions: config.releases.charts,
                    volumeNamespaces: [config.namespaces.monitoring],
                    dashboards: coreDashboards({
                        appsNamespace: config.namespaces.apps,
                        services: config.services,
                        businessMetrics: config.monitoring.businessMetrics,
                    }),
                    storageClass: config.kubernetes.storageClass,
                },
                { parent: this, dependsOn: [monitoringNamespace] },
            );
        }

        const services = config.services.map(
            (service) =>
                new AutoscaledService(
                    `${name}-${service.name}`,
                    {
                        service,
                        image: config.releases.images[service.image],
                        namespace: appsNamespace.metadata.name,
                        zoneSpread,
                        serviceMonitor: monitoring
                            ? { crds: monitoring.operator, interval: config.monitoring.prometheus.scrapeInterval }
                            : undefined,
                    },
                    { parent: this },
                ),
        );

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
