import * as k8s from "@pulumi/kubernetes";
import { hasTlsFront } from "../config/capacity";
import { grafanaHasDatabase } from "../config/monitoring";
import * as pulumi from "@pulumi/pulumi";
import { EksCluster, Karpenter, LoadBalancerController, servicesPoolPlacement } from "../cluster";
import { clusterTags } from "../cluster/nodePools";
import { DeployRunner } from "../delivery";
import { Pki, certManagerMonitor } from "../pki";
import { MANIFESTS, manifestUrl } from "../config/releases";
import { StackDefaults, stackDefaults } from "../config/resolve";
import { PlatformConfig } from "../config/schema";
import { SENTRY_PROVIDER } from "../config/thirdParties";
import { CONNECTIONS_SUFFIX, DataConsumer, DataTier, QUEUE_OPERATORS_NAMESPACE } from "../data";
import { POSTGRES_CLIENT_LABEL } from "../data/aurora";
import { deferred, settle } from "../lib/deferred";
import { CA_CONFIGMAP, INTERNAL_CA_FILE, INTERNAL_CA_KEY } from "../lib/certificates";
import { AwsNetwork } from "../lib/awsNetwork";
import { clusterServiceHost, clusterUrl } from "../lib/services";
import { Footprint } from "../lib/footprint";
import { ManifestFetcher, httpFetcher } from "../lib/manifest";
import { PodSecurityLevel, platformNamespace } from "../lib/namespace";
import { NamespaceFlows, namespacePolicies } from "../lib/networkPolicy";
import { priorityClasses } from "../lib/priority";
import { AREAS, platformRuleGroups } from "./areas";
import { platformFlows } from "./networkFlows";
import { ErrorTracking, Logging, OBSERVABILITY_SUFFIX } from "../logging";
import { ChecksReceiver, GRAFANA_DATABASE_SECRET, GrafanaDatabaseInput, GrafanaSso, Monitoring, SYSTEM_CA_BUNDLE } from "../monitoring";
import {
    EgressRoute,
    GATEWAY,
    ID_TOKEN_HEADER,
    LoadTest,
    PageChecks,
    Traffic,
    TrafficControllers,
    dsnThroughGateway,
    gatewayServiceName,
    grafanaSignsInWithIdTokens,
    identityKeysUrl,
    stackEgressRoutes,
    thirdPartyCallers,
    thirdPartyUrlVariable,
    hostFor,
    edgeProbes,
    measuredPages,
    pageUrl,
    syntheticChecks,
} from "../traffic";
import { AutoscaledService, AutoscaledServiceArgs, Autoscaling, QueueLengthAuth, QueueWorker, SecretRef } from "../workloads";

export interface PlatformArgs {
    /** The validated stack config (`finbot:` keys). */
    config: PlatformConfig;
    /**
     * Downloads release manifests (verified against their pins before they are applied).
     * @default an HTTPS download
     */
    fetchManifest?: ManifestFetcher;
    /**
     * The EKS cluster and its network: from `finbot:cluster` and `finbot:network`, or the cluster the stack created.
     * @default none (a laptop cluster)
     */
    aws?: { clusterName: pulumi.Input<string>; network?: AwsNetwork };
}

type Area = keyof PlatformConfig["namespaces"];

/**
 * The whole FinBot platform of one stack: namespaces, monitoring, the data tier, logging,
 * FinBot's autoscaled services and queue workers, and the traffic in front of them. The root of
 * every resource the program creates.
 */
export class Platform extends pulumi.ComponentResource {
    /** Namespaces by area. */
    public readonly namespaces: pulumi.Output<Record<string, string>>;
    /** In-cluster URL of each service, by service name. */
    public readonly serviceUrls: pulumi.Output<Record<string, string>>;
    /** In-cluster URLs of Grafana, Prometheus and Alertmanager (when monitoring is enabled). */
    public readonly monitoringUrls: pulumi.Output<Record<string, string>>;
    /** https://<name>.<domain> of every route through the gateway. */
    public readonly publicUrls: pulumi.Output<Record<string, string>>;
    /** Password of the `finbot` user in front of Prometheus and Alertmanager (secret). */
    public readonly uiPassword?: pulumi.Output<string>;
    /** CloudFront domain (production with the CDN on). */
    public readonly cdnDomain?: pulumi.Output<string>;

    /** The parts, for what reads the plan (summary, tests). */
    public readonly monitoring?: Monitoring;
    public readonly dataTier?: DataTier;
    public readonly logging?: Logging;
    public readonly traffic?: Traffic;
    /** Karpenter's nodes (when it is the node autoscaler). */
    public readonly karpenter?: Karpenter;
    /** The AWS Load Balancer Controller (a created cluster). */
    public readonly loadBalancers?: LoadBalancerController;
    /** FinBot's services by name (a canary under `<name>-canary`). */
    public readonly services: Record<string, AutoscaledService> = {};
    public readonly workers: QueueWorker[];

