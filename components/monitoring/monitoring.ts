import { EXPORTER_RESOURCES } from "../lib/sizes";
import { UI_PORTS } from "./labels";
import { TLS_FRONT_REQUESTS } from "../config/capacity";
import { TLS_FRONT_PORT } from "../lib/tlsFrontend";
import { CA_CONFIGMAP, CertificateIssuer, serverCertificate, serviceDnsNames } from "../lib/certificates";
import { GrafanaSso } from "./grafanaSso";
import { podIdentity } from "../lib/podIdentity";
import { parseBytes } from "../config/quantities";
import { PageConfig } from "../config/traffic";
import { pageLoadRuleGroup } from "./pageLoadRules";
import { alertQualityRuleGroup } from "./alertQualityRules";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import YAML from "yaml";
import { DashboardDefinition } from "../../dashboards";
import { MonitoringConfig } from "../config/monitoring";
import { ServiceConfig } from "../config/schema";
import { ClusterService, PART_OF_LABELS, clusterUrl, serviceHost } from "../lib/services";
import { Footprint } from "../lib/footprint";
import { helmRelease } from "../lib/helm";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";
import { UiRoute } from "../traffic/routes";
import { alertmanagerConfig } from "./alertmanager";
import { platformHealthRuleGroups } from "./platformRules";
import { RuleGroup, withRunbookUrls } from "./rules";
import { edgeUptimeObjective, redRuleGroup, serviceObjectives, sloRuleGroup, uptimeObjective } from "./slo";
import type { EdgeProbe } from "../traffic/pages";
import {
    ALERTMANAGER_CONFIG_SECRET,
    BLACKBOX_RELEASE,
    DASHBOARD_FOLDER_ANNOTATION,
    DASHBOARD_LABEL,
    KPS_RELEASE,
    UPTIME_MODULE,
    blackboxValues,
    kubePrometheusStackValues,
    GrafanaDatabase,
} from "./values";

const OPENCOST_SERVICE_ACCOUNT = "opencost";
const OPENCOST_RESOURCES = { requests: { cpu: "50m", memory: "256Mi" }, limits: { memory: "1Gi" } };

export interface MonitoringArgs {
    /** The validated `finbot:monitoring`. */
    config: MonitoringConfig;
    /** Production sizing and managed-control-plane defaults. */
    production: boolean;
    /** Namespace to install into (created by the caller). */
    namespace: string;
    /** Namespace of FinBot's services (their uptime probes target it). */
    appsNamespace: string;
    /** FinBot's services: each public one gets an uptime Probe. */
    services: ServiceConfig[];
    /** Public addresses probed from outside in (`edgeProbes`), beside the in-cluster probes. */
    edgeProbes: EdgeProbe[];
    /** Exact chart versions from `finbot:releases.charts`. */
    chartVersions: {
        "kube-prometheus-stack": string;
        "prometheus-blackbox-exporter": string;
        "prometheus-pushgateway": string;
        opencost: string;
    };
    /**
     * The cluster's name on cost data (OpenCost's cluster id).
     * @default "finbot"
     */
    clusterId?: string;
    /**
     * The EKS cluster: OpenCost gets a pod identity there to read AWS prices and what the nodes are.
     * @default none (a laptop cluster: the chart's default prices)
     */
    eksClusterName?: pulumi.Input<string>;
    /** Images from `finbot:releases.images` (the CRD upgrade job's busybox and kubectl). */
    images: Record<string, string>;
    /** Every rule group Prometheus evaluates: the platform's own and those of the other areas (see `monitoringRuleGroups`). */
    ruleGroups: RuleGroup[];
    /** Every dashboard Grafana shows. */
    dashboards: DashboardDefinition[];
    /**
     * StorageClass of the volumes.
     * @default the cluster's default class
     */
    storageClass?: string;
    /** Namespace of the node agents (node-exporter runs there: it needs host access). */
    nodeAgentsNamespace: string;
    /**
     * Grafana's own database, when it runs more than one replica. The data tier makes it after
     * this component exists, so it comes as a promise; the release waits for what it lists in
     * `ready` (the role, the database, the password's Secret): Grafana does not start without them.
     * @default SQLite on a volume, one pod
     */
    grafanaDatabase?: Promise<GrafanaDatabaseInput>;
    /**
     * Single sign-on: Grafana signs people in with the ID tokens the gateway forwards to it.
     * @default Grafana's own login (the admin account)
     */
    grafanaSso?: GrafanaSso;
    /**
     * Grafana, Prometheus and Alertmanager behind TLS fronts with certificates of this issuer, so the
     * gateway's hop to each is encrypted and verified; `caBundle` is the ConfigMap CA_CONFIGMAP in this
     * namespace (Prometheus verifies Grafana's front, Grafana the egress gateway, with it). Single
     * sign-on needs it.
     * @default plain HTTP
     */
    uiTls?: { issuer: CertificateIssuer; caBundle: pulumi.Resource };
}

