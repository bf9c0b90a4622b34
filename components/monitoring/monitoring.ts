import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import YAML from "yaml";
import { DashboardDefinition } from "../../dashboards";
import { MonitoringConfig } from "../config/monitoring";
import { CHARTS } from "../config/releases";
import { ServiceConfig } from "../config/schema";
import { alertmanagerConfig } from "./alertmanager";
import { platformRuleGroups } from "./platformRules";
import { RuleGroup } from "./rules";
import { redRuleGroup, serviceObjectives, sloRuleGroup, uptimeObjective } from "./slo";
import {
    ALERTMANAGER_CONFIG_SECRET,
    BLACKBOX_RELEASE,
    DASHBOARD_FOLDER_ANNOTATION,
    DASHBOARD_LABEL,
    KPS_RELEASE,
    blackboxValues,
    kubePrometheusStackValues,
} from "./values";

export interface MonitoringArgs {
    /** The validated `finbot:monitoring`. */
    config: MonitoringConfig;
    /** Production sizing and managed-control-plane defaults. */
    production: boolean;
    /** Namespace to install into (created by the caller). */
    namespace: string;
    /** Namespace of FinBot's services (SLO and RED rules select it). */
    appsNamespace: string;
    /** FinBot's services: SLO rules, regression rules and uptime probes are generated for them. */
    services: ServiceConfig[];
    /** Exact chart versions from `finbot:releases.charts`. */
    chartVersions: { "kube-prometheus-stack": string; "prometheus-blackbox-exporter": string; "prometheus-pushgateway": string };
    /** Namespaces whose persistent volumes are watched for filling up. */
    volumeNamespaces: string[];
    /** Dashboards to provision. */
    dashboards: DashboardDefinition[];
    /**
     * StorageClass of the volumes.
     * @default the cluster's default class
     */
    storageClass?: string;
    /** Rule groups contributed by other areas (data tier, logging), created once the CRDs exist. */
    extraRuleGroups?: RuleGroup[];
    /** cert-manager issues certificates: alert on their expiry. */
    certificates: boolean;
    /** Let Prometheus accept remote writes (load-test results). @default false */
    remoteWriteReceiver?: boolean;
    /** Images from `finbot:releases.images` (the CRD upgrade job's busybox and kubectl). */
    images: Record<string, string>;
}

/** Every rule group the monitoring area generates for a config (pure; used by tests and promtool). */
export function monitoringRuleGroups(
    args: Pick<MonitoringArgs, "config" | "appsNamespace" | "services" | "volumeNamespaces" | "certificates">,
): RuleGroup[] {
    const publicServices = args.services.filter((s) => s.public);
    return [
        ...args.services.flatMap((service) => [
            redRuleGroup(service, args.appsNamespace),
            ...serviceObjectives(service, args.appsNamespace).map(sloRuleGroup),
        ]),
        ...publicServices.map((service) => sloRuleGroup(uptimeObjective(service.name, args.config.uptime.objective))),
        ...platformRuleGroups({
            appsNamespace: args.appsNamespace,
            volumeNamespaces: args.volumeNamespaces,
            services: args.services,
            certificates: args.certificates,
        }),
    ];
}

/**
 * Prometheus, Alertmanager and Grafana (kube-prometheus-stack), the blackbox exporter with an
 * uptime Probe per public service, FinBot's SLO and platform rules, alert routing and dashboards.
 */
export class Monitoring extends pulumi.ComponentResource {
    /** The kube-prometheus-stack release: custom resources of monitoring.coreos.com depend on it. */
    public readonly operator: k8s.helm.v3.Release;
    public readonly prometheusUrl: pulumi.Output<string>;
    public readonly alertmanagerUrl: pulumi.Output<string>;
    public readonly grafanaUrl: pulumi.Output<string>;
    /** Grafana's admin password (secret). */
    public readonly grafanaAdminPassword: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:monitoring:Monitoring", name, {}, opts);
        const { config, namespace } = args;

