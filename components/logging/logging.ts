import { EXPORTER_RESOURCES } from "../lib/sizes";
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { LoggingConfig } from "../config/logging";
import { containerResources } from "../config/primitives";
import {
    CA_CONFIGMAP,
    CA_MOUNT_PATH,
    CertificateIssuer,
    INTERNAL_CA_FILE,
    INTERNAL_CA_KEY,
    serverCertificate,
    serviceDnsNames,
} from "../lib/certificates";
import { ClusterService, clusterUrl, serviceHost } from "../lib/services";
import { RequestLine } from "../lib/footprint";
import { Footprint } from "../lib/footprint";
import { helmRelease } from "../lib/helm";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { UiRoute } from "../traffic/routes";
import { ES_USERS, EsClient, rolesYaml } from "./auth";
import {
    FS_SNAPSHOT_PATH,
    LIFECYCLE_REQUESTS,
    SnapshotTarget,
    ilmPolicy,
    indexTemplate,
    lifecycleScript,
    rumRetentionTemplate,
    snapshotPolicy,
    snapshotRepository,
} from "./lifecycle";
import { BEATS_TLS_PATH, filebeatConfig, logstashPipeline } from "./pipeline";
import { denyInsecureTransport } from "../lib/s3";
import { hardenedContainer, hardenedPodSpec } from "../lib/security";
import { APM_PORT, BEATS_PORT, ELASTICSEARCH_EXPORTER_METRICS, ELASTICSEARCH_HTTP_PORT, KIBANA_PORT } from "./labels";

export interface LoggingArgs {
    /** The validated `finbot:logging`. */
    config: LoggingConfig;
    /** Production: zone-aware Elasticsearch, mmap on, protected. */
    production: boolean;
    /** `staging` or `production`: the data stream namespace and APM environment. */
    environment: string;
    /** Namespace of the logging stack (created by the caller). */
    namespace: string;
    /** Namespace of Filebeat (the privileged node-agents namespace, created by the caller). */
    nodeAgentsNamespace: string;
    /** Exact versions from `finbot:releases`. */
    versions: { eckOperator: string; elasticsearchExporter: string; elasticStack: string };
    /** Images from `finbot:releases.images` (curl for the lifecycle Job). */
    images: Record<string, string>;
    /** Issues the certificates of Elasticsearch's HTTP layer, Logstash's beats input and APM Server. */
    issuer: CertificateIssuer;
    /**
     * The EKS cluster whose OIDC provider lets Elasticsearch write snapshots to S3 (web identity).
     * @default snapshots on a volume of the only node
     */
    aws?: { clusterName: pulumi.Input<string> };
    /**
     * People reach Kibana only through single sign-on at the gateway: Kibana lets them in read-only without a password of its own.
     * @default false (Kibana's own login only)
     */
    viewersBehindSso?: boolean;
    /**
     * Real user monitoring: APM Server accepts the RUM agent's page loads, anonymously (agent
     * `rum-js` only), from these origins, rate-limited per client IP.
     * @default off
     */
    rum?: { allowedOrigins: string[]; eventRateLimit: number; services: string[] };
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
const APM_HTTP = `${APM}-apm-http`;
const ES_SERVICE_ACCOUNT = "elasticsearch";

/** Where snapshots go: a volume of the only node, or an S3 bucket with the role Elasticsearch assumes for it. */
type SnapshotStore =
    { type: "fs" } | { type: "s3"; bucket: pulumi.Output<string>; roleArn: pulumi.Output<string>; region: pulumi.Output<string> };

/** Pod and container hardening for the Elastic stack's pods (Pod Security "restricted"). */
const ELASTIC_POD_SECURITY = { runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } };
const ELASTIC_CONTAINER_SECURITY = {
    allowPrivilegeEscalation: false,
    privileged: false,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
};
/**
 * A container securityContext in an ECK podTemplate replaces ECK's default whole (ECK v3.5.0
 * pkg/controller/common/defaults/pod_template.go: nothing is merged), and that default makes the
 * root file system read-only for Elasticsearch (with its data volume) and Kibana, ECK mounting the
 * writable paths as volumes (/tmp, config, plugins, bin, logs; Kibana's data, config, plugins, logs,
 * /tmp). So ours says it too; APM Server 9 writes only to its config and data volumes (ECK v3.0.0
 * mounts both) and gets a /tmp volume besides. Not Logstash: its image has no read-only support
 * (elastic/logstash#10905; JRuby unpacks native libraries into /tmp), nor Filebeat, which ECK runs
 * without one either.
 */