    private readonly namespaceNames: Record<string, pulumi.Output<string>> = {};
    /** Every pod names one of these; they exist before anything that runs pods. */
    private readonly priorityClasses: pulumi.Resource[];
    /** StorageClass of the stateful volumes (the cluster's default when undefined). */
    private readonly storageClass?: string;
    /** The EKS cluster and its network (undefined on a laptop cluster). */
    private readonly aws?: PlatformArgs["aws"];
    /** The stack's defaults, resolved once from the validated config. */
    private readonly defaults: StackDefaults;
    /** Every namespace's allowed flows, computed once (the areas write them). */
    private readonly flows: NamespaceFlows[];
    /** What the metered egress gateway routes (each provider's listener and URL), decided once. */
    private readonly egress: EgressRoute[];

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:platform:Platform", name, {}, opts);
        const { config } = args;
        this.defaults = stackDefaults(config);
        this.flows = platformFlows(config);
        this.egress = stackEgressRoutes(config, this.defaults.operatorAccess);
        const images = config.releases.images;
        this.aws = args.aws;

        this.priorityClasses = priorityClasses(name, { parent: this });
        this.storageClass = config.kubernetes.storageClass ?? (this.defaults.retainedVolumes ? this.retainedVolumes(name) : undefined);
        this.loadBalancers = this.buildLoadBalancerController(name, config);
        const apps = this.namespace(name, config, "apps", "restricted");
        // Filebeat and node-exporter need host access: they alone run in a privileged namespace.
        const nodeAgents =
            config.monitoring.enabled || config.logging.enabled ? this.namespace(name, config, "nodeAgents", "privileged") : undefined;
        // Grafana's own database comes from the data tier, built after monitoring: its release waits for it.
        const grafanaDatabase =
            config.monitoring.enabled && grafanaHasDatabase(config.monitoring) ? deferred<GrafanaDatabaseInput>() : undefined;
        // cert-manager, the internal CA and Envoy Gateway come first: Grafana, the data tier and logging ask for certificates.
        const { gateway: controllers, pki } = this.buildControllers(name, config);
        if (config.monitoring.enabled) this.monitoring = this.buildMonitoring(name, config, nodeAgents, pki, grafanaDatabase?.promise);
        if (this.defaults.dataTier) {
            if (!pki) throw new Error("the data tier needs the PKI: the stack defaults run it with the data tier");
            this.dataTier = this.buildDataTier(name, config, pki, args.fetchManifest ?? httpFetcher);
        }
        if (grafanaDatabase) settle(grafanaDatabase, () => this.grafanaDatabase(name));
        if (config.logging.enabled) {
            if (!pki || !nodeAgents) throw new Error("logging needs the PKI and the node-agents namespace");
            const namespace = this.namespace(name, config, "logging", "baseline");
            this.logging = this.buildLogging(name, config, [namespace, nodeAgents], pki);
        }
        const settings = this.consumerSettings(name, config, apps);
        const caConfigMap = pki && (this.caBundle(`${name}-ca-bundle`, config.namespaces.apps, pki, apps), CA_CONFIGMAP);
        const dataTier = this.dataTier;
        const podLabels = (consumer: string) => dataTier?.podLabels(dataConsumers(config).find((c) => c.name === consumer)!) ?? {};

        const karpenterOn = this.defaults.nodeAutoscaler === "karpenter";
        // With Karpenter, FinBot's services and workers run on the spot-and-on-demand services pool.
        const placement = karpenterOn ? servicesPoolPlacement() : undefined;
        for (const service of config.services)
            this.buildService(name, config, service, pki, {
                namespace: apps.metadata.name,
                envFrom: settings(service.name),
                caConfigMap,
                podLabels: podLabels(service.name),
                placement,
            });

        // KEDA's, the adapter's and Karpenter's pods are not all "restricted" yet.
        const autoscalingNamespace =
            karpenterOn || config.workers.length > 0 || config.autoscaling.metricsServer || this.monitoring
                ? this.namespace(name, config, "autoscaling", "baseline")
                : undefined;
        if (karpenterOn && autoscalingNamespace) this.karpenter = this.buildKarpenter(name, config, autoscalingNamespace);
        const keda = autoscalingNamespace && this.buildAutoscaling(name, config, autoscalingNamespace)?.keda;
        const queueLength = config.workers.length > 0 && pki ? this.queueLengthReader(name, config, pki, apps) : undefined;
        this.workers = config.workers.map((worker) => {
            if (!keda || !queueLength) throw new Error(`worker ${worker.name}: KEDA and the queue are there whenever there are workers`);
            return new QueueWorker(
                `${name}-${worker.name}`,
                {
                    worker,
                    image: images[worker.image],
                    namespace: apps.metadata.name,
                    envFrom: settings(worker.name),
                    queueLength,
                    keda,
                    caConfigMap,
                    podLabels: podLabels(worker.name),
                    placement,
                },
                { parent: this },
            );
        });

