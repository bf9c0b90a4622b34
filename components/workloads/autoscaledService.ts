import * as k8s from "@pulumi/kubernetes";
import { CertificateIssuer, serverCertificate, serviceDnsNames } from "../lib/certificates";
import { TLS_FRONT_PORT } from "../lib/tlsFrontend";
import * as pulumi from "@pulumi/pulumi";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";
import { ServiceConfig } from "../config/schema";
import { requestRateMetric } from "./autoscaling";
import {
    HTTP_PORT_NAME,
    NodePlacement,
    ZoneSpread,
    hpaBehavior,
    needsDisruptionBudget,
    podSpec,
    selectorLabels,
    serviceLabels,
} from "./spec";

/** A Secret the program creates for a workload, by name and resource (for ordering). */
export interface SecretRef {
    secretName: string;
    secret: pulumi.Resource;
}

export interface AutoscaledServiceArgs {
    /** The service's validated entry of `finbot:services`. */
    service: ServiceConfig;
    /** The image reference, resolved from `finbot:releases.images`. */
    image: string;
    /** Namespace to run in (created by the caller). */
    namespace: pulumi.Input<string>;
    /**
     * Whether zone spreading is strict (`DoNotSchedule`) or best effort.
     * @default "preferred"
     */
    zoneSpread?: ZoneSpread;
    /**
     * Scrape the service's metrics with a ServiceMonitor, created after the resource that
     * installs the monitoring.coreos.com CRDs.
     * @default no ServiceMonitor
     */
    serviceMonitor?: { crds: pulumi.Resource; interval: string };
    /**
     * Secrets (same namespace) whose keys become environment variables: the data tier's
     * connection settings, APM and Sentry settings.
     * @default none
     */
    envFrom?: SecretRef[];
    /**
     * ConfigMap (same namespace) of the CA certificates the service verifies servers with, mounted at /etc/finbot/ca.
     * @default no CA bundle
     */
    caConfigMap?: string;
    /**
     * Labels the pods carry besides their own (security groups for pods select on them).
     * @default none
     */
    podLabels?: Record<string, string>;
    /**
     * Where the pods run: Karpenter's services pool (its label and taint).
     * @default any node
     */
    placement?: NodePlacement;
    /**
     * A TLS front beside the service (port TLS_FRONT_PORT of its Service), with a certificate of this
     * issuer for the Service's name: the public gateway reaches the service through it, verified.
     * @default plain HTTP only
     */
    tlsFront?: { image: string; issuer: CertificateIssuer; namespace: string };
}

/** The Secret of a service's TLS front certificate. */
const tlsSecretName = (service: string) => `${service}-tls`;

/** What the HPA scales on: requests per second per pod (when set), and CPU and memory utilization. */
function hpaMetrics(service: AutoscaledServiceArgs["service"]) {
    return [
        ...(service.targets.requestsPerSecond
            ? [
                  {
                      type: "Pods",
                      pods: {
                          metric: { name: requestRateMetric(service) },
                          target: { type: "AverageValue", averageValue: String(service.targets.requestsPerSecond) },
                      },
                  },
              ]
            : []),
        {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: service.targets.cpuPercent } },
        },
        {
            type: "Resource",
            resource: {
                name: "memory",
                target: { type: "Utilization", averageUtilization: service.targets.memoryPercent },
            },
        },
    ];
}

/**
 * A FinBot HTTP service: Deployment (replicas left to the HPA), ClusterIP Service, HPA
 * `autoscaling/v2` with CPU and memory targets and explicit behaviour, and a
 * PodDisruptionBudget when more than one replica is possible.
 */
export class AutoscaledService extends pulumi.ComponentResource {
    /** The Kubernetes Service name (the in-cluster DNS name within the namespace). */
    public readonly serviceName: pulumi.Output<string>;
    /** `http://<service>.<namespace>.svc.cluster.local:<port>`. */
    public readonly url: pulumi.Output<string>;
    public readonly deployment: k8s.apps.v1.Deployment;
    public readonly autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler;