        const grafanaPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent: this });
        const grafanaSecret = new k8s.core.v1.Secret(
            `${name}-grafana-admin`,
            {
                metadata: { name: "grafana-admin", namespace },
                type: "Opaque",
                stringData: { "admin-user": "admin", "admin-password": grafanaPassword.result },
            },
            { parent: this },
        );

        const { alerting } = config;
        const alertmanagerYaml = pulumi
            .all([alerting.pagerduty?.routingKey, alerting.slack?.webhookUrl, alerting.deadMansSwitch?.url])
            .apply(([pagerdutyRoutingKey, slackUrl, deadMansSwitchUrl]) =>
                YAML.stringify(
                    alertmanagerConfig(
                        {
                            pagerdutyRoutingKey,
                            slack: slackUrl && alerting.slack ? { webhookUrl: slackUrl, channel: alerting.slack.channel } : undefined,
                            deadMansSwitchUrl,
                        },
                        alerting,
                    ),
                ),
            );
        const alertmanagerSecret = new k8s.core.v1.Secret(
            `${name}-alertmanager-config`,
            {
                metadata: { name: ALERTMANAGER_CONFIG_SECRET, namespace },
                type: "Opaque",
                // Receivers' keys are inside: the whole file is a secret.
                stringData: { "alertmanager.yaml": pulumi.secret(alertmanagerYaml) },
            },
            { parent: this },
        );

        this.operator = new k8s.helm.v3.Release(
            `${name}-kube-prometheus-stack`,
            {
                name: KPS_RELEASE,
                chart: "kube-prometheus-stack",
                version: args.chartVersions["kube-prometheus-stack"],
                repositoryOpts: { repo: CHARTS["kube-prometheus-stack"].repo },
                namespace,
                // The chart's CRDs are installed before its templates (Helm's crds/ handling).
                skipCrds: false,
                atomic: true,
                cleanupOnFail: true,
                timeout: 900,
                maxHistory: 10,
                values: kubePrometheusStackValues({
                    monitoring: config,
                    production: args.production,
                    storageClass: args.storageClass,
                    grafanaAdminSecret: "grafana-admin",
                    remoteWriteReceiver: args.remoteWriteReceiver,
                    images: args.images,
                }),
            },
            { parent: this, dependsOn: [grafanaSecret, alertmanagerSecret] },
        );
        const afterCrds = { parent: this, dependsOn: [this.operator] };

        const blackbox = new k8s.helm.v3.Release(
            `${name}-blackbox-exporter`,
            {
                name: BLACKBOX_RELEASE,
                chart: "prometheus-blackbox-exporter",
                version: args.chartVersions["prometheus-blackbox-exporter"],
                repositoryOpts: { repo: CHARTS["prometheus-blackbox-exporter"].repo },
                namespace,
                atomic: true,
                cleanupOnFail: true,
                maxHistory: 10,
                values: blackboxValues({ production: args.production }),
            },
            { parent: this },
        );

        if (config.pushgateway) {
            new k8s.helm.v3.Release(
                `${name}-pushgateway`,
                {
                    name: "prometheus-pushgateway",
                    chart: "prometheus-pushgateway",
                    version: args.chartVersions["prometheus-pushgateway"],
                    repositoryOpts: { repo: CHARTS["prometheus-pushgateway"].repo },
                    namespace,
                    atomic: true,
                    cleanupOnFail: true,
                    maxHistory: 10,
                    values: {
                        serviceMonitor: { enabled: true },
                        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                    },
                },
                afterCrds,
            );
        }

        for (const service of args.services.filter((s) => s.public)) {
            new k8s.apiextensions.CustomResource(
                `${name}-uptime-${service.name}`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "Probe",
                    metadata: { name: `uptime-${service.name}`, namespace },
                    spec: {
                        jobName: "uptime",
                        interval: config.uptime.interval,
                        module: "http_2xx",
                        prober: { url: `${BLACKBOX_RELEASE}.${namespace}.svc:9115`, path: "/probe" },
                        targets: {
                            staticConfig: {
                                static: [
                                    `http://${service.name}.${args.appsNamespace}.svc.cluster.local:${service.port}${service.health.readiness}`,
                                ],
                                labels: { service: service.name, probe: "uptime" },
                            },
                        },
                    },
                },
                { parent: this, dependsOn: [this.operator, blackbox] },
            );
        }

        const groups = [...monitoringRuleGroups(args), ...(args.extraRuleGroups ?? [])];
        new k8s.apiextensions.CustomResource(
            `${name}-rules`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: { name: "finbot", namespace, labels: { "app.kubernetes.io/part-of": "finbot" } },
                spec: { groups },
            },
            afterCrds,
        );

        for (const board of args.dashboards) {
            new k8s.core.v1.ConfigMap(
                `${name}-dashboard-${board.uid}`,
                {
                    metadata: {
                        name: `dashboard-${board.uid}`,
                        namespace,
                        labels: { [DASHBOARD_LABEL]: "1", "app.kubernetes.io/part-of": "finbot" },
                        annotations: { [DASHBOARD_FOLDER_ANNOTATION]: board.folder },
                    },
                    data: { [`${board.uid}.json`]: JSON.stringify(board.model) },
                },
                { parent: this },
            );
        }

        const svc = (service: string, port: number) => `http://${service}.${namespace}.svc.cluster.local:${port}`;
        this.prometheusUrl = pulumi.output(svc(`${KPS_RELEASE}-prometheus`, 9090));
        this.alertmanagerUrl = pulumi.output(svc(`${KPS_RELEASE}-alertmanager`, 9093));
        this.grafanaUrl = pulumi.output(svc(`${KPS_RELEASE}-grafana`, 80));
        this.grafanaAdminPassword = pulumi.secret(grafanaPassword.result);
        this.registerOutputs({
            prometheusUrl: this.prometheusUrl,
            alertmanagerUrl: this.alertmanagerUrl,
            grafanaUrl: this.grafanaUrl,
            grafanaAdminPassword: this.grafanaAdminPassword,
        });
    }
}