        if (controllers && pki) this.traffic = this.buildTraffic(name, config, controllers, pki);
        this.buildSyntheticChecks(name, config);

        this.namespaces = pulumi.all(this.namespaceNames);
        this.serviceUrls = pulumi.all(Object.fromEntries(config.services.map((s) => [s.name, this.services[s.name].url])));
        const m = this.monitoring;
        this.monitoringUrls = pulumi.output<Record<string, string>>(
            m ? { grafana: clusterUrl(m.grafana), prometheus: clusterUrl(m.prometheus), alertmanager: clusterUrl(m.alertmanager) } : {},
        );
        this.publicUrls = pulumi.output(this.traffic?.urls ?? {});
        this.uiPassword = this.traffic?.uiPassword;
        this.cdnDomain = this.traffic?.cdnDomain;
        this.registerOutputs({
            namespaces: this.namespaces,
            serviceUrls: this.serviceUrls,
            monitoringUrls: this.monitoringUrls,
            publicUrls: this.publicUrls,
            uiPassword: this.uiPassword,
            cdnDomain: this.cdnDomain,
        });
    }

    /** Load tests and page checks in a namespace of their own: in production the page checks load the CDN, on the internet. */
    private buildSyntheticChecks(name: string, config: PlatformConfig): void {
        if (!syntheticChecks(config) || !this.monitoring) return;
        const checks = this.namespace(name, config, "checks", "restricted");
        // The checks write into a receiver of their own: the platform's Prometheus accepts no writes.
        const receiver = new ChecksReceiver(
            `${name}-checks-receiver`,
            {
                namespace: config.namespaces.checks,
                operator: this.monitoring.operator,
                scrapeInterval: config.monitoring.prometheus.scrapeInterval,
            },
            { parent: this, dependsOn: [checks, ...this.priorityClasses] },
        );
        this.buildLoadTest(name, config, checks, receiver.remoteWriteUrl);
        this.buildPageChecks(name, config, checks, receiver.remoteWriteUrl);
    }

    /** k6 against the public services, its results written to Prometheus (off unless configured). */
    private buildLoadTest(name: string, config: PlatformConfig, checks: k8s.core.v1.Namespace, remoteWriteUrl: string): void {
        const images = config.releases.images;
        if (!config.traffic.loadTest.enabled || !this.monitoring) return;
        new LoadTest(
            `${name}-load-test`,
            {
                services: config.services.filter((s) => s.public),
                namespace: checks.metadata.name,
                image: images.k6,
                vus: config.traffic.loadTest.virtualUsers,
                duration: config.traffic.loadTest.duration,
                remoteWriteUrl,
            },
            { parent: this, dependsOn: Object.values(this.services) },
        );
    }

    /** A created cluster has no load balancer controller of its own: the gateways' NLBs need one. */
    private buildLoadBalancerController(name: string, config: PlatformConfig): LoadBalancerController | undefined {
        if (config.cluster.mode !== "create" || !this.aws?.network || !config.cluster.name) return undefined;
        return new LoadBalancerController(
            `${name}-load-balancer-controller`,
            {
                clusterName: config.cluster.name,
                clusterNameOutput: this.aws.clusterName,
                vpcId: this.aws.network.vpcId,
                nodeSecurityGroupId: this.aws.network.nodeSecurityGroupId,
                version: config.releases.charts["aws-load-balancer-controller"],
                highlyAvailable: this.defaults.production,
            },
            { parent: this, dependsOn: this.priorityClasses },
        );
    }

    /** A service (and its canary, the second release the route splits traffic to). */
    private buildService(
        name: string,
        config: PlatformConfig,
        service: PlatformConfig["services"][number],
        pki: Pki | undefined,
        common: Omit<AutoscaledServiceArgs, "service" | "image" | "zoneSpread" | "serviceMonitor" | "tlsFront">,
    ): void {
        const images = config.releases.images;
        const zoneSpread = this.defaults.zoneSpread;
        const serviceMonitor = this.monitoring && { crds: this.monitoring.operator, interval: config.monitoring.prometheus.scrapeInterval };
        // The public gateway reaches a public service through its TLS front, verified against the internal CA.
        const tlsFront =
            hasTlsFront(service, config.traffic.enabled) && pki
                ? { image: images.ghostunnel, issuer: pki.internalIssuer, namespace: config.namespaces.apps }
                : undefined;
        const args = { ...common, zoneSpread, serviceMonitor, tlsFront };
        this.services[service.name] = new AutoscaledService(
            `${name}-${service.name}`,
            { ...args, service, image: images[service.image] },
            { parent: this },
        );
        if (service.canary) {
            const canary = { ...service, name: `${service.name}-canary` };
            this.services[canary.name] = new AutoscaledService(
                `${name}-${canary.name}`,
                { ...args, service: canary, image: images[service.canary.image] },
                { parent: this },
            );
        }
    }

    /** A synthetic browser check per page of finbot:traffic.pages, writing Web Vitals to Prometheus. */
    private buildPageChecks(name: string, config: PlatformConfig, checks: k8s.core.v1.Namespace, remoteWriteUrl: string): void {
        const pages = measuredPages(config);
        if (pages.length === 0 || !this.monitoring) return;
        new PageChecks(
            `${name}-page-checks`,
            {
                pages,
                // Through the CDN where there is one, as users load them.
                urls: Object.fromEntries(pages.map((p) => [p.name, pageUrl(config.traffic, p)])),
                namespace: checks.metadata.name,
                image: config.releases.images["k6-browser"],
                schedule: config.traffic.pageChecks.schedule,
                remoteWriteUrl,
                // Staging's domain has no public DNS (a laptop cluster): the check goes to the gateway's Service.
                inCluster: this.defaults.production
                    ? undefined
                    : {
                          domain: config.traffic.domain,
                          gatewayHost: clusterServiceHost(gatewayServiceName(GATEWAY), config.namespaces.traffic),
                      },
            },
            { parent: this, dependsOn: [...Object.values(this.services), ...(this.traffic ? [this.traffic] : [])] },
        );
    }

    /** What the stack runs at rest (services and workers at their minimum replicas) and the managed AWS services it creates. */
    public footprint(config: PlatformConfig): Footprint {
        const parts = [this.monitoring?.footprint, this.dataTier?.footprint, this.logging?.footprint, this.traffic?.footprint];
        return {
            requests: [
                ...config.services.map((s) => ({ part: `service ${s.name}`, pods: s.replicas.min, ...s.resources.requests })),
                ...config.workers.map((w) => ({ part: `worker ${w.name}`, pods: w.replicas.min, ...w.resources.requests })),
                ...parts.flatMap((p) => p?.requests ?? []),
            ],
            managed: parts.flatMap((p) => p?.managed ?? []),
        };
    }

    /**
     * Production's volumes outlive their claims: a deleted PVC (or Elasticsearch node, or RabbitMQ
     * cluster) leaves its EBS volume to be reattached, never destroyed with it. Encrypted gp3.
     */
    private retainedVolumes(name: string): string {
        const storageClass = "finbot-retain";
        new k8s.storage.v1.StorageClass(
            `${name}-retained-volumes`,
            {
                metadata: { name: storageClass, labels: { "app.kubernetes.io/part-of": "finbot" } },
                provisioner: "ebs.csi.aws.com",
                parameters: { type: "gp3", encrypted: "true" },
                reclaimPolicy: "Retain",
                volumeBindingMode: "WaitForFirstConsumer",
                allowVolumeExpansion: true,
            },
            { parent: this, protect: true },
        );
        return storageClass;
    }

    /**
     * A namespace with its Pod Security Standard and its network policies (default deny, then the
     * flows it has). Only the platform creates namespaces; `formerParent` is where a namespace and its
     * policies lived before (their identities follow them through aliases).
     */
    private namespace(
        name: string,
        config: PlatformConfig,
        area: Area,
        podSecurity: PodSecurityLevel,
        formerParent?: pulumi.Input<string>,
    ): k8s.core.v1.Namespace {
        const production = this.defaults.production;
        const aliases = formerParent ? [{ parent: formerParent }] : undefined;
        const ns = platformNamespace(
            `${name}-${area}`,
            { name: config.namespaces[area], podSecurity, protect: production },
            { parent: this, aliases },
        );
        this.namespaceNames[area] = ns.metadata.name;
        const flows = this.flows.find((f) => f.namespace === config.namespaces[area]);
        if (flows) namespacePolicies(`${name}-${area}-network`, flows, { parent: this, dependsOn: [ns], aliases });
        return ns;
    }

    /** Grafana's own database on Aurora: its role's password as a Secret of the monitoring namespace, and what must exist first. */
    private grafanaDatabase(name: string): GrafanaDatabaseInput {
        const database = this.dataTier?.database;
        const own = database?.ownDatabases[GRAFANA_DATABASE];
        if (!database || !own || own.rootCert !== "system")
            throw new Error("Grafana's replicas need its database on Aurora: the config check requires finbot:database in aurora mode");
        const secret = new k8s.core.v1.Secret(
            `${name}-grafana-database`,
            {
                metadata: { name: GRAFANA_DATABASE_SECRET, namespace: this.namespaceNames.monitoring },
                type: "Opaque",
                stringData: { password: own.password },
            },
            { parent: this },
        );
        return {
            host: own.host,
            port: own.port,
            database: own.database,
            user: own.user,
            caFile: SYSTEM_CA_BUNDLE,
            podLabels: POSTGRES_CLIENT_LABEL,
            ready: [secret, ...database.ownDatabasesReady],
        };
    }

    /** Monitoring serves the rule groups and dashboards of every area that is on. */
    private buildMonitoring(
        name: string,
        config: PlatformConfig,
        nodeAgents: pulumi.Resource | undefined,
        pki: Pki | undefined,
        grafanaDatabase?: Promise<GrafanaDatabaseInput>,
    ): Monitoring {
        const ns = config.namespaces;
        const edges = edgeProbes(config);
        // Some of the chart's pods (Grafana's, the operator's jobs) are not "restricted" yet.
        const namespace = this.namespace(name, config, "monitoring", "baseline");
        // Behind the gateway the UIs serve TLS (verified with the internal CA, which Grafana also verifies the egress gateway with).
        const uiTls =
            pki && config.traffic.enabled
                ? {
                      issuer: pki.internalIssuer,
                      caBundle: this.caBundle(`${name}-monitoring-ca-bundle`, ns.monitoring, pki, namespace),
                  }
                : undefined;
        const monitoring = new Monitoring(
            `${name}-monitoring`,
            {
                config: config.monitoring,
                production: this.defaults.production,
                namespace: ns.monitoring,
                appsNamespace: ns.apps,
                services: config.services,
                edgeProbes: edges,
                chartVersions: config.releases.charts,
                images: config.releases.images,
                ruleGroups: platformRuleGroups(config),
                dashboards: AREAS.flatMap((area) => area.dashboards(config)),
                clusterId: config.cluster.name,
                eksClusterName: this.aws?.network ? this.aws.clusterName : undefined,
                storageClass: this.storageClass,
                nodeAgentsNamespace: ns.nodeAgents,
                grafanaDatabase,
                grafanaSso: this.grafanaSso(config),
                uiTls,
            },
            { parent: this, dependsOn: [namespace, ...(nodeAgents ? [nodeAgents] : []), ...this.priorityClasses] },
        );
        // cert-manager came first; its monitor needs the monitoring CRDs.
        if (pki) certManagerMonitor(`${name}-traffic-cert-manager-monitor`, pki, ns.traffic, monitoring.operator);
        return monitoring;
    }

    /**
     * Grafana's single sign-on, when the gateway signs people in: the ID token on the gateway's
     * header, verified against the provider's keys through the egress gateway, roles from groups.
     */
    private grafanaSso(config: PlatformConfig): GrafanaSso | undefined {
        const access = this.defaults.operatorAccess;
        if (!grafanaSignsInWithIdTokens(config, access) || !access.oidc) return undefined;
        const oidc = access.oidc;
        const keysUrl = identityKeysUrl(this.egress, oidc);
        if (!keysUrl) throw new Error("Grafana's single sign-on: the egress gateway routes the identity provider's keys whenever it is on");
        return {
            header: ID_TOKEN_HEADER,
            issuer: oidc.issuer,
            audience: oidc.clientId,
            keysUrl,
            emailClaim: oidc.emailClaim,
            groupsClaim: oidc.groupsClaim,
            roles: oidc.grafanaRoles,
        };
    }

    private buildDataTier(name: string, config: PlatformConfig, pki: Pki, fetchManifest: ManifestFetcher): DataTier {
        const ns = config.namespaces;
        const manifests = config.releases.manifests;
        const pinned = (key: keyof typeof MANIFESTS) => ({
            url: manifestUrl({ ...MANIFESTS[key], ...manifests[key] }),
            sha256: manifests[key].sha256,
        });
        // The data namespace and its policies lived under the DataTier component before only the platform made namespaces.
        const namespaceResource = this.namespace(name, config, "data", "restricted", pulumi.createUrn(name, "finbot:data:DataTier", this));
        const dataTier = new DataTier(
            // The data tier keeps the names its parts had under the platform.
            name,
            {
                database: config.database,
                cache: config.cache,
                queue: config.queue,
                production: this.defaults.production,
                namespace: ns.data,
                namespaceResource,
                clientNamespace: ns.apps,
                operatorFlows: this.flows.find((f) => f.namespace === QUEUE_OPERATORS_NAMESPACE),
                consumers: dataConsumers(config),
                ownDatabases:
                    config.monitoring.enabled && grafanaHasDatabase(config.monitoring)
                        ? [{ name: GRAFANA_DATABASE, namespace: ns.monitoring }]
                        : [],
                images: config.releases.images,
                cloudnativePgVersion: config.releases.charts["cloudnative-pg"],
                backupPluginChartVersion: config.releases.charts["plugin-barman-cloud"],
                queueOperatorManifest: pinned("rabbitmq-cluster-operator"),
                topologyOperatorManifest: pinned("rabbitmq-messaging-topology-operator"),
                fetchManifest,
                issuer: pki.internalIssuer,
                storageClass: this.storageClass,
                aws: this.aws?.network ? { network: this.aws.network, clusterName: this.aws.clusterName } : undefined,
                monitoringCrds: this.monitoring?.operator,
            },
            { parent: this, dependsOn: this.priorityClasses },
        );
        return dataTier;
    }

    private buildLogging(name: string, config: PlatformConfig, namespaces: pulumi.Resource[], pki: Pki): Logging {
        return new Logging(
            `${name}-logging`,
            {
                config: config.logging,
                production: this.defaults.production,
                environment: config.environment,
                namespace: config.namespaces.logging,
                versions: {
                    eckOperator: config.releases.charts["eck-operator"],
                    elasticsearchExporter: config.releases.charts["prometheus-elasticsearch-exporter"],
                    elasticStack: config.releases.elasticStack,
                },
                images: config.releases.images,
                storageClass: this.storageClass,
                monitoringCrds: this.monitoring?.operator,
                nodeAgentsNamespace: config.namespaces.nodeAgents,
                issuer: pki.internalIssuer,
                aws: this.aws?.network ? { clusterName: this.aws.clusterName } : undefined,
                viewersBehindSso: this.defaults.operatorAccess.mode === "oidc",
                rum: rumIntakeOf(config),
            },
            { parent: this, dependsOn: [...namespaces, ...this.priorityClasses] },
        );
    }

    /**
     * Every service and worker gets its settings as Secrets in the apps namespace: `<name>-connections`
     * (the data tier's URLs), `<name>-third-parties` (the egress gateway's URL of each provider it may
     * call) and `<name>-observability` (APM, Sentry). Returns them per consumer.
     */
    private consumerSettings(name: string, config: PlatformConfig, apps: k8s.core.v1.Namespace): (consumer: string) => SecretRef[] {
        const consumers = [...config.services.map((s) => s.name), ...config.workers.map((w) => w.name)];
        const errorTracking = config.errorTracking.enabled
            ? new ErrorTracking(
                  `${name}-error-tracking`,
                  { config: config.errorTracking, consumers, environment: config.environment },
                  { parent: this },
              )
            : undefined;
        const secret = (consumer: string, suffix: string, data: Record<string, pulumi.Input<string>>): SecretRef[] => {
            if (Object.keys(data).length === 0) return [];
            const secretName = `${consumer}-${suffix}`;
            const created = new k8s.core.v1.Secret(
                `${name}-${consumer}-${suffix}`,
                { metadata: { name: secretName, namespace: config.namespaces.apps }, type: "Opaque", stringData: data },
                { parent: this, dependsOn: [apps] },
            );
            return [{ secretName, secret: created }];
        };
        const { logging } = this;
        const egress = this.egress;
        const callers = thirdPartyCallers(config, egress);
        const callable = (consumer: string) => callers.find((c) => c.pods === consumer)?.routes ?? [];
        const sentry = egress.find((r) => r.provider.name === SENTRY_PROVIDER);
        return (consumer) => [
            ...secret(consumer, CONNECTIONS_SUFFIX, { ...this.dataTier?.connections[consumer] }),
            // The gateway's URL of each provider it may call (verified with the internal CA, like the data stores).
            ...secret(
                consumer,
                THIRD_PARTIES_SUFFIX,
                Object.fromEntries(callable(consumer).map((r) => [thirdPartyUrlVariable(r.provider.name), r.url])),
            ),
            ...secret(consumer, OBSERVABILITY_SUFFIX, {
                ...(logging?.apmServerUrl && logging.apmSecretToken
                    ? {
                          ELASTIC_APM_SERVER_URL: logging.apmServerUrl,
                          ELASTIC_APM_SECRET_TOKEN: logging.apmSecretToken,
                          ELASTIC_APM_SERVER_CA_CERT_FILE: INTERNAL_CA_FILE,
                          ELASTIC_APM_SERVICE_NAME: consumer,
                          ELASTIC_APM_ENVIRONMENT: config.environment,
                      }
                    : {}),
                // Sentry through the egress gateway: only its callers get a DSN (no other pod could reach it).
                ...(errorTracking?.dsns[consumer] && sentry?.provider.callers.includes(consumer)
                    ? {
                          SENTRY_DSN: pulumi.secret(
                              pulumi.output(errorTracking.dsns[consumer]).apply((dsn) => dsnThroughGateway(dsn, sentry.url)),
                          ),
                          SENTRY_ENVIRONMENT: config.environment,
                      }
                    : {}),
            }),
        ];
    }

    /** Karpenter in the autoscaling namespace: nodes for pending pods. */
    private buildKarpenter(name: string, config: PlatformConfig, namespace: pulumi.Resource): Karpenter {
        if (!this.aws?.network) throw new Error("Karpenter needs an EKS cluster and its network (the config check requires them)");
        return new Karpenter(
            `${name}-karpenter`,
            {
                cluster: config.cluster,
                clusterName: this.aws.clusterName,
                network: this.aws.network,
                namespace: config.namespaces.autoscaling,
                version: config.releases.charts.karpenter,
                highlyAvailable: this.defaults.production,
                onSystemNodes: config.cluster.mode === "create",
                monitoringCrds: this.monitoring?.operator,
            },
            { parent: this, dependsOn: [namespace, ...this.priorityClasses] },
        );
    }

    /** What HPAs and ScaledObjects scale on: metrics-server, prometheus-adapter, KEDA (when there are workers). */
    private buildAutoscaling(name: string, config: PlatformConfig, namespace: pulumi.Resource): Autoscaling | undefined {
        if (config.workers.length === 0 && !config.autoscaling.metricsServer && !this.monitoring) return undefined; // Karpenter alone
        return new Autoscaling(
            `${name}-autoscaling`,
            {
                namespace: config.namespaces.autoscaling,
                chartVersions: config.releases.charts,
                keda: config.workers.length > 0,
                metricsServer: config.autoscaling.metricsServer,
                insecureKubeletTls: !this.defaults.production,
                highlyAvailable: this.defaults.production,
                prometheus: this.monitoring?.prometheus,
                services: config.services,
            },
            { parent: this, dependsOn: [namespace, ...this.priorityClasses] },
        );
    }

    /**
     * In the traffic namespace: Envoy Gateway (when the stack routes traffic), and the PKI (cert-manager
     * and the internal CA) whenever the gateway, the data tier or logging serves TLS.
     */
    private buildControllers(name: string, config: PlatformConfig): { gateway?: TrafficControllers; pki?: Pki } {
        if (!this.defaults.pki) return {};
        // Envoy Gateway's proxies and cert-manager's pods: baseline, warned at restricted.
        const namespace = this.namespace(name, config, "traffic", "baseline");
        const opts = { parent: this, dependsOn: [namespace, ...this.priorityClasses] };
        const gateway = config.traffic.enabled
            ? new TrafficControllers(
                  // Its children keep the names they had under Traffic.
                  `${name}-traffic`,
                  {
                      namespace: config.namespaces.traffic,
                      chartVersions: config.releases.charts,
                      highlyAvailable: this.defaults.production,
                      backendApi: this.egress.length > 0,
                  },
                  opts,
              )
            : undefined;
        const pki = new Pki(
            // Its children keep the names they had under the traffic controllers.
            `${name}-traffic`,
            {
                namespace: config.namespaces.traffic,
                chartVersion: config.releases.charts["cert-manager"],
                gatewayApiCrds: gateway?.gatewayCrds,
                highlyAvailable: this.defaults.production,
            },
            opts,
        );
        return { gateway, pki };
    }

    /** `finbot-ca` (CA_CONFIGMAP) in a namespace: the internal CA certificate its pods verify servers with. */
    private caBundle(resourceName: string, namespace: string, pki: Pki, created: pulumi.Resource): k8s.core.v1.ConfigMap {
        return new k8s.core.v1.ConfigMap(
            resourceName,
            {
                metadata: { name: CA_CONFIGMAP, namespace },
                data: { [INTERNAL_CA_KEY]: pki.internalIssuer.caCertPem },
            },
            { parent: this, dependsOn: [created] },
        );
    }

    /** `keda-rabbitmq` in the apps namespace: KEDA's queue-length reader (its AMQPS URL and the CA), for the workers' triggers. */
    private queueLengthReader(name: string, config: PlatformConfig, pki: Pki, apps: pulumi.Resource): QueueLengthAuth {
        const url = this.dataTier?.kedaAmqpUrl;
        if (!url) throw new Error("workers need the queue: the config check keeps finbot:queue on while there are workers");
        const data = { host: url, tls: "enable", ca: pki.internalIssuer.caCertPem };
        const secret = new k8s.core.v1.Secret(
            `${name}-keda-rabbitmq`,
            { metadata: { name: "keda-rabbitmq", namespace: config.namespaces.apps }, type: "Opaque", stringData: data },
            { parent: this, dependsOn: [apps] },
        );
        return { secretName: "keda-rabbitmq", secret, parameters: Object.keys(data) };
    }

    private buildTraffic(name: string, config: PlatformConfig, controllers: TrafficControllers, pki: Pki): Traffic {
        return new Traffic(
            `${name}-traffic`,
            {
                config: config.traffic,
                production: this.defaults.production,
                namespace: config.namespaces.traffic,
                appsNamespace: config.namespaces.apps,
                services: config.services,
                uis: [...(this.monitoring?.uis ?? []), ...(this.logging?.uis ?? [])],
                rum: this.logging?.apm && rumIntakeOf(config) ? { service: this.logging.apm } : undefined,
                controllers,
                pki,
                egressRoutes: this.egress,
                monitoringCrds: this.monitoring?.operator,
                clusterName: this.aws?.network ? this.aws.clusterName : undefined,
            },
            { parent: this, dependsOn: [controllers, pki, ...(this.loadBalancers ? [this.loadBalancers] : [])] },
        );
    }
}