/** Grafana's database as the data tier gives it: the host known once RDS Proxy exists. */
export type GrafanaDatabaseInput = Omit<GrafanaDatabase, "host"> & { host: pulumi.Input<string>; ready: pulumi.Resource[] };

/** The Secrets of the UIs' certificates (their TLS fronts'). */
const UI_TLS_SECRETS = { grafana: "grafana-tls", prometheus: "prometheus-tls", alertmanager: "alertmanager-tls" };

/** The rule groups of the monitoring area itself: RED and SLOs per service, uptime, the platform's alerts. Pure. */
export function monitoringRuleGroups(args: {
    config: MonitoringConfig;
    appsNamespace: string;
    services: ServiceConfig[];
    /** Namespaces whose persistent volumes are watched for filling up. */
    volumeNamespaces: string[];
    /** cert-manager issues certificates: alert on their expiry. */
    certificates: boolean;
    /** Pages the synthetic browser checks load: their load-time rules. */
    pages: PageConfig[];
    /** Public addresses probed from outside in: their uptime SLO. */
    edgeProbes: EdgeProbe[];
    /** Namespaces of monitoring, logging and the node agents (their share of the cluster's requests). */
    observabilityNamespaces: string[];
}): RuleGroup[] {
    return [
        ...args.services.flatMap((service) => [
            redRuleGroup(service, args.appsNamespace),
            ...serviceObjectives(service, args.appsNamespace).map(sloRuleGroup),
        ]),
        ...args.services
            .filter((s) => s.public)
            .map((service) => sloRuleGroup(uptimeObjective(service.name, args.config.uptime.objective))),
        ...[...new Set(args.edgeProbes.map((p) => p.service))].map((service) =>
            sloRuleGroup(edgeUptimeObjective(service, args.config.uptime.objective)),
        ),
        ...platformHealthRuleGroups({
            ...args,
            prometheusMemoryLimitBytes: parseBytes(args.config.prometheus.resources.limits.memory) ?? 0,
            overheadCeilingPercent: args.config.overheadCeilingPercent,
            edgeServices: args.edgeProbes.map((p) => p.service),
        }),
        ...(args.pages.length > 0 ? [pageLoadRuleGroup(args.pages)] : []),
        alertQualityRuleGroup(args.config.noise),
    ];
}

/** What monitoring runs in the cluster, by part. */
function monitoringFootprint(config: MonitoringArgs["config"], uiTls: boolean): Footprint {
    return {
        requests: [
            { part: "Prometheus", pods: config.prometheus.replicas, ...config.prometheus.resources.requests },
            { part: "Alertmanager", pods: config.alertmanager.replicas, ...config.alertmanager.resources.requests },
            { part: "Grafana", pods: 1, ...config.grafana.resources.requests },
            ...(uiTls
                ? [
                      {
                          part: "TLS fronts of Grafana, Prometheus, Alertmanager",
                          pods: 1 + config.prometheus.replicas + config.alertmanager.replicas,
                          ...TLS_FRONT_REQUESTS,
                      },
                  ]
                : []),
            ...(config.cost ? [{ part: "OpenCost", pods: 1, ...OPENCOST_RESOURCES.requests }] : []),
        ],
        managed: [],
    };
}

/**
 * Prometheus, Alertmanager and Grafana (kube-prometheus-stack), the blackbox exporter with an
 * uptime Probe per public service, the rule groups and dashboards of every area, and alert routing.
 */