const ELASTIC_READ_ONLY_ROOT = { ...ELASTIC_CONTAINER_SECURITY, readOnlyRootFilesystem: true };

/** Each Elasticsearch client's user: its Secret (by name and resource) and generated password. */
type EsUserSecrets = Record<EsClient, { secretName: string; secret: k8s.core.v1.Secret; password: pulumi.Output<string> }>;

/**
 * Logs and traces on Elastic Cloud on Kubernetes: the ECK operator, Elasticsearch (zone-aware in
 * production, TLS from the internal CA, a user per client instead of `elastic`, nightly snapshots),
 * Kibana, Logstash parsing FinBot's JSON logs into data streams, Filebeat on every node shipping
 * over TLS, APM Server over TLS, and retention as index lifecycle and snapshot policies.
 */
export class Logging extends pulumi.ComponentResource {
    /** APM intake URL for FinBot's services (in-cluster, TLS), when APM is on. */
    public readonly apmServerUrl?: string;
    /** APM secret token (secret), when APM is on. */
    public readonly apmSecretToken?: pulumi.Output<string>;
    /** Kibana's Service. */
    public readonly kibana: ClusterService;
    /** APM Server's Service (RUM intake), when APM is on. */
    public readonly apm?: ClusterService;
    /** Operator UIs the gateway may route: Kibana (own login). */
    public readonly uis: UiRoute[];
    /** What it runs in the cluster. */
    public readonly footprint: Footprint;

    constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:logging:Logging", name, {}, opts);
        const { config, namespace, versions } = args;
        this.kibana = { name: `${ES}-kb-http`, namespace, port: KIBANA_PORT };
        this.uis = [
            {
                name: "kibana",
                namespace,
                service: this.kibana.name,
                port: this.kibana.port,
                ownLogin: true,
                // Session cookies and the ID token cross the network to Kibana: TLS the gateway verifies.
                tlsHostname: serviceHost(this.kibana.name, namespace),
            },
        ];
        this.footprint = { requests: loggingRequests(config), managed: [] };

        // The chart installs ECK's CRDs (templates: upgraded with the chart); every Elastic resource below waits for it.
        const operator = helmRelease(
            `${name}-eck-operator`,
            {
                chart: "eck-operator",
                version: versions.eckOperator,
                releaseName: "eck-operator",
                namespace,
                values: {
                    priorityClassName: PLATFORM_CRITICAL,
                    resources: { requests: { cpu: "100m", memory: "150Mi" }, limits: { memory: "512Mi" } },
                },
            },
            { parent: this },
        );
        const users = this.users(name, args);
        const snapshots = this.snapshotTarget(name, args);
        const elasticsearch = this.elasticsearch(name, args, snapshots, [operator, ...Object.values(users).map((u) => u.secret)]);
        this.kibanaServer(name, args, users, [operator, elasticsearch]);
        this.logstash(name, args, users, [operator, elasticsearch]);
        this.filebeat(name, args, operator);
        if (config.apm.enabled) {
            const token = new random.RandomPassword(`${name}-apm-token`, { length: 32, special: false }, { parent: this });
            this.apmServer(name, args, token, [operator, elasticsearch]);
            this.apm = { name: APM_HTTP, namespace, port: APM_PORT };
            this.apmServerUrl = clusterUrl(this.apm, "https");
            this.apmSecretToken = pulumi.secret(token.result);
        }
        this.lifecycle(name, args, snapshots, [elasticsearch, users.lifecycle.secret]);
        this.exporter(name, args, [operator, users.exporter.secret]);
        this.disruptionBudgets(name, args);

