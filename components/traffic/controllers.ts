import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { PlatformConfig } from "../config/schema";
import { CRD_CHARTS } from "../config/releases";
import { CertificateIssuer } from "../lib/certificates";
import { helmRelease } from "../lib/helm";
import { PLATFORM_CRITICAL } from "../lib/priority";

export interface TrafficControllersArgs {
    /** Namespace of Envoy Gateway and cert-manager (created by the caller). */
    namespace: string;
    /** Exact chart versions from `finbot:releases.charts`. */
    chartVersions: PlatformConfig["releases"]["charts"];
    /**
     * When set, cert-manager gets a ServiceMonitor (created after these CRDs).
     * @default no ServiceMonitor
     */
    monitoringCrds?: pulumi.Resource;
    /**
     * Two replicas of Envoy Gateway, cert-manager and its webhook, with disruption budgets (production).
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

/** Name of the ClusterIssuer that signs the platform's internal TLS certificates. */
export const INTERNAL_ISSUER = "finbot-internal-ca";

/**
 * The controllers traffic and TLS rest on, created before the parts that ask for certificates:
 * Envoy Gateway with the Gateway API CRDs at its pinned version, cert-manager, and the internal
 * certificate authority that signs the TLS certificates of PostgreSQL, RabbitMQ, Logstash and APM
 * Server. Its children keep the names and, through aliases, the identities they had under Traffic.
 */
export class TrafficControllers extends pulumi.ComponentResource {
    public readonly envoyGateway: k8s.helm.v3.Release;
    public readonly certManager: k8s.helm.v3.Release;
    /** Issues internal certificates; its CA certificate is public and handed to clients. */
    public readonly internalIssuer: CertificateIssuer;

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
        const budget = { enabled: replicas > 1, minAvailable: 1 };
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
        this.certManager = helmRelease(
            `${name}-cert-manager`,
            {
                chart: "cert-manager",
                version: args.chartVersions["cert-manager"],
                releaseName: "cert-manager",
                namespace,
                values: {
                    crds: { enabled: true },
                    // The ACME HTTP-01 solver answers through a Gateway API HTTPRoute.
                    config: {
                        apiVersion: "controller.config.cert-manager.io/v1alpha1",
                        kind: "ControllerConfiguration",
                        enableGatewayAPI: true,
                    },
                    // Certificate expiry metrics for FinbotCertificateExpiresSoon.
                    prometheus: { servicemonitor: { enabled: args.monitoringCrds !== undefined } },
                    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                    global: { priorityClassName: PLATFORM_CRITICAL },
                    replicaCount: replicas,
                    podDisruptionBudget: budget,
                    webhook: { replicaCount: replicas, podDisruptionBudget: budget },
                },
            },
            // With Gateway API support on, cert-manager starts only once the Gateway API CRDs exist;
            // its ServiceMonitor needs the monitoring CRDs.
            { parent: this, dependsOn: [gatewayCrds, ...(args.monitoringCrds ? [args.monitoringCrds] : [])], aliases },
        );
        this.internalIssuer = this.internalCa(name, namespace);
        this.registerOutputs({});
    }

    /**
     * The internal CA: a key and a ten-year self-signed CA certificate made by the program (the key is
     * a secret in the stack's state and in the cert-manager namespace only), and a CA ClusterIssuer that
     * signs short-lived server certificates cert-manager renews.
     */
    private internalCa(name: string, namespace: string): CertificateIssuer {
        const key = new tls.PrivateKey(`${name}-internal-ca`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const ca = new tls.SelfSignedCert(
            `${name}-internal-ca`,
            {
                privateKeyPem: key.privateKeyPem,
                isCaCertificate: true,
                validityPeriodHours: 10 * 365 * 24,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                subject: { commonName: "FinBot internal CA", organization: "FinBot" },
            },
            { parent: this },
        );
        const secret = new k8s.core.v1.Secret(
            `${name}-internal-ca`,
            {
                metadata: { name: INTERNAL_ISSUER, namespace },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": ca.certPem, "tls.key": key.privateKeyPem, "ca.crt": ca.certPem },
            },
            { parent: this },
        );
        const issuer = new k8s.apiextensions.CustomResource(
            `${name}-internal-issuer`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "ClusterIssuer",
                metadata: { name: INTERNAL_ISSUER },
                spec: { ca: { secretName: INTERNAL_ISSUER } },
            },
            { parent: this, dependsOn: [this.certManager, secret] },
        );
        return { name: INTERNAL_ISSUER, resource: issuer, caCertPem: ca.certPem };
    }
}
