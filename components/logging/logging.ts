import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { LoggingConfig } from "../config/logging";
import { containerResources } from "../config/primitives";
import { ClusterService, RequestLine, clusterUrl } from "../lib/cluster";
import { Footprint } from "../lib/footprint";
import { helmRelease } from "../lib/helm";
import { UiRoute } from "../traffic/routes";
import { LIFECYCLE_REQUESTS, ilmPolicy, indexTemplate, lifecycleScript } from "./lifecycle";
import { filebeatConfig, logstashPipeline } from "./pipeline";

export interface LoggingArgs {
    /** The validated `finbot:logging`. */
    config: LoggingConfig;
    /** Production: zone-aware Elasticsearch, mmap on. */
    production: boolean;
    /** `staging` or `production`: the data stream namespace and APM environment. */
    environment: string;
    /** Namespace of the logging stack (created by the caller). */
    namespace: string;
    /** Exact versions from `finbot:releases`. */
    versions: { eckOperator: string; elasticsearchExporter: string; elasticStack: string };
    /** Images from `finbot:releases.images` (curl for the lifecycle Job). */
    images: Record<string, string>;
    /**
     * StorageClass of the volumes.
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * When set, the Elasticsearch exporter gets a ServiceMonitor (created after these CRDs).
     * @default no ServiceMonitor
     */
    monitoringCrds?: pulumi.Resource;
}

/** Names of the stack's objects; ECK derives its Services from them. */
export const ES = "logs";
export const ES_HTTP = `${ES}-es-http`;
const LOGSTASH_BEATS = `${ES}-ls-beats`;
export const APM = "apm";
const CLIENT_LABEL = { "app.kubernetes.io/name": "finbot-es-client" };

/**
 * Logs and traces on Elastic Cloud on Kubernetes: the ECK operator, Elasticsearch (zone-aware in
 * production), Kibana, Logstash parsing FinBot's JSON logs into data streams, Filebeat on every
 * node, APM Server, retention as index lifecycle policies, the Elasticsearch exporter, and
 * NetworkPolicies that let only the pipeline, Kibana and APM reach Elasticsearch.
 */
export class Logging extends pulumi.ComponentResource {
    /** APM intake URL for FinBot's services (in-cluster), when APM is on. */
    public readonly apmServerUrl?: string;
    /** APM secret token (secret), when APM is on. */
    public readonly apmSecretToken?: pulumi.Output<string>;
    /** Kibana's Service. */
    public readonly kibana: ClusterService;
    /** Operator UIs the gateway may route: Kibana (own login). */
    public readonly uis: UiRoute[];
    /** What it runs in the cluster. */
    public readonly footprint: Footprint;

    constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:logging:Logging", name, {}, opts);
        const { config, namespace, versions } = args;
        const version = versions.elasticStack;
        this.kibana = { name: `${ES}-kb-http`, namespace, port: 5601 };
        this.uis = [{ name: "kibana", namespace, service: this.kibana.name, port: this.kibana.port, basicAuth: false }];
        this.footprint = { requests: loggingRequests(config), managed: [] };

        // The chart installs ECK's CRDs (templates: upgraded with the chart); every Elastic resource below waits for it.
        const operator = helmRelease(
            `${name}-eck-operator`,
            {
                chart: "eck-operator",
                version: versions.eckOperator,
                releaseName: "eck-operator",
                namespace,
                values: { resources: { requests: { cpu: "100m", memory: "150Mi" }, limits: { memory: "512Mi" } } },
            },
            { parent: this },
        );
        const afterOperator = (...more: pulumi.Resource[]) => ({ parent: this, dependsOn: [operator, ...more] });

