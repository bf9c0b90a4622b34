import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { CertificateIssuer } from "../lib/certificates";
import { helmRelease } from "../lib/helm";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { podMonitor } from "../lib/monitors";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";

export interface PkiArgs {
    /** Namespace of cert-manager (the traffic namespace, created by the caller). */
    namespace: string;
    /** Exact version of the cert-manager chart. */
    chartVersion: string;
    /**
     * The Gateway API CRDs (Envoy Gateway's), when the stack routes traffic: cert-manager then answers
     * ACME HTTP-01 challenges through an HTTPRoute and starts only once they exist.
     * @default no Gateway API support
     */
    gatewayApiCrds?: pulumi.Resource;
    /**
     * Two replicas of cert-manager and its webhook, with disruption budgets (production).
     * @default false
     */
    highlyAvailable?: boolean;
}

/** Every pod of the cert-manager release (its chart labels them all with the release). */
export const CERT_MANAGER_PODS = { "app.kubernetes.io/instance": "cert-manager" };
/** cert-manager's metrics (chart v1.21 `http-metrics`, the controller's --metrics-listen-address :9402). */
export const CERT_MANAGER_METRICS = 9402;

/**
 * cert-manager's PodMonitor (certificate expiry for FinbotCertificateExpiresSoon), made apart from
 * the chart: the PKI comes before monitoring (Grafana's and Prometheus' certificates need it), while
 * a monitor needs the monitoring CRDs. The controller's pods serve metrics on `http-metrics`, 9402
 * (chart v1.21.1 templates/deployment.yaml).
 */
export function certManagerMonitor(resourceName: string, pki: Pki, namespace: string, monitoringCrds: pulumi.Resource): void {
    podMonitor(
        resourceName,
        {
            name: "cert-manager",
            namespace,
            selector: {
                matchLabels: {
                    "app.kubernetes.io/name": "cert-manager",
                    ...CERT_MANAGER_PODS,
                    "app.kubernetes.io/component": "controller",
                },
            },
            endpoints: [{ port: "http-metrics", path: "/metrics", interval: "60s" }],
            limits: SCRAPE_LIMITS.certManager,
        },
        { parent: pki, dependsOn: [monitoringCrds, pki.certManager] },
    );
}

/** Name of the ClusterIssuer that signs the platform's internal TLS certificates. */
export const INTERNAL_ISSUER = "finbot-internal-ca";

/**
 * The platform's PKI: cert-manager and the internal certificate authority that signs the TLS
 * certificates of PostgreSQL, RabbitMQ, Logstash, APM Server, Kibana and the egress gateway. It
 * runs whenever any of them does, with or without the public gateway. Its children keep the names
 * they had under the traffic controllers and, through aliases, their identities.
 */
export class Pki extends pulumi.ComponentResource {
    public readonly certManager: k8s.helm.v3.Release;
    /** Issues internal certificates; its CA certificate is public and handed to clients. */
    public readonly internalIssuer: CertificateIssuer;

    constructor(name: string, args: PkiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:pki:Pki", name, {}, opts);
        const { namespace } = args;
        // Where these lived before: under the traffic controllers, and before them under Traffic.
        const aliases = ["finbot:traffic:TrafficControllers", "finbot:traffic:Traffic"].map((type) => ({
            parent: pulumi.createUrn(name, type, opts?.parent),
        }));
        const replicas = args.highlyAvailable ? 2 : 1;
        const budget = { enabled: replicas > 1, minAvailable: 1 };
        this.certManager = helmRelease(
            `${name}-cert-manager`,
            {
                chart: "cert-manager",
                version: args.chartVersion,
                releaseName: "cert-manager",
                namespace,
                values: {
                    crds: { enabled: true },
                    // The ACME HTTP-01 solver answers through a Gateway API HTTPRoute.
                    ...(args.gatewayApiCrds
                        ? {
                              config: {
                                  apiVersion: "controller.config.cert-manager.io/v1alpha1",
                                  kind: "ControllerConfiguration",
                                  enableGatewayAPI: true,
                              },
                          }
                        : {}),
                    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                    global: { priorityClassName: PLATFORM_CRITICAL },
                    replicaCount: replicas,
                    podDisruptionBudget: budget,
                    webhook: { replicaCount: replicas, podDisruptionBudget: budget },
                },
            },
            // With Gateway API support on, cert-manager starts only once the Gateway API CRDs exist.
            // Its monitor is not the chart's: see certManagerMonitor.
            { parent: this, dependsOn: args.gatewayApiCrds ? [args.gatewayApiCrds] : [], aliases },
        );
        this.internalIssuer = this.internalCa(name, namespace, aliases);
        this.registerOutputs({});
    }

    /**
     * The internal CA: a key and a ten-year self-signed CA certificate made by the program (the key is
     * a secret in the stack's state and in the cert-manager namespace only), and a CA ClusterIssuer that
     * signs short-lived server certificates cert-manager renews.
     */
    private internalCa(name: string, namespace: string, aliases: pulumi.Alias[]): CertificateIssuer {
        const key = new tls.PrivateKey(`${name}-internal-ca`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this, aliases });
        const ca = new tls.SelfSignedCert(
            `${name}-internal-ca`,
            {
                privateKeyPem: key.privateKeyPem,
                isCaCertificate: true,
                validityPeriodHours: 10 * 365 * 24,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                subject: { commonName: "FinBot internal CA", organization: "FinBot" },
            },
            { parent: this, aliases },
        );
        const secret = new k8s.core.v1.Secret(
            `${name}-internal-ca`,
            {
                metadata: { name: INTERNAL_ISSUER, namespace },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": ca.certPem, "tls.key": key.privateKeyPem, "ca.crt": ca.certPem },
            },
            { parent: this, aliases },
        );
        const issuer = new k8s.apiextensions.CustomResource(
            `${name}-internal-issuer`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "ClusterIssuer",
                metadata: { name: INTERNAL_ISSUER },
                spec: { ca: { secretName: INTERNAL_ISSUER } },
            },
            { parent: this, dependsOn: [this.certManager, secret], aliases },
        );
        return { name: INTERNAL_ISSUER, resource: issuer, caCertPem: ca.certPem };
    }
}
