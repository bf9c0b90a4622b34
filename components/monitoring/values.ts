// Helm values of kube-prometheus-stack and prometheus-blackbox-exporter, per stack. Pure.
import { GrafanaSso, grafanaJwtSettings } from "./grafanaSso";
import { MonitoringUiTls, monitoringUiTlsValues } from "./uiTls";
import { CA_MOUNT_PATH } from "../lib/certificates";
import { EXPORTER_RESOURCES } from "../lib/sizes";
import { MonitoringConfig, defaultRetentionSize } from "../config/monitoring";
import { containerResources } from "../config/primitives";
import { imageParts } from "../lib/helm";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { ENFORCED_SCRAPE_LIMITS } from "../lib/scrapeLimits";
import { hardenedContainer } from "../lib/security";

export const KPS_RELEASE = "kube-prometheus-stack";
export const BLACKBOX_RELEASE = "prometheus-blackbox-exporter";
/** Grafana's sidecar loads ConfigMaps carrying this label as dashboards. */
export const DASHBOARD_LABEL = "grafana_dashboard";
/** ...into the Grafana folder named by this annotation. */
export const DASHBOARD_FOLDER_ANNOTATION = "grafana_folder";
/** The blackbox exporter module the uptime probes use. */
export const UPTIME_MODULE = "http_2xx";
/** Mounted into the Alertmanager pods; holds the whole alertmanager.yaml (it contains receiver secrets). */
export const ALERTMANAGER_CONFIG_SECRET = "alertmanager-finbot";

/** The Grafana role's password: a Secret of the monitoring namespace, key `password`. */
export const GRAFANA_DATABASE_SECRET = "grafana-database";
/** The CA bundle of Grafana's image (Alpine and Ubuntu alike), which RDS Proxy's public certificate chains to. */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** Where Grafana keeps its state when it runs more than one replica: a PostgreSQL database of its own. */
export interface GrafanaDatabase {
    /** The writer's host (RDS Proxy). */
    host: string;
    port: number;
    database: string;
    user: string;
    /** CA bundle the server's certificate is verified against (verify-full). */
    caFile: string;
    /** Labels Grafana's pods need to reach it (security groups for pods). */
    podLabels: Record<string, string>;
}

export interface KubePrometheusStackArgs {
    /** The validated `finbot:monitoring`. */
    monitoring: MonitoringConfig;
    /** Production: managed control plane, replicated Prometheus and Alertmanager. */
    production: boolean;
    /**
     * StorageClass of the volumes.
     * @default the cluster's default class
     */
    storageClass?: string;
    /** Secret with `admin-user` and `admin-password` for Grafana. */
    grafanaAdminSecret: string;
    /** Images from `finbot:releases.images` (busybox and kubectl run the CRD upgrade job). */
    images: Record<string, string>;
    /** Namespace of node-exporter (host access: the privileged node-agents namespace). */
    nodeAgentsNamespace: string;
    /**
     * Grafana's own database: with it Grafana runs `finbot:monitoring.grafana.replicas` pods.
     * @default SQLite on a volume, one pod
     */
    grafanaDatabase?: GrafanaDatabase;
    /**
     * Single sign-on: Grafana signs people in with the ID tokens the gateway forwards.
     * @default Grafana's own login (the admin account)
     */
    grafanaSso?: GrafanaSso;
    /**
     * Grafana, Prometheus and Alertmanager behind TLS fronts with certificates of the internal CA.
     * @default plain HTTP
     */
    uiTls?: MonitoringUiTls;
}

/** A disruption budget keeping one replica up, when there is more than one. */
const keepOne = (replicas: number) => ({ enabled: replicas > 1, minAvailable: 1 });

const volumeClaim = (size: string, storageClass?: string) => ({
    volumeClaimTemplate: {
        spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: size } },
            ...(storageClass ? { storageClassName: storageClass } : {}),
        },
    },
});

/** Spread replicas over nodes strictly (hard anti-affinity) when there is more than one. */
const antiAffinity = (replicas: number) => (replicas > 1 ? "hard" : "soft");