        const es = config.elasticsearch;
        const elasticsearch = new k8s.apiextensions.CustomResource(
            `${name}-elasticsearch`,
            {
                apiVersion: "elasticsearch.k8s.elastic.co/v1",
                kind: "Elasticsearch",
                metadata: { name: ES, namespace },
                spec: {
                    version,
                    nodeSets: [
                        {
                            name: "default",
                            count: es.nodes,
                            // Laptop clusters rarely raise vm.max_map_count; production nodes do (EKS AMIs).
                            config: args.production ? {} : { "node.store.allow_mmap": false },
                            resources: containerResources(es.resources),
                            // Spread over zones and tell Elasticsearch the zones, so replicas land in another zone.
                            zoneAwareness: args.production ? {} : undefined,
                            podTemplate: {
                                spec: {
                                    containers: [
                                        {
                                            name: "elasticsearch",
                                            env: [{ name: "ES_JAVA_OPTS", value: `-Xms${es.heapMb}m -Xmx${es.heapMb}m` }],
                                        },
                                    ],
                                },
                            },
                            volumeClaimTemplates: [
                                {
                                    metadata: { name: "elasticsearch-data" },
                                    spec: {
                                        accessModes: ["ReadWriteOnce"],
                                        resources: { requests: { storage: es.storage } },
                                        ...(args.storageClass ? { storageClassName: args.storageClass } : {}),
                                    },
                                },
                            ],
                        },
                    ],
                    podDisruptionBudget: {
                        spec: { maxUnavailable: 1, selector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": ES } } },
                    },
                },
            },
            afterOperator(),
        );

        new k8s.apiextensions.CustomResource(
            `${name}-kibana`,
            {
                apiVersion: "kibana.k8s.elastic.co/v1",
                kind: "Kibana",
                metadata: { name: ES, namespace },
                spec: {
                    version,
                    count: config.kibana.replicas,
                    elasticsearchRef: { name: ES },
                    // Served through the gateway, which terminates TLS; inside the cluster plain HTTP.
                    http: { tls: { selfSignedCertificate: { disabled: true } } },
                    podTemplate: { spec: { containers: [{ name: "kibana", resources: containerResources(config.kibana.resources) }] } },
                },
            },
            afterOperator(elasticsearch),
        );

        const ls = config.logstash;
        new k8s.apiextensions.CustomResource(
            `${name}-logstash`,
            {
                apiVersion: "logstash.k8s.elastic.co/v1alpha1",
                kind: "Logstash",
                metadata: { name: ES, namespace },
                spec: {
                    version,
                    count: ls.replicas,
                    elasticsearchRefs: [{ name: ES, clusterName: "finbot" }],
                    pipelines: [
                        {
                            "pipeline.id": "finbot",
                            "config.string": logstashPipeline({ clusterEnvPrefix: "FINBOT", environment: args.environment }),
                        },
                    ],
                    services: [
                        {
                            name: "beats",
                            service: {
                                spec: { type: "ClusterIP", ports: [{ name: "beats", port: 5044, targetPort: 5044, protocol: "TCP" }] },
                            },
                        },
                    ],
                    podTemplate: {
                        spec: {
                            containers: [
                                {
                                    name: "logstash",
                                    resources: containerResources(ls.resources),
                                    env: [{ name: "LS_JAVA_OPTS", value: `-Xms${ls.heapMb}m -Xmx${ls.heapMb}m` }],
                                },
                            ],
                        },
                    },
                },
            },
            afterOperator(elasticsearch),
        );

        this.filebeat(name, args, operator);

        if (config.apm.enabled) {
            const token = new random.RandomPassword(`${name}-apm-token`, { length: 32, special: false }, { parent: this });
            const tokenSecret = new k8s.core.v1.Secret(
                `${name}-apm-token`,
                { metadata: { name: "apm-secret-token", namespace }, type: "Opaque", stringData: { token: token.result } },
                { parent: this },
            );
            new k8s.apiextensions.CustomResource(
                `${name}-apm`,
                {
                    apiVersion: "apm.k8s.elastic.co/v1",
                    kind: "ApmServer",
                    metadata: { name: APM, namespace },
                    spec: {
                        version,
                        count: config.apm.replicas,
                        elasticsearchRef: { name: ES },
                        kibanaRef: { name: ES },
                        // The token FinBot's agents use is the program's, so it can be handed to them.
                        config: { "apm-server.auth.secret_token": "${FINBOT_APM_SECRET_TOKEN}" },
                        // Intake stays inside the cluster, behind a NetworkPolicy; agents need no CA.
                        http: { tls: { selfSignedCertificate: { disabled: true } } },
                        podTemplate: {
                            spec: {
                                containers: [
                                    {
                                        name: "apm-server",
                                        resources: containerResources(config.apm.resources),
                                        env: [
                                            {
                                                name: "FINBOT_APM_SECRET_TOKEN",
                                                valueFrom: { secretKeyRef: { name: "apm-secret-token", key: "token" } },
                                            },
                                        ],
                                    },
                                ],
                            },
                        },
                    },
                },
                afterOperator(elasticsearch, tokenSecret),
            );
            this.apmServerUrl = clusterUrl({ name: `${APM}-apm-http`, namespace, port: 8200 });
            this.apmSecretToken = pulumi.secret(token.result);
        }

        this.lifecycle(name, args, elasticsearch);
        this.exporter(name, args, operator);
        this.networkPolicies(name, args);

        this.registerOutputs({ kibanaUrl: clusterUrl(this.kibana), apmServerUrl: this.apmServerUrl });
    }

