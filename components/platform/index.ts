import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig } from "../config/schema";
import { AutoscaledService } from "../workloads";

export interface PlatformArgs {
    /** The validated stack config (`finbot:` keys). */
    config: PlatformConfig;
}

/**
 * The whole FinBot platform of one stack: namespaces and FinBot's autoscaled services, and the
 * areas each `finbot:` key switches on. The root of every resource the program creates.
 */
export class Platform extends pulumi.ComponentResource {
    /** In-cluster URL of each service, by service name. */
    public readonly serviceUrls: pulumi.Output<Record<string, string>>;
    /** Namespaces by area. */
    public readonly namespaces: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:platform:Platform", name, {}, opts);
        const { config } = args;
        const zoneSpread = config.kubernetes.zoneSpread ?? (config.environment === "production" ? "required" : "preferred");

        const appsNamespace = new k8s.core.v1.Namespace(
            `${name}-apps`,
            {
                metadata: {
                    name: config.namespaces.apps,
                    labels: {
                        "app.kubernetes.io/part-of": "finbot",
                        // FinBot's pods meet the restricted Pod Security Standard; enforce it.
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                    },
                },
            },
            { parent: this },
        );

        const services = config.services.map(
            (service) =>
                new AutoscaledService(
                    `${name}-${service.name}`,
                    { service, image: config.releases.images[service.image], namespace: appsNamespace.metadata.name, zoneSpread },
                    { parent: this },
                ),
        );

        this.namespaces = pulumi.all({ apps: appsNamespace.metadata.name });
        this.serviceUrls = pulumi.all(Object.fromEntries(services.map((s, i) => [config.services[i].name, s.url])));
        this.registerOutputs({ namespaces: this.namespaces, serviceUrls: this.serviceUrls });
    }
}

/** Builds the platform for a validated config. The program (`index.ts`), tests and the offline plan all call this. */
export function buildPlatform(config: PlatformConfig, opts?: pulumi.ComponentResourceOptions): Platform {
    return new Platform("finbot", { config }, opts);
}