export function kubePrometheusStackValues(args: KubePrometheusStackArgs): Record<string, unknown> {
    const { monitoring, production } = args;
    const { prometheus, alertmanager } = monitoring;
    if (args.grafanaSso && !args.uiTls)
        throw new Error("Grafana's single sign-on needs its TLS: it verifies the egress gateway with the internal CA");
    const tls = args.uiTls && monitoringUiTlsValues(args.uiTls);
    // Managed control planes (EKS) expose no etcd, scheduler, controller-manager or kube-proxy metrics.
    const managed = monitoring.managedControlPlane;
    return {
        fullnameOverride: KPS_RELEASE,
        // Helm installs the chart's CRDs once and never upgrades them: the upgrade job applies the
        // CRDs of the pinned chart version server-side before every install and upgrade.
        crds: {
            enabled: true,
            upgradeJob: {
                enabled: true,
                forceConflicts: true,
                image: { busybox: imageParts(args.images.busybox), kubectl: imageParts(args.images.kubectl) },
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                podSecurityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
                containerSecurityContext: hardenedContainer(),
            },
        },
        defaultRules: {
            create: true,
            rules: managed
                ? {
                      etcd: false,
                      kubeControllerManager: false,
                      kubeSchedulerAlerting: false,
                      kubeSchedulerRecording: false,
                      kubeProxy: false,
                  }
                : {},
        },
        kubeEtcd: { enabled: !managed },
        kubeScheduler: { enabled: !managed },
        kubeControllerManager: { enabled: !managed },
        kubeProxy: { enabled: !managed },
        prometheus: {
            prometheusSpec: {
                replicas: prometheus.replicas,
                retention: prometheus.retention,
                retentionSize: prometheus.retentionSize ?? defaultRetentionSize(prometheus.storage),
                scrapeInterval: prometheus.scrapeInterval,
                evaluationInterval: prometheus.scrapeInterval,
                resources: containerResources(prometheus.resources),
                storageSpec: volumeClaim(prometheus.storage, args.storageClass),
                podAntiAffinity: antiAffinity(prometheus.replicas),
                // Ceilings over every scrape, the charts' own monitors included (scrapeLimits.ts).
                enforcedSampleLimit: ENFORCED_SCRAPE_LIMITS.sampleLimit,
                enforcedLabelLimit: ENFORCED_SCRAPE_LIMITS.labelLimit,
                enforcedLabelNameLengthLimit: ENFORCED_SCRAPE_LIMITS.labelNameLengthLimit,
                enforcedLabelValueLengthLimit: ENFORCED_SCRAPE_LIMITS.labelValueLengthLimit,
                // Pick up every ServiceMonitor, PodMonitor, Probe and PrometheusRule, not only the chart's.
                ruleSelectorNilUsesHelmValues: false,
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                probeSelectorNilUsesHelmValues: false,
                scrapeConfigSelectorNilUsesHelmValues: false,
                externalLabels: { environment: production ? "production" : "staging" },
                // No pod may write series into it: the checks write into their own receiver (ChecksReceiver).
                enableRemoteWriteReceiver: false,
                priorityClassName: PLATFORM_CRITICAL,
                ...tls?.prometheus.spec,
            },
            podDisruptionBudget: keepOne(prometheus.replicas),
            ...(tls ? { service: tls.prometheus.service } : {}),
        },
        alertmanager: {
            alertmanagerSpec: {
                replicas: alertmanager.replicas,
                resources: containerResources(alertmanager.resources),
                storage: volumeClaim(alertmanager.storage, args.storageClass),
                podAntiAffinity: antiAffinity(alertmanager.replicas),
                // The config (with receivers' keys) comes from a Secret the program writes, not from values.
                useExistingSecret: true,
                configSecret: ALERTMANAGER_CONFIG_SECRET,
                priorityClassName: PLATFORM_CRITICAL,
                ...tls?.alertmanager.spec,
            },
            podDisruptionBudget: keepOne(alertmanager.replicas),
            ...(tls ? { service: tls.alertmanager.service } : {}),
        },
        prometheusOperator: {
            priorityClassName: PLATFORM_CRITICAL,
            admissionWebhooks: { patch: { priorityClassName: PLATFORM_CRITICAL } },
        },
        "kube-state-metrics": { priorityClassName: PLATFORM_CRITICAL },
        // node-exporter needs the host's network and file systems: it runs with the other node agents.
        "prometheus-node-exporter": { namespaceOverride: args.nodeAgentsNamespace, priorityClassName: PLATFORM_CRITICAL },
        grafana: grafanaValues(args, tls?.grafana),
    };
}