    private filebeat(name: string, args: LoggingArgs, operator: pulumi.Resource): void {
        const { namespace } = args;
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-filebeat`,
            { metadata: { name: "filebeat", namespace } },
            { parent: this },
        );
        const role = new k8s.rbac.v1.ClusterRole(
            `${name}-filebeat`,
            {
                metadata: { name: `finbot-filebeat-${namespace}` },
                rules: [
                    { apiGroups: [""], resources: ["namespaces", "pods", "nodes"], verbs: ["get", "watch", "list"] },
                    { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
                    { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch"] },
                ],
            },
            { parent: this },
        );
        const binding = new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-filebeat`,
            {
                metadata: { name: `finbot-filebeat-${namespace}` },
                subjects: [{ kind: "ServiceAccount", name: "filebeat", namespace }],
                roleRef: { kind: "ClusterRole", name: `finbot-filebeat-${namespace}`, apiGroup: "rbac.authorization.k8s.io" },
            },
            { parent: this, dependsOn: [role, serviceAccount] },
        );
        const hostPath = (volume: string, path: string) => ({ name: volume, hostPath: { path } });
        new k8s.apiextensions.CustomResource(
            `${name}-filebeat-daemonset`,
            {
                apiVersion: "beat.k8s.elastic.co/v1beta1",
                kind: "Beat",
                metadata: { name: "filebeat", namespace },
                spec: {
                    type: "filebeat",
                    version: args.versions.elasticStack,
                    config: filebeatConfig(`${LOGSTASH_BEATS}.${namespace}.svc:5044`),
                    daemonSet: {
                        podTemplate: {
                            spec: {
                                serviceAccountName: "filebeat",
                                automountServiceAccountToken: true,
                                terminationGracePeriodSeconds: 30,
                                // Filebeat reads every container's log file on the node: root, read-only mounts.
                                containers: [
                                    {
                                        name: "filebeat",
                                        securityContext: { runAsUser: 0 },
                                        resources: containerResources(args.config.filebeat.resources),
                                        env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                                        volumeMounts: [
                                            { name: "varlogcontainers", mountPath: "/var/log/containers", readOnly: true },
                                            { name: "varlogpods", mountPath: "/var/log/pods", readOnly: true },
                                        ],
                                    },
                                ],
                                volumes: [hostPath("varlogcontainers", "/var/log/containers"), hostPath("varlogpods", "/var/log/pods")],
                            },
                        },
                    },
                },
            },
            { parent: this, dependsOn: [operator, binding] },
        );
    }

    /**
     * Retention: a Job PUTs the lifecycle policy and index template (idempotent). Its name carries a
     * hash of what it applies, so every `pulumi up` that changes retention runs it again; an hourly
     * CronJob re-applies the same requests so a hand edit in Kibana cannot linger.
     */
    private lifecycle(name: string, args: LoggingArgs, elasticsearch: pulumi.Resource): void {
        const { namespace, config } = args;
        const bodies: Record<string, string> = {
            [LIFECYCLE_REQUESTS[0].file]: JSON.stringify(ilmPolicy(config), null, 2),
            [LIFECYCLE_REQUESTS[1].file]: JSON.stringify(indexTemplate(config), null, 2),
        };
        const hash = createHash("sha256").update(JSON.stringify(bodies)).digest("hex").slice(0, 10);
        const requests = new k8s.core.v1.ConfigMap(
            `${name}-lifecycle-requests`,
            { metadata: { name: `es-lifecycle-${hash}`, namespace }, data: bodies },
            { parent: this },
        );
        const podSpec = {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 100, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name: "apply",
                    image: args.images.curl,
                    command: ["/bin/sh", "-c", lifecycleScript(`https://${ES_HTTP}.${namespace}.svc:9200`)],
                    env: [{ name: "ELASTIC_PASSWORD", valueFrom: { secretKeyRef: { name: `${ES}-es-elastic-user`, key: "elastic" } } }],
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                    volumeMounts: [
                        { name: "requests", mountPath: "/requests", readOnly: true },
                        { name: "es-ca", mountPath: "/es-ca", readOnly: true },
                    ],
                },
            ],
            volumes: [
                { name: "requests", configMap: { name: `es-lifecycle-${hash}` } },
                { name: "es-ca", secret: { secretName: `${ES_HTTP}-certs-public` } },
            ],
        };
        const template = { metadata: { labels: CLIENT_LABEL }, spec: podSpec };
        new k8s.batch.v1.Job(
            `${name}-lifecycle`,
            { metadata: { name: `es-lifecycle-${hash}`, namespace, labels: CLIENT_LABEL }, spec: { backoffLimit: 20, template } },
            { parent: this, dependsOn: [elasticsearch, requests], deleteBeforeReplace: true },
        );
        new k8s.batch.v1.CronJob(
            `${name}-lifecycle-reapply`,
            {
                metadata: { name: "es-lifecycle-reapply", namespace, labels: CLIENT_LABEL },
                spec: { schedule: "17 * * * *", concurrencyPolicy: "Forbid", jobTemplate: { spec: { backoffLimit: 3, template } } },
            },
            { parent: this, dependsOn: [elasticsearch, requests] },
        );
    }

    private exporter(name: string, args: LoggingArgs, operator: pulumi.Resource): void {
        const { namespace } = args;
        helmRelease(
            `${name}-elasticsearch-exporter`,
            {
                chart: "prometheus-elasticsearch-exporter",
                version: args.versions.elasticsearchExporter,
                releaseName: "elasticsearch-exporter",
                namespace,
                values: {
                    podLabels: CLIENT_LABEL,
                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                    env: { ES_USERNAME: "elastic" },
                    extraEnvSecrets: { ES_PASSWORD: { secret: `${ES}-es-elastic-user`, key: "elastic" } },
                    secretMounts: [{ name: "es-ca", secretName: `${ES_HTTP}-certs-public`, path: "/ssl" }],
                    es: {
                        uri: `https://${ES_HTTP}.${namespace}.svc:9200`,
                        all: true,
                        indices: true,
                        ilm: true,
                        data_stream: true,
                        ssl: { enabled: true, useExistingSecrets: true, ca: { path: "/ssl/ca.crt" }, client: { enabled: false } },
                    },
                    serviceMonitor: { enabled: args.monitoringCrds !== undefined, interval: "30s" },
                },
            },
            { parent: this, dependsOn: [operator, ...(args.monitoringCrds ? [args.monitoringCrds] : [])] },
        );
    }

    /** Only the pipeline, Kibana, APM, the operator and the project's clients reach Elasticsearch; only Filebeat reaches Logstash. */
    private networkPolicies(name: string, args: LoggingArgs): void {
        const { namespace } = args;
        const fromTypes = (types: string[]) => ({
            podSelector: { matchExpressions: [{ key: "common.k8s.elastic.co/type", operator: "In", values: types }] },
        });
        new k8s.networking.v1.NetworkPolicy(
            `${name}-elasticsearch`,
            {
                metadata: { name: "elasticsearch-ingress", namespace },
                spec: {
                    podSelector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": ES } },
                    policyTypes: ["Ingress"],
                    ingress: [
                        {
                            from: [
                                fromTypes(["elasticsearch", "kibana", "logstash", "apm-server"]),
                                { podSelector: { matchLabels: CLIENT_LABEL } },
                                // The ECK operator manages the cluster through its API.
                                { podSelector: { matchLabels: { "control-plane": "elastic-operator" } } },
                            ],
                            ports: [
                                { protocol: "TCP", port: 9200 },
                                { protocol: "TCP", port: 9300 },
                            ],
                        },
                    ],
                },
            },
            { parent: this },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-logstash`,
            {
                metadata: { name: "logstash-ingress", namespace },
                spec: {
                    podSelector: { matchLabels: { "common.k8s.elastic.co/type": "logstash" } },
                    policyTypes: ["Ingress"],
                    ingress: [{ from: [fromTypes(["beat"])], ports: [{ protocol: "TCP", port: 5044 }] }],
                },
            },
            { parent: this },
        );
    }
}

/** Requests of Elasticsearch, Kibana, Logstash and APM together (the laptop budget counts these). */
export function loggingRequests(config: LoggingConfig): RequestLine[] {
    return [
        { part: "Elasticsearch", pods: config.elasticsearch.nodes, ...config.elasticsearch.resources.requests },
        { part: "Kibana", pods: config.kibana.replicas, ...config.kibana.resources.requests },
        { part: "Logstash", pods: config.logstash.replicas, ...config.logstash.resources.requests },
        ...(config.apm.enabled ? [{ part: "APM Server", pods: config.apm.replicas, ...config.apm.resources.requests }] : []),
    ];
}