/** Grafana's database of its own, on the stack's PostgreSQL. */
const GRAFANA_DATABASE = "grafana";

/** Every service and worker, with what it uses of the data tier. */
export function dataConsumers(config: PlatformConfig): DataConsumer[] {
    return [
        ...config.services.map((s) => ({ name: s.name, uses: s.uses })),
        ...config.workers.map((w) => ({ name: w.name, uses: w.uses, consumes: w.queue })),
    ];
}

/** The Secret of a service or worker with the egress gateway's URLs is `<name>-third-parties`. */
const THIRD_PARTIES_SUFFIX = "third-parties";

/** The RUM agent's service name in FinBot's web app: the only one APM Server accepts anonymously. */
const RUM_SERVICE_NAME = "finbot-web";

/** Whether browsers may send page loads (RUM on, APM and the gateway there), from which origins. */
export function rumIntakeOf(config: PlatformConfig): { allowedOrigins: string[]; eventRateLimit: number; services: string[] } | undefined {
    const { traffic, logging } = config;
    if (!traffic.enabled || !traffic.rum.enabled || !logging.enabled || !logging.apm.enabled) return undefined;
    const origins =
        traffic.rum.allowedOrigins.length > 0
            ? traffic.rum.allowedOrigins
            : [
                  ...config.services.filter((s) => s.public).map((s) => `https://${hostFor(s.name, traffic.domain)}`),
                  ...(traffic.cdn.enabled ? traffic.cdn.aliases.map((a) => `https://${a}`) : []),
              ];
    return { allowedOrigins: origins, eventRateLimit: traffic.rum.eventRateLimit, services: [RUM_SERVICE_NAME] };
}