/**
 * Grafana's part: its admin (break-glass) Secret, its state, the dashboards' sidecar, its TLS front
 * behind the gateway, and with single sign-on `[auth.jwt]` and the internal CA it verifies the
 * egress gateway with.
 */
function grafanaValues(args: KubePrometheusStackArgs, front?: Record<string, unknown>): Record<string, unknown> {
    const { grafana } = args.monitoring;
    const caConfigMap = args.grafanaSso && args.uiTls?.caConfigMap;
    return {
        admin: { existingSecret: args.grafanaAdminSecret, userKey: "admin-user", passwordKey: "admin-password" },
        ...grafanaState(args),
        resources: containerResources(grafana.resources),
        priorityClassName: PLATFORM_CRITICAL,
        ...front,
        ...(caConfigMap
            ? { extraConfigmapMounts: [{ name: "finbot-ca", mountPath: CA_MOUNT_PATH, configMap: caConfigMap, readOnly: true }] }
            : {}),
        sidecar: {
            dashboards: {
                enabled: true,
                label: DASHBOARD_LABEL,
                labelValue: "1",
                searchNamespace: "ALL",
                folderAnnotation: DASHBOARD_FOLDER_ANNOTATION,
                provider: { foldersFromFilesStructure: true },
            },
        },
        "grafana.ini": {
            analytics: { reporting_enabled: false, check_for_updates: false },
            users: { allow_sign_up: false },
            "auth.anonymous": { enabled: false },
            ...(args.grafanaSso ? { "auth.jwt": grafanaJwtSettings(args.grafanaSso) } : {}),
            ...(args.grafanaDatabase ? { database: grafanaDatabaseSettings(args.grafanaDatabase) } : {}),
        },
    };
}

/**
 * Where Grafana keeps its users, sessions, API keys and preferences. One pod: SQLite on its volume
 * (a node or zone loss takes the dashboards away until the volume is back). Several: a PostgreSQL
 * database of its own, no volume, spread over zones (production) or nodes with one pod always up;
 * sessions are rows there, so a pod's loss signs nobody out (the dashboards and data sources are
 * provisioned from ConfigMaps into every pod).
 */
function grafanaState(args: KubePrometheusStackArgs): Record<string, unknown> {
    const { grafana } = args.monitoring;
    const database = args.grafanaDatabase;
    if (!database) {
        return {
            replicas: 1,
            persistence: { enabled: true, size: grafana.storage, ...(args.storageClass ? { storageClassName: args.storageClass } : {}) },
        };
    }
    return {
        replicas: grafana.replicas,
        persistence: { enabled: false },
        podDisruptionBudget: { minAvailable: 1 },
        topologySpreadConstraints: [
            {
                maxSkew: 1,
                topologyKey: args.production ? "topology.kubernetes.io/zone" : "kubernetes.io/hostname",
                whenUnsatisfiable: "DoNotSchedule",
                labelSelector: { matchLabels: { "app.kubernetes.io/name": "grafana" } },
            },
        ],
        podLabels: database.podLabels,
        envValueFrom: { GF_DATABASE_PASSWORD: { secretKeyRef: { name: GRAFANA_DATABASE_SECRET, key: "password" } } },
    };
}

/** Grafana's `[database]`: PostgreSQL, the server verified by name and CA; the password comes from the environment. */
function grafanaDatabaseSettings(database: GrafanaDatabase): Record<string, string> {
    return {
        type: "postgres",
        host: `${database.host}:${database.port}`,
        name: database.database,
        user: database.user,
        ssl_mode: "verify-full",
        ca_cert_path: database.caFile,
    };
}

export interface BlackboxArgs {
    /** Production: two replicas with a disruption budget. */
    production: boolean;
}

/** The blackbox exporter probing public endpoints over HTTP(S). */
export function blackboxValues(args: BlackboxArgs): Record<string, unknown> {
    return {
        replicas: args.production ? 2 : 1,
        priorityClassName: PLATFORM_CRITICAL,
        resources: EXPORTER_RESOURCES,
        podDisruptionBudget: args.production ? { maxUnavailable: 1 } : {},
        config: {
            modules: {
                [UPTIME_MODULE]: {
                    prober: "http",
                    timeout: "5s",
                    http: {
                        valid_http_versions: ["HTTP/1.1", "HTTP/2.0"],
                        follow_redirects: true,
                        preferred_ip_protocol: "ip4",
                        valid_status_codes: [],
                    },
                },
            },
        },
    };
}