        this.registerOutputs({ kibanaUrl: clusterUrl(this.kibana), apmServerUrl: this.apmServerUrl });
    }

    /** A file-realm user per client (exporter, lifecycle Job, Logstash, read-only people), each with a generated password. */
    private users(
        name: string,
        args: LoggingArgs,
    ): Record<EsClient, { secretName: string; secret: k8s.core.v1.Secret; password: pulumi.Output<string> }> {
        const users = {} as Record<EsClient, { secretName: string; secret: k8s.core.v1.Secret; password: pulumi.Output<string> }>;
        for (const [client, user] of Object.entries(ES_USERS) as Array<[EsClient, (typeof ES_USERS)[EsClient]]>) {
            const password = new random.RandomPassword(`${name}-es-user-${client}`, { length: 32, special: false }, { parent: this })
                .result;
            const secretName = `es-user-${client}`;
            const secret = new k8s.core.v1.Secret(
                `${name}-es-user-${client}`,
                {
                    metadata: { name: secretName, namespace: args.namespace },
                    type: "kubernetes.io/basic-auth",
                    stringData: { username: user.username, password, roles: user.role },
                },
                { parent: this },
            );
            users[client] = { secretName, secret, password };
        }
        return users;
    }

    /** S3 with a web identity (production on EKS), else a volume of the single node. */
    private snapshotTarget(name: string, args: LoggingArgs): SnapshotStore {
        if (!args.aws) return { type: "fs" };
        const kept = { parent: this, protect: args.production, retainOnDelete: args.production };
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const bucket = new aws.s3.Bucket(
            `${name}-snapshots`,
            { bucket: pulumi.interpolate`finbot-${args.environment}-log-snapshots-${account}`, forceDestroy: false },
            kept,
        );
        new aws.s3.BucketPublicAccessBlock(
            `${name}-snapshots`,
            { bucket: bucket.bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            { parent: this },
        );
        new aws.s3.BucketPolicy(
            `${name}-snapshots`,
            {
                bucket: bucket.bucket,
                policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [denyInsecureTransport(bucket.arn)] }),
            },
            { parent: this },
        );
        // Versioned, so a deleted or overwritten snapshot file can be recovered for 30 days (current
        // objects never expire: Elasticsearch deletes what its snapshot policy retires).
        new aws.s3.BucketVersioning(
            `${name}-snapshots`,
            { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
            { parent: this },
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-snapshots`,
            {
                bucket: bucket.bucket,
                rules: [{ id: "old-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: 30 } }],
            },
            { parent: this },
        );
        // Encrypted with a key of its own (SSE-KMS): reading a snapshot takes kms:Decrypt on it, which
        // only the snapshot role holds, beside S3 rights; the key outlives the stack like the bucket.
        const key = new aws.kms.Key(
            `${name}-snapshots`,
            { description: "FinBot log snapshots (Elasticsearch)", enableKeyRotation: true, deletionWindowInDays: 30 },
            kept,
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-snapshots`,
            {
                bucket: bucket.bucket,
                rules: [
                    { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true },
                ],
            },
            { parent: this },
        );
        // Elasticsearch's S3 client takes a web identity (IRSA), not EKS Pod Identity: trust the cluster's OIDC provider for its service account.
        const issuer = aws.eks
            .getClusterOutput({ name: args.aws.clusterName }, { parent: this })
            .identities.apply((ids) => (ids[0]?.oidcs[0]?.issuer ?? "").replace(/^https:\/\//, ""));
        const role = new aws.iam.Role(
            `${name}-snapshots`,
            {
                description: "Elasticsearch writes and reads its snapshots",
                assumeRolePolicy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Federated: pulumi.interpolate`arn:aws:iam::${account}:oidc-provider/${issuer}` },
                            Action: "sts:AssumeRoleWithWebIdentity",
                            Condition: {
                                StringEquals: pulumi.all([issuer]).apply(([i]) => ({
                                    [`${i}:sub`]: `system:serviceaccount:${args.namespace}:${ES_SERVICE_ACCOUNT}`,
                                    [`${i}:aud`]: "sts.amazonaws.com",
                                })),
                            },
                        },
                    ],
                }),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-snapshots`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [bucket.arn] },
                        {
                            Effect: "Allow",
                            Action: [
                                "s3:GetObject",
                                "s3:PutObject",
                                "s3:DeleteObject",
                                "s3:AbortMultipartUpload",
                                "s3:ListMultipartUploadParts",
                            ],
                            Resource: [pulumi.interpolate`${bucket.arn}/logs/*`],
                        },
                        // SSE-KMS: S3 asks the key for data keys on writes and to decrypt on reads, as this role.
                        { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [key.arn] },
                    ],
                }),
            },
            { parent: this },
        );
        return { type: "s3", bucket: bucket.bucket, roleArn: role.arn, region: aws.getRegionOutput({}, { parent: this }).name };
    }

    private elasticsearch(name: string, args: LoggingArgs, snapshots: SnapshotStore, dependsOn: pulumi.Resource[]): pulumi.Resource {
        const { config, namespace } = args;
        const es = config.elasticsearch;
        // Elasticsearch's HTTP layer presents a certificate of the internal CA, which every client verifies.
        const tls = serverCertificate(
            `${name}-es-http-tls`,
            { namespace, secretName: `${ES}-es-http-tls`, dnsNames: serviceDnsNames(ES_HTTP, namespace), issuer: args.issuer },
            { parent: this },
        );
        const roles = new k8s.core.v1.Secret(
            `${name}-es-roles`,
            { metadata: { name: `${ES}-roles`, namespace }, type: "Opaque", stringData: { "roles.yml": rolesYaml() } },
            { parent: this },
        );
        const s3 = snapshots.type === "s3" ? snapshots : undefined;
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-es-service-account`,
            { metadata: { name: ES_SERVICE_ACCOUNT, namespace }, automountServiceAccountToken: false },
            { parent: this },
        );
        const tokenDir = "/usr/share/elasticsearch/config/repository-s3";
        return new k8s.apiextensions.CustomResource(
            `${name}-elasticsearch`,
            {
                apiVersion: "elasticsearch.k8s.elastic.co/v1",
                kind: "Elasticsearch",
                metadata: { name: ES, namespace },
                spec: {
                    version: args.versions.elasticStack,
                    http: { tls: { certificate: { secretName: `${ES}-es-http-tls` } } },
                    auth: {
                        roles: [{ secretName: `${ES}-roles` }],
                        fileRealm: Object.keys(ES_USERS).map((client) => ({ secretName: `es-user-${client}` })),
                    },
                    // Deleting the resource keeps the data volumes; only scaling down removes them.
                    volumeClaimDeletePolicy: "DeleteOnScaledownOnly",
                    nodeSets: [
                        {
                            name: "default",
                            count: es.nodes,
                            config: {
                                // Laptop clusters rarely raise vm.max_map_count; production nodes do (EKS AMIs).
                                ...(args.production ? {} : { "node.store.allow_mmap": false }),
                                // The S3 client's region given: the nodes cannot reach the instance metadata (hop
                                // limit 1), and the SDK v2 of Elasticsearch 9 builds its STS client for the web
                                // identity from the default region chain (repository-s3 S3Service: AWS_REGION, else IMDS).
                                ...(s3 ? { "s3.client.default.region": s3.region } : { "path.repo": [FS_SNAPSHOT_PATH] }),
                            },
                            resources: containerResources(es.resources),
                            // Spread over zones and tell Elasticsearch the zones, so replicas land in another zone.
                            zoneAwareness: args.production ? {} : undefined,
                            podTemplate: {
                                spec: {
                                    priorityClassName: PLATFORM_CRITICAL,
                                    serviceAccountName: ES_SERVICE_ACCOUNT,
                                    securityContext: ELASTIC_POD_SECURITY,
                                    containers: [
                                        {
                                            name: "elasticsearch",
                                            securityContext: ELASTIC_READ_ONLY_ROOT,
                                            env: [
                                                { name: "ES_JAVA_OPTS", value: `-Xms${es.heapMb}m -Xmx${es.heapMb}m` },
                                                ...(s3
                                                    ? [
                                                          { name: "AWS_ROLE_ARN", value: s3.roleArn },
                                                          { name: "AWS_REGION", value: s3.region },
                                                          {
                                                              name: "AWS_WEB_IDENTITY_TOKEN_FILE",
                                                              value: `${tokenDir}/aws-web-identity-token-file`,
                                                          },
                                                      ]
                                                    : []),
                                            ],
                                            volumeMounts: s3
                                                ? [{ name: "aws-web-identity", mountPath: tokenDir, readOnly: true }]
                                                : [{ name: "snapshots", mountPath: FS_SNAPSHOT_PATH }],
                                        },
                                    ],
                                    ...(s3
                                        ? {
                                              volumes: [
                                                  {
                                                      name: "aws-web-identity",
                                                      projected: {
                                                          sources: [
                                                              {
                                                                  serviceAccountToken: {
                                                                      audience: "sts.amazonaws.com",
                                                                      expirationSeconds: 86_400,
                                                                      path: "aws-web-identity-token-file",
                                                                  },
                                                              },
                                                          ],
                                                      },
                                                  },
                                              ],
                                          }
                                        : {}),
                                },
                            },
                            volumeClaimTemplates: [
                                this.volumeClaim("elasticsearch-data", es.storage, args.storageClass),
                                ...(s3 ? [] : [this.volumeClaim("snapshots", es.storage, args.storageClass)]),
                            ],
                        },
                    ],
                    podDisruptionBudget: {
                        spec: { maxUnavailable: 1, selector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": ES } } },
                    },
                },
            },
            { parent: this, dependsOn: [...dependsOn, tls, roles, serviceAccount], protect: args.production },
        );
    }

    private volumeClaim(name: string, size: string, storageClass?: string) {
        return {
            metadata: { name },
            spec: {
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: size } },
                ...(storageClass ? { storageClassName: storageClass } : {}),
            },
        };
    }

    /** Kibana: ECK's own service user; people read-only without a password when they came through single sign-on. */
    private kibanaServer(name: string, args: LoggingArgs, users: EsUserSecrets, dependsOn: pulumi.Resource[]): void {
        const { config, namespace } = args;
        const version = args.versions.elasticStack;
        const viewer = args.viewersBehindSso;
        const tls = serverCertificate(
            `${name}-kibana-tls`,
            { namespace, secretName: "kibana-tls", dnsNames: serviceDnsNames(this.kibana.name, namespace), issuer: args.issuer },
            { parent: this },
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
                    // TLS from the internal CA: the gateway verifies it, and ECK's associations (APM Server) trust its ca.crt.
                    http: { tls: { certificate: { secretName: "kibana-tls" } } },
                    config: viewer
                        ? {
                              "xpack.security.authc.providers": {
                                  anonymous: {
                                      sso: {
                                          order: 0,
                                          credentials: { username: ES_USERS.viewer.username, password: "${FINBOT_VIEWER_PASSWORD}" },
                                      },
                                  },
                                  basic: { basic1: { order: 1 } },
                              },
                          }
                        : {},
                    podTemplate: {
                        spec: {
                            priorityClassName: PLATFORM_CRITICAL,
                            securityContext: ELASTIC_POD_SECURITY,
                            containers: [
                                {
                                    name: "kibana",
                                    resources: containerResources(config.kibana.resources),
                                    securityContext: ELASTIC_READ_ONLY_ROOT,
                                    env: viewer
                                        ? [
                                              {
                                                  name: "FINBOT_VIEWER_PASSWORD",
                                                  valueFrom: { secretKeyRef: { name: users.viewer.secretName, key: "password" } },
                                              },
                                          ]
                                        : [],
                                },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [...dependsOn, users.viewer.secret, tls] },
        );
    }

    /** Logstash: writes FinBot's data streams as its own user; its beats input is TLS (internal CA). */
    private logstash(name: string, args: LoggingArgs, users: EsUserSecrets, dependsOn: pulumi.Resource[]): void {
        const { config, namespace } = args;
        const version = args.versions.elasticStack;
        const beatsTls = serverCertificate(
            `${name}-beats-tls`,
            {
                namespace,
                secretName: "logstash-beats-tls",
                dnsNames: serviceDnsNames(LOGSTASH_BEATS, namespace),
                issuer: args.issuer,
                pkcs8: true,
            },
            { parent: this },
        );
        // Logstash signs in as its own user: the association Secret names the cluster, the user and the CA.
        const esConnection = new k8s.core.v1.Secret(
            `${name}-logstash-es`,
            {
                metadata: { name: "logstash-elasticsearch", namespace },
                type: "Opaque",
                stringData: {
                    url: `https://${serviceHost(ES_HTTP, namespace)}:${ELASTICSEARCH_HTTP_PORT}`,
                    username: ES_USERS.logstash.username,
                    password: users.logstash.password,
                    "ca.crt": args.issuer.caCertPem,
                },
            },
            { parent: this },
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
                    elasticsearchRefs: [{ clusterName: "finbot", secretName: "logstash-elasticsearch" }],
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
                                spec: {
                                    type: "ClusterIP",
                                    ports: [{ name: "beats", port: BEATS_PORT, targetPort: BEATS_PORT, protocol: "TCP" }],
                                },
                            },
                        },
                    ],
                    podTemplate: {
                        spec: {
                            priorityClassName: PLATFORM_CRITICAL,
                            securityContext: ELASTIC_POD_SECURITY,
                            containers: [
                                {
                                    name: "logstash",
                                    resources: containerResources(ls.resources),
                                    securityContext: ELASTIC_CONTAINER_SECURITY,
                                    env: [{ name: "LS_JAVA_OPTS", value: `-Xms${ls.heapMb}m -Xmx${ls.heapMb}m` }],
                                    volumeMounts: [{ name: "beats-tls", mountPath: BEATS_TLS_PATH, readOnly: true }],
                                },
                            ],
                            volumes: [{ name: "beats-tls", secret: { secretName: "logstash-beats-tls" } }],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [...dependsOn, beatsTls, esConnection] },
        );
    }

    /** APM Server: intake over TLS (internal CA) with the program's secret token. */
    private apmServer(name: string, args: LoggingArgs, token: random.RandomPassword, dependsOn: pulumi.Resource[]): void {
        const { config, namespace } = args;
        const tokenSecret = new k8s.core.v1.Secret(
            `${name}-apm-token`,
            { metadata: { name: "apm-secret-token", namespace }, type: "Opaque", stringData: { token: token.result } },
            { parent: this },
        );
        const tls = serverCertificate(
            `${name}-apm-tls`,
            { namespace, secretName: "apm-tls", dnsNames: serviceDnsNames(APM_HTTP, namespace), issuer: args.issuer },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-apm`,
            {
                apiVersion: "apm.k8s.elastic.co/v1",
                kind: "ApmServer",
                metadata: { name: APM, namespace },
                spec: {
                    version: args.versions.elasticStack,
                    count: config.apm.replicas,
                    elasticsearchRef: { name: ES },
                    kibanaRef: { name: ES },
                    // The token FinBot's agents use is the program's, so it can be handed to them.
                    config: {
                        "apm-server.auth.secret_token": "${FINBOT_APM_SECRET_TOKEN}",
                        ...(args.rum ? rumSettings(args.rum) : {}),
                    },
                    http: { tls: { certificate: { secretName: "apm-tls" } } },
                    podTemplate: {
                        spec: {
                            priorityClassName: PLATFORM_CRITICAL,
                            securityContext: ELASTIC_POD_SECURITY,
                            containers: [
                                {
                                    name: "apm-server",
                                    resources: containerResources(config.apm.resources),
                                    securityContext: ELASTIC_READ_ONLY_ROOT,
                                    env: [
                                        {
                                            name: "FINBOT_APM_SECRET_TOKEN",
                                            valueFrom: { secretKeyRef: { name: "apm-secret-token", key: "token" } },
                                        },
                                    ],
                                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                },
                            ],
                            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [...dependsOn, tokenSecret, tls] },
        );
    }

    /** Filebeat on every node, in the node-agents namespace: reads log files as root, ships to Logstash over TLS. */
    private filebeat(name: string, args: LoggingArgs, operator: pulumi.Resource): void {
        const namespace = args.nodeAgentsNamespace;
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
        const ca = new k8s.core.v1.ConfigMap(
            `${name}-filebeat-ca`,
            { metadata: { name: CA_CONFIGMAP, namespace }, data: { [INTERNAL_CA_KEY]: args.issuer.caCertPem } },
            { parent: this },
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
                    config: filebeatConfig(`${serviceHost(LOGSTASH_BEATS, args.namespace)}:${BEATS_PORT}`, INTERNAL_CA_FILE),
                    daemonSet: {
                        podTemplate: {
                            spec: {
                                serviceAccountName: "filebeat",
                                automountServiceAccountToken: true,
                                terminationGracePeriodSeconds: 30,
                                priorityClassName: PLATFORM_CRITICAL,
                                // Filebeat reads every container's log file on the node: root, read-only mounts.
                                containers: [
                                    {
                                        name: "filebeat",
                                        securityContext: {
                                            runAsUser: 0,
                                            allowPrivilegeEscalation: false,
                                            capabilities: { drop: ["ALL"], add: ["DAC_READ_SEARCH"] },
                                        },
                                        resources: containerResources(args.config.filebeat.resources),
                                        env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                                        volumeMounts: [
                                            { name: "varlogcontainers", mountPath: "/var/log/containers", readOnly: true },
                                            { name: "varlogpods", mountPath: "/var/log/pods", readOnly: true },
                                            { name: "ca-bundle", mountPath: CA_MOUNT_PATH, readOnly: true },
                                        ],
                                    },
                                ],
                                volumes: [
                                    hostPath("varlogcontainers", "/var/log/containers"),
                                    hostPath("varlogpods", "/var/log/pods"),
                                    { name: "ca-bundle", configMap: { name: CA_CONFIGMAP } },
                                ],
                            },
                        },
                    },
                },
            },
            { parent: this, dependsOn: [operator, binding, ca] },
        );
    }

    /**
     * Retention and snapshots: a Job PUTs the lifecycle policy, index template, snapshot repository
     * and snapshot policy (idempotent) as the lifecycle user. Its name carries a hash of what it
     * applies, so every `pulumi up` that changes them runs it again; an hourly CronJob re-applies
     * the same requests so a hand edit in Kibana cannot linger.
     */
    private lifecycle(name: string, args: LoggingArgs, snapshots: SnapshotStore, dependsOn: pulumi.Resource[]): void {
        const { namespace, config } = args;
        const target: pulumi.Output<SnapshotTarget> =
            snapshots.type === "s3"
                ? snapshots.bucket.apply((bucket) => ({ type: "s3" as const, bucket }))
                : pulumi.output({ type: "fs" as const });
        const repository = target.apply((t) => JSON.stringify(snapshotRepository(t), null, 2));
        const bodies: Record<string, pulumi.Input<string>> = {
            [LIFECYCLE_REQUESTS[0].file]: JSON.stringify(ilmPolicy(config), null, 2),
            [LIFECYCLE_REQUESTS[1].file]: JSON.stringify(indexTemplate(config), null, 2),
            [LIFECYCLE_REQUESTS[2].file]: repository,
            [LIFECYCLE_REQUESTS[3].file]: JSON.stringify(snapshotPolicy(config), null, 2),
            [LIFECYCLE_REQUESTS[4].file]: JSON.stringify(rumRetentionTemplate(config), null, 2),
        };
        const hash = pulumi.all(bodies).apply((b) => createHash("sha256").update(JSON.stringify(b)).digest("hex").slice(0, 10));
        const configMapName = pulumi.interpolate`es-lifecycle-${hash}`;
        const requests = new k8s.core.v1.ConfigMap(
            `${name}-lifecycle-requests`,
            { metadata: { name: configMapName, namespace }, data: bodies },
            { parent: this },
        );
        const labels = { "app.kubernetes.io/name": "es-lifecycle", "app.kubernetes.io/part-of": "finbot" };
        const podSpec = hardenedPodSpec({
            restartPolicy: "OnFailure",
            priorityClassName: PLATFORM_CRITICAL,
            runAs: { user: 100 },
            containers: [
                {
                    name: "apply",
                    image: args.images.curl,
                    command: ["/bin/sh", "-c", lifecycleScript(`https://${serviceHost(ES_HTTP, namespace)}:${ELASTICSEARCH_HTTP_PORT}`)],
                    env: [
                        { name: "ES_USER", value: ES_USERS.lifecycle.username },
                        { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: "es-user-lifecycle", key: "password" } } },
                    ],
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
                    securityContext: hardenedContainer(),
                    volumeMounts: [
                        { name: "requests", mountPath: "/requests", readOnly: true },
                        { name: "es-ca", mountPath: "/es-ca", readOnly: true },
                    ],
                },
            ],
            volumes: [
                { name: "requests", configMap: { name: configMapName } },
                { name: "es-ca", secret: { secretName: `${ES_HTTP}-certs-public` } },
            ],
        });
        const template = { metadata: { labels }, spec: podSpec };
        new k8s.batch.v1.Job(
            `${name}-lifecycle`,
            { metadata: { name: configMapName, namespace, labels }, spec: { backoffLimit: 20, template } },
            { parent: this, dependsOn: [...dependsOn, requests], deleteBeforeReplace: true },
        );
        new k8s.batch.v1.CronJob(
            `${name}-lifecycle-reapply`,
            {
                metadata: { name: "es-lifecycle-reapply", namespace, labels },
                spec: { schedule: "17 * * * *", concurrencyPolicy: "Forbid", jobTemplate: { spec: { backoffLimit: 3, template } } },
            },
            { parent: this, dependsOn: [...dependsOn, requests] },
        );
    }

    /** The Elasticsearch exporter, as the monitor-only user. */
    private exporter(name: string, args: LoggingArgs, dependsOn: pulumi.Resource[]): void {
        const { namespace } = args;
        helmRelease(
            `${name}-elasticsearch-exporter`,
            {
                chart: "prometheus-elasticsearch-exporter",
                version: args.versions.elasticsearchExporter,
                releaseName: "elasticsearch-exporter",
                namespace,
                values: {
                    priorityClassName: PLATFORM_CRITICAL,
                    resources: EXPORTER_RESOURCES,
                    env: { ES_USERNAME: ES_USERS.exporter.username },
                    extraEnvSecrets: { ES_PASSWORD: { secret: "es-user-exporter", key: "password" } },
                    secretMounts: [{ name: "es-ca", secretName: `${ES_HTTP}-certs-public`, path: "/ssl" }],
                    es: {
                        uri: `https://${serviceHost(ES_HTTP, namespace)}:${ELASTICSEARCH_HTTP_PORT}`,
                        all: true,
                        indices: true,
                        ilm: true,
                        data_stream: true,
                        ssl: { enabled: true, useExistingSecrets: true, ca: { path: "/ssl/ca.crt" }, client: { enabled: false } },
                    },
                    serviceMonitor: { enabled: args.monitoringCrds !== undefined, interval: "30s" },
                    // Pinned here: the scrape flow names this port.
                    service: { httpPort: ELASTICSEARCH_EXPORTER_METRICS },
                },
            },
            { parent: this, dependsOn: [...dependsOn, ...(args.monitoringCrds ? [args.monitoringCrds] : [])] },
        );
    }

    /** ECK gives Elasticsearch a budget; Kibana, Logstash and APM Server get one here when they run more than one pod. */
    private disruptionBudgets(name: string, args: LoggingArgs): void {
        const { config, namespace } = args;
        const budgets: Array<{ part: string; replicas: number; selector: Record<string, string> }> = [
            { part: "kibana", replicas: config.kibana.replicas, selector: { "kibana.k8s.elastic.co/name": ES } },
            { part: "logstash", replicas: config.logstash.replicas, selector: { "logstash.k8s.elastic.co/name": ES } },
            { part: "apm", replicas: config.apm.enabled ? config.apm.replicas : 0, selector: { "apm.k8s.elastic.co/name": APM } },
        ];
        for (const { part, selector } of budgets.filter((b) => b.replicas > 1)) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-${part}-pdb`,
                { metadata: { name: `${ES}-${part}`, namespace }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
                { parent: this },
            );
        }
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

/** APM Server's RUM intake: browsers send without the secret token, only as the RUM agent, only for FinBot's web services, rate-limited. */
function rumSettings(rum: NonNullable<LoggingArgs["rum"]>): Record<string, unknown> {
    return {
        "apm-server.rum.enabled": true,
        "apm-server.rum.allow_origins": rum.allowedOrigins,
        "apm-server.auth.anonymous.enabled": true,
        "apm-server.auth.anonymous.allow_agent": ["rum-js"],
        "apm-server.auth.anonymous.allow_service": rum.services,
        "apm-server.auth.anonymous.rate_limit.event_limit": rum.eventRateLimit,
        "apm-server.auth.anonymous.rate_limit.ip_limit": 10000,
    };
}
