import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig } from "../config/schema";
import { CRD_CHARTS } from "../config/releases";
import { helmRelease } from "../lib/helm";
import { PLATFORM_CRITICAL } from "../lib/priority";

export interface TrafficControllersArgs {
    /** Namespace of Envoy Gateway (created by the caller). */
    namespace: string;
    /** Exact chart versions from `finbot:releases.charts`. */
    chartVersions: PlatformConfig["releases"]["charts"];
    /**
     * Two replicas of Envoy Gateway, with a disruption budget (production).
     * @default false
     */
    highlyAvailable?: boolean;
    /**
     * Envoy Gateway's Backend API (routes to a host outside the cluster), which the egress gateway needs.
     * Off by default upstream: a Backend may point anywhere, so it is on only where a stack has third parties.
     * @default false
     */
    backendApi?: boolean;
}

/**
 * The controller traffic rests on: Envoy Gateway with the Gateway API CRDs at its pinned version
 * (cert-manager and the internal CA are the PKI's, components/pki). Its children keep the names and,
 * through aliases, the identities they had under Traffic.
 */
export class TrafficControllers extends pulumi.ComponentResource {
    public readonly envoyGateway: k8s.helm.v3.Release;
    /** The Gateway API's and Envoy Gateway's CRDs (cert-manager's HTTP-01 solver needs the former). */
    public readonly gatewayCrds: pulumi.Resource;

    constructor(name: string, args: TrafficControllersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:TrafficControllers", name, {}, opts);
        const { namespace } = args;
        // These lived directly under Traffic (same names) before the controllers were their own component.
        const aliases = [{ parent: pulumi.createUrn(name, "finbot:traffic:Traffic", opts?.parent) }];

        // Helm never upgrades a chart's crds/ folder: Envoy Gateway's and Gateway API's CRDs come from
        // gateway-crds-helm at the pinned version (templates, applied server-side by Pulumi), so a new
        // pin brings its CRDs along; the gateway chart itself installs none.
        const gatewayVersion = args.chartVersions["gateway-helm"];
        const replicas = args.highlyAvailable ? 2 : 1;
        const gatewayCrds = new k8s.helm.v4.Chart(
            `${name}-gateway-crds`,
            {
                chart: CRD_CHARTS["gateway-helm"]?.chart ?? "",
                version: gatewayVersion,
                namespace,
                values: { crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } } },
            },
            { parent: this, aliases },
        );
        this.envoyGateway = helmRelease(
            `${name}-envoy-gateway`,
            {
                chart: "gateway-helm",
                version: gatewayVersion,
                releaseName: "envoy-gateway",
                namespace,
                skipCrds: true,
                values: {
                    crds: { enabled: false },
                    ...(args.backendApi ? { config: { envoyGateway: { extensionApis: { enableBackend: true } } } } : {}),
                    deployment: {
                        replicas,
                        priorityClassName: PLATFORM_CRITICAL,
                        envoyGateway: { resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1024Mi" } } },
                    },
                    // The chart renders a budget only for a whole number of at least 1.
                    podDisruptionBudget: { minAvailable: replicas > 1 ? 1 : 0 },
                },
            },
            { parent: this, dependsOn: [gatewayCrds], aliases },
        );
        this.gatewayCrds = gatewayCrds;
        this.registerOutputs({});
    }
}