    constructor(name: string, args: AutoscaledServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:workloads:AutoscaledService", name, {}, opts);
        const { service } = args;
        const labels = serviceLabels(service.name, args.image);
        const metadata = { name: service.name, namespace: args.namespace, labels };

        const serviceAccount = new k8s.core.v1.ServiceAccount(name, { metadata, automountServiceAccountToken: false }, { parent: this });

        const envSecretName = Object.keys(service.secretEnv).length > 0 ? `${service.name}-env` : undefined;
        const secretEnv =
            envSecretName !== undefined
                ? new k8s.core.v1.Secret(
                      `${name}-env`,
                      { metadata: { ...metadata, name: envSecretName }, type: "Opaque", stringData: service.secretEnv },
                      { parent: this },
                  )
                : undefined;

        const certificate =
            args.tlsFront &&
            serverCertificate(
                `${name}-tls`,
                {
                    namespace: args.tlsFront.namespace,
                    secretName: tlsSecretName(service.name),
                    dnsNames: serviceDnsNames(service.name, args.tlsFront.namespace),
                    issuer: args.tlsFront.issuer,
                },
                { parent: this },
            );
        this.deployment = this.deploymentOf(name, args, metadata, serviceAccount, envSecretName, [
            ...(secretEnv ? [secretEnv] : []),
            ...(certificate ? [certificate] : []),
        ]);

        const kubeService = new k8s.core.v1.Service(
            name,
            {
                metadata,
                spec: {
                    type: "ClusterIP",
                    selector: selectorLabels(service.name),
                    ports: [
                        { name: HTTP_PORT_NAME, port: service.port, targetPort: HTTP_PORT_NAME, protocol: "TCP" },
                        ...(args.tlsFront ? [{ name: "https", port: TLS_FRONT_PORT, targetPort: TLS_FRONT_PORT, protocol: "TCP" }] : []),
                    ],
                },
            },
            { parent: this },
        );

        this.autoscaler = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name,
            {
                metadata,
                spec: {
                    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name },
                    minReplicas: service.replicas.min,
                    maxReplicas: service.replicas.max,
                    metrics: hpaMetrics(service),
                    behavior: hpaBehavior(service.scaling),
                },
            },
            { parent: this },
        );

        if (needsDisruptionBudget(service)) {
            new k8s.policy.v1.PodDisruptionBudget(
                name,
                { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(service.name) } } },
                { parent: this },
            );
        }

        if (args.serviceMonitor) {
            new k8s.apiextensions.CustomResource(
                name,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "ServiceMonitor",
                    metadata,
                    spec: {
                        selector: { matchLabels: selectorLabels(service.name) },
                        endpoints: [
                            { port: HTTP_PORT_NAME, path: service.metrics.path, interval: args.serviceMonitor.interval, scheme: "http" },
                        ],
                        ...SCRAPE_LIMITS.service,
                    },
                },
                { parent: this, dependsOn: [args.serviceMonitor.crds, kubeService] },
            );
        }

        this.serviceName = kubeService.metadata.name;
        this.url = pulumi.interpolate`http://${kubeService.metadata.name}.${kubeService.metadata.namespace}.svc.cluster.local:${service.port}`;
        this.registerOutputs({ serviceName: this.serviceName, url: this.url });
    }

    /** The Deployment: no replica count (the HPA's), rolled out without losing capacity, its pods hardened. */
    private deploymentOf(
        name: string,
        args: AutoscaledServiceArgs,
        metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> },
        serviceAccount: k8s.core.v1.ServiceAccount,
        /** The Secret holding secretEnv, when the service has any. */
        envSecretName: string | undefined,
        /** What the pods need first: the Secret of secretEnv, the TLS front's certificate. */
        needs: pulumi.Resource[],
    ): k8s.apps.v1.Deployment {
        const { service } = args;
        const { labels } = metadata;
        return new k8s.apps.v1.Deployment(
            name,
            {
                metadata,
                spec: {
                    // No `replicas`: the HPA owns the count, so `pulumi up` never fights it.
                    selector: { matchLabels: selectorLabels(service.name) },
                    revisionHistoryLimit: 5,
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
                    template: {
                        metadata: { labels: { ...args.podLabels, ...labels } },
                        spec: {
                            ...podSpec({
                                service,
                                image: args.image,
                                zoneSpread: args.zoneSpread ?? "preferred",
                                serviceAccountName: service.name,
                                envFromSecrets: [
                                    ...(envSecretName !== undefined ? [envSecretName] : []),
                                    ...(args.envFrom ?? []).map((ref) => ref.secretName),
                                ],
                                caConfigMap: args.caConfigMap,
                                ...(args.tlsFront
                                    ? { tlsFront: { image: args.tlsFront.image, secretName: tlsSecretName(service.name) } }
                                    : {}),
                            }),
                            ...args.placement,
                        },
                    },
                },
            },
            {
                parent: this,
                dependsOn: [serviceAccount, ...needs, ...(args.envFrom ?? []).map((ref) => ref.secret)],
            },
        );
    }
}