export class Monitoring extends pulumi.ComponentResource {
    /** The kube-prometheus-stack release: custom resources of monitoring.coreos.com depend on it. */
    public readonly operator: k8s.helm.v3.Release;
    /** The Services the chart creates. */
    public readonly prometheus: ClusterService;
    public readonly alertmanager: ClusterService;
    public readonly grafana: ClusterService;
    /** The rule groups and dashboards it serves. */
    public readonly ruleGroups: RuleGroup[];
    public readonly dashboards: DashboardDefinition[];
    /** Operator UIs the gateway may route: Grafana (own login), Prometheus and Alertmanager (none). */
    public readonly uis: UiRoute[];
    /** What it runs in the cluster. */
    public readonly footprint: Footprint;
    /** Grafana's admin password (secret). */
    public readonly grafanaAdminPassword: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:monitoring:Monitoring", name, {}, opts);
        const { config, namespace } = args;
        this.ruleGroups = args.ruleGroups;
        this.dashboards = args.dashboards;
        this.prometheus = { name: `${KPS_RELEASE}-prometheus`, namespace, port: UI_PORTS.prometheus };
        this.alertmanager = { name: `${KPS_RELEASE}-alertmanager`, namespace, port: UI_PORTS.alertmanager };
        this.grafana = { name: `${KPS_RELEASE}-grafana`, namespace, port: 80 };
        this.uis = this.operatorUis(args);
        this.footprint = monitoringFootprint(config, args.uiTls !== undefined);

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
        const alertmanagerSecret = this.alertRouting(name, args);

        // The UIs' TLS fronts start only with their certificates.
        const certificates = args.uiTls ? this.uiCertificates(name, args.uiTls.issuer, namespace) : [];
        const grafanaStarts: Promise<pulumi.Resource[]> = (args.grafanaDatabase ?? Promise.resolve(undefined)).then((database) => [
            grafanaSecret,
            alertmanagerSecret,
            ...certificates,
            ...(args.uiTls ? [args.uiTls.caBundle] : []),
            ...(database?.ready ?? []),
        ]);
        this.operator = helmRelease(
            `${name}-kube-prometheus-stack`,
            {
                chart: "kube-prometheus-stack",
                version: args.chartVersions["kube-prometheus-stack"],
                releaseName: KPS_RELEASE,
                namespace,
                timeout: 900,
                values: pulumi.output(args.grafanaDatabase?.then(({ ready: _ready, ...database }) => database)).apply((grafanaDatabase) =>
                    kubePrometheusStackValues({
                        monitoring: config,
                        production: args.production,
                        storageClass: args.storageClass,
                        grafanaAdminSecret: "grafana-admin",
                        images: args.images,
                        nodeAgentsNamespace: args.nodeAgentsNamespace,
                        grafanaDatabase,
                        grafanaSso: args.grafanaSso,
                        uiTls: args.uiTls && {
                            image: args.images.ghostunnel,
                            secrets: UI_TLS_SECRETS,
                            caConfigMap: CA_CONFIGMAP,
                            grafanaServerName: serviceHost(this.grafana.name, this.grafana.namespace),
                        },
                    }),
                ),
            },
            {
                parent: this,
                dependsOn: grafanaStarts,
            },
        );
        const blackbox = helmRelease(
            `${name}-blackbox-exporter`,
            {
                chart: "prometheus-blackbox-exporter",
                version: args.chartVersions["prometheus-blackbox-exporter"],
                releaseName: BLACKBOX_RELEASE,
                namespace,
                values: blackboxValues({ production: args.production }),
            },
            { parent: this },
        );
        if (config.pushgateway) this.pushgateway(name, args);
        this.uptimeProbes(name, args, blackbox);
        this.edgeUptimeProbes(name, args, blackbox);
        if (config.cost) this.openCost(name, args);

        this.rulesAndDashboards(name, args);