/**
 * Builds the platform for a validated config: on a cluster it creates first (`finbot:cluster.mode:
 * create`, every Kubernetes resource then goes through that cluster's provider), an existing EKS
 * cluster, or a laptop cluster. The program (`index.ts`), tests and the offline plan all call this.
 */
export function buildPlatform(
    config: PlatformConfig,
    options: { fetchManifest?: ManifestFetcher } = {},
    opts?: pulumi.ComponentResourceOptions,
): Platform {
    const { production } = stackDefaults(config);
    if (config.cluster.mode === "create") {
        const eks = new EksCluster("finbot-cluster", { cluster: config.cluster, production }, opts);
        deployRunner(config, eks.clusterName, eks.network, opts);
        return new Platform(
            "finbot",
            { config, ...options, aws: { clusterName: eks.clusterName, network: eks.network } },
            { ...opts, providers: { kubernetes: eks.provider } },
        );
    }
    const clusterName = config.cluster.mode === "existing" ? config.cluster.name : undefined;
    const aws = clusterName ? { clusterName, network: config.network } : undefined;
    if (clusterName && config.network) deployRunner(config, clusterName, config.network, opts);
    return new Platform("finbot", { config, ...options, aws }, opts);
}

/** The runner in the cluster's VPC that deploys it (finbot:delivery.runner), beside the cluster: it must outlive what it deploys. */
function deployRunner(
    config: PlatformConfig,
    clusterNameOutput: pulumi.Input<string>,
    network: AwsNetwork,
    opts?: pulumi.ComponentResourceOptions,
): void {
    const runner = config.delivery.runner;
    if (!runner || !config.cluster.name) return;
    new DeployRunner(
        "finbot-deploy-runner",
        { runner, clusterName: config.cluster.name, clusterNameOutput, network, tags: clusterTags(config.cluster.name) },
        opts,
    );
}