        this.grafanaAdminPassword = pulumi.secret(grafanaPassword.result);
        this.registerOutputs({
            prometheusUrl: clusterUrl(this.prometheus),
            alertmanagerUrl: clusterUrl(this.alertmanager),
            grafanaUrl: clusterUrl(this.grafana),
            grafanaAdminPassword: this.grafanaAdminPassword,
        });
    }

    /** A Pushgateway for batch jobs to push to (off unless configured), scraped by Prometheus. */
    private pushgateway(name: string, args: MonitoringArgs): void {
        const { namespace } = args;
        helmRelease(
            `${name}-pushgateway`,
            {
                chart: "prometheus-pushgateway",
                version: args.chartVersions["prometheus-pushgateway"],
                releaseName: "prometheus-pushgateway",
                namespace,
                values: {
                    // The chart's ServiceMonitor defaults to a namespace called `monitoring`.
                    serviceMonitor: { enabled: true, namespace },
                    priorityClassName: PLATFORM_CRITICAL,
                    resources: EXPORTER_RESOURCES,
                },
            },
            { parent: this, dependsOn: [this.operator] },
        );
    }

    /** The rule groups as one PrometheusRule, and a ConfigMap per dashboard for Grafana's sidecar. */
    private rulesAndDashboards(name: string, args: MonitoringArgs): void {
        const { config, namespace } = args;
        new k8s.apiextensions.CustomResource(
            `${name}-rules`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: { name: "finbot", namespace, labels: PART_OF_LABELS },
                spec: { groups: withRunbookUrls(args.ruleGroups, config.runbookBaseUrl) },
            },
            { parent: this, dependsOn: [this.operator] },
        );
        for (const board of args.dashboards) {
            new k8s.core.v1.ConfigMap(
                `${name}-dashboard-${board.uid}`,
                {
                    metadata: {
                        name: `dashboard-${board.uid}`,
                        namespace,
                        labels: { [DASHBOARD_LABEL]: "1", ...PART_OF_LABELS },
                        annotations: { [DASHBOARD_FOLDER_ANNOTATION]: board.folder },
                    },
                    data: { [`${board.uid}.json`]: JSON.stringify(board.model) },
                },
                { parent: this },
            );
        }
    }

    /**
     * OpenCost: prices every node (AWS's public prices, or the chart's defaults on a laptop) and
     * what each container is allocated, from this Prometheus; Prometheus scrapes the result.
     */
    private openCost(name: string, args: MonitoringArgs): void {
        // On AWS: the price list and the nodes' instance types and spot state, read-only.
        const identity =
            args.eksClusterName === undefined
                ? undefined
                : podIdentity(
                      `${name}-opencost`,
                      {
                          clusterName: args.eksClusterName,
                          namespace: args.namespace,
                          serviceAccount: OPENCOST_SERVICE_ACCOUNT,
                          description: "OpenCost reads AWS prices and the cluster's instances",
                          statements: [
                              {
                                  Effect: "Allow",
                                  Action: [
                                      "pricing:GetProducts",
                                      "ec2:DescribeInstances",
                                      "ec2:DescribeSpotPriceHistory",
                                      "ec2:DescribeVolumes",
                                      "ec2:DescribeRegions",
                                  ],
                                  Resource: "*",
                              },
                          ],
                      },
                      { parent: this },
                  );
        helmRelease(
            `${name}-opencost`,
            {
                chart: "opencost",
                version: args.chartVersions.opencost,
                releaseName: "opencost",
                namespace: args.namespace,
                values: {
                    priorityClassName: PLATFORM_CRITICAL,
                    serviceAccount: { name: OPENCOST_SERVICE_ACCOUNT },
                    opencost: {
                        exporter: { defaultClusterId: args.clusterId ?? "finbot", resources: OPENCOST_RESOURCES },
                        prometheus: {
                            internal: {
                                enabled: true,
                                serviceName: this.prometheus.name,
                                namespaceName: args.namespace,
                                port: this.prometheus.port,
                            },
                        },
                        // OpenCost's own series keep their labels (node, namespace, pod), not the scrape target's.
                        metrics: { serviceMonitor: { enabled: true, honorLabels: true } },
                        // Grafana shows the costs; no second UI to secure.
                        ui: { enabled: false },
                    },
                },
            },
            { parent: this, dependsOn: [this.operator, ...(identity ? [identity.association] : [])] },
        );
    }

    /**
     * The operator UIs the gateway routes: Grafana (its own login, or single sign-on with the ID
     * token), Prometheus and Alertmanager (none); each on its TLS front, verified for its Service's
     * name, when the UIs serve TLS.
     */
    private operatorUis(args: MonitoringArgs): UiRoute[] {
        // Behind TLS, Grafana's Service port leads to its front (the chart's service.targetPort); Prometheus'
        // and Alertmanager's Services have a port of their own for it (service.additionalPorts).
        const reach = (service: ClusterService, tlsPort: number) =>
            args.uiTls ? { port: tlsPort, tlsHostname: serviceHost(service.name, service.namespace) } : { port: service.port };
        return [
            {
                name: "grafana",
                namespace: args.namespace,
                service: this.grafana.name,
                ownLogin: true,
                signsInWithIdToken: args.grafanaSso !== undefined,
                ...reach(this.grafana, this.grafana.port),
            },
            {
                name: "prometheus",
                namespace: args.namespace,
                service: this.prometheus.name,
                ownLogin: false,
                // Series are written only by the page checks and load tests, inside the cluster.
                forbiddenPaths: ["/api/v1/write"],
                ...reach(this.prometheus, TLS_FRONT_PORT),
            },
            {
                name: "alertmanager",
                namespace: args.namespace,
                service: this.alertmanager.name,
                ownLogin: false,
                ...reach(this.alertmanager, TLS_FRONT_PORT),
            },
        ];
    }

    /** The UIs' certificates (their TLS fronts'), for their Services' names. */
    private uiCertificates(name: string, issuer: CertificateIssuer, namespace: string): pulumi.Resource[] {
        return (["grafana", "prometheus", "alertmanager"] as const).map((ui) =>
            serverCertificate(
                `${name}-${ui}-certificate`,
                { namespace, secretName: UI_TLS_SECRETS[ui], dnsNames: serviceDnsNames(this[ui].name, namespace), issuer },
                { parent: this },
            ),
        );
    }

    /** alertmanager.yaml, receivers' keys inside: the whole file is a secret. */
    private alertRouting(name: string, args: MonitoringArgs): k8s.core.v1.Secret {
        const { alerting } = args.config;
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
        return new k8s.core.v1.Secret(
            `${name}-alertmanager-config`,
            {
                metadata: { name: ALERTMANAGER_CONFIG_SECRET, namespace: args.namespace },
                type: "Opaque",
                stringData: { "alertmanager.yaml": pulumi.secret(alertmanagerYaml) },
            },
            { parent: this },
        );
    }

    /** A blackbox Probe of each public service's readiness endpoint (the uptime SLO). */
    private uptimeProbes(name: string, args: MonitoringArgs, blackbox: pulumi.Resource): void {
        for (const service of args.services.filter((s) => s.public)) {
            const url = `${clusterUrl({ name: service.name, namespace: args.appsNamespace, port: service.port })}${service.health.readiness}`;
            this.uptimeProbe(name, `uptime-${service.name}`, args, blackbox, {
                job: "uptime",
                probe: "uptime",
                service: service.name,
                url,
            });
        }
    }

    /** A blackbox Probe of each public address (the edge: CDN, load balancer, gateway, certificate), its own SLO series. */
    private edgeUptimeProbes(name: string, args: MonitoringArgs, blackbox: pulumi.Resource): void {
        for (const [i, { service, url }] of args.edgeProbes.entries())
            this.uptimeProbe(name, `edge-${service}-${i}`, args, blackbox, { job: "uptime-edge", probe: "edge", service, url });
    }

    /** One Probe through the blackbox exporter's uptime module, its series labelled by service and probe. */
    private uptimeProbe(
        name: string,
        probeName: string,
        args: MonitoringArgs,
        blackbox: pulumi.Resource,
        target: { job: string; probe: "uptime" | "edge"; service: string; url: string },
    ): void {
        new k8s.apiextensions.CustomResource(
            `${name}-${probeName}`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "Probe",
                metadata: { name: probeName, namespace: args.namespace },
                spec: {
                    jobName: target.job,
                    interval: args.config.uptime.interval,
                    ...SCRAPE_LIMITS.probe,
                    module: UPTIME_MODULE,
                    prober: { url: `${serviceHost(BLACKBOX_RELEASE, args.namespace)}:9115`, path: "/probe" },
                    targets: { staticConfig: { static: [target.url], labels: { service: target.service, probe: target.probe } } },
                },
            },
            { parent: this, dependsOn: [this.operator, blackbox] },
        );
    }
}
