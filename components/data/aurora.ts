import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { DatabaseConfig } from "../config/data";
import { podMonitor } from "../lib/monitors";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { serviceTrust } from "../lib/iam";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";
import { hardenedContainer, hardenedPodSpec } from "../lib/security";
import { exporterDeployment } from "./exporter";
import { clientSecurityGroupPolicies } from "./network";
import {
    DatabaseConsumer,
    MONITOR_ROLE,
    OwnDatabase,
    adminSql,
    consumerRoles,
    grantsScript,
    ownDatabaseRole,
    roleSecretName,
    verifierVariable,
} from "./postgresRoles";
import { jsonPasswordShell, roleSecretEnv } from "./roleJobs";
import { postgresParameters } from "./parameters";
import { EXPORTER_RESOURCES } from "../lib/sizes";
import { AwsNetwork } from "../lib/awsNetwork";
import { podIdentity } from "../lib/podIdentity";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { ManifestFetcher, PinnedManifest, verifyManifest } from "../lib/manifest";
import { POSTGRES, POSTGRES_METRICS } from "./ports";

/**
 * The CA bundle Aurora's certificates chain to (rds-ca-rsa2048-g1 and the others, every region),
 * from AWS's trust store: fetched over HTTPS when the program runs (on the deploy runner, which
 * reaches the internet), so no pod needs to. No SHA-256 is pinned yet: AWS adds CAs to the bundle.
 */
const RDS_CA_BUNDLE: PinnedManifest = { url: "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem", sha256: null };
/** Where the platform's own Aurora clients (the roles Job, the exporters) find it and the exporter's queries. */
const CLIENT_FILES_DIR = "/etc/aurora-client";
const RDS_CA_FILE = `${CLIENT_FILES_DIR}/rds-ca.pem`;
/** libpq's settings for a verified connection to Aurora: the server's name checked against the RDS CA. */
const VERIFY_AURORA = { sslmode: "verify-full", sslrootcert: RDS_CA_FILE } as const;
/** The shortest a locked vault keeps a recovery point: a mistaken or malicious delete waits a week. */
const VAULT_LOCK_MIN_DAYS = 7;
/**
 * The readers' lag as Aurora reports it (aurora_replica_status(), AWS Aurora user guide): one row per
 * reader (the writer's own row is MASTER_SESSION_ID). postgres_exporter v0.20.1's query file
 * (--extend.query-path, exporter/queries.go) names the metric <namespace>_<column>:
 * aurora_replica_lag_seconds{server_id}.
 */
export const AURORA_LAG_QUERIES = `aurora_replica:
  query: "SELECT server_id, replica_lag_in_msec / 1000.0 AS lag_seconds FROM aurora_replica_status() WHERE session_id <> 'MASTER_SESSION_ID'"
  metrics:
    - server_id:
        usage: "LABEL"
        description: "The reader DB instance"
    - lag_seconds:
        usage: "GAUGE"
        description: "How far the reader is behind the writer (replica_lag_in_msec)"
`;

/** Where AWS-managed stores live: the VPC and the EKS cluster whose pods reach them. */
export interface AwsPlacement {
    network: AwsNetwork;
    /** The EKS cluster (pod identities are associated with it). */
    clusterName: pulumi.Input<string>;
}

export interface AuroraDatabaseArgs {
    /** The validated `finbot:database` (aurora mode). */
    config: DatabaseConfig;
    /** Production: deletion protection, protected resources. */
    production: boolean;
    /** Namespace of the exporters and the roles Job. */
    namespace: string;
    /** Namespace of FinBot's services (their pods get the client security group). */
    clientNamespace: string;
    /** Images from `finbot:releases.images` (postgresql, postgres-exporter, aws-cli). */
    images: Record<string, string>;
    /** The services and workers that use the database. */
    consumers: DatabaseConsumer[];
    /** Platform parts with a database of their own, and the namespace of their pods. */
    ownDatabases: OwnDatabase[];
    /** VPC and EKS cluster. */
    aws: AwsPlacement;
    /** Downloads the RDS CA bundle (the program) or stands in for it (the offline plan). */
    fetchManifest: ManifestFetcher;
    /** Every role's generated password (RDS Proxy signs in with them; the roles Job sets them). */
    rolePasswords: Record<string, pulumi.Output<string>>;
    /** The Secrets holding them in the data namespace. */
    roleSecrets: Record<string, k8s.core.v1.Secret>;
    /**
     * When set, the exporters get PodMonitors (created after these CRDs).
     * @default no PodMonitors
     */
    monitoringCrds?: pulumi.Resource;
}

/** Aurora's master user: only the roles Job signs in with it, its password never leaves Secrets Manager but for that Job. */
const masterUsername = (database: string) => `${database}_admin`;

/** Pods carrying this label get the security group the database admits (security groups for pods). */
export const POSTGRES_CLIENT_LABEL = { "finbot.io/postgres-client": "true" };

/**
 * Aurora PostgreSQL: an encrypted cluster with a Multi-AZ writer and readers that Application
 * Auto Scaling adds behind the reader endpoint as their CPU rises; RDS Proxy in front of writer and
 * readers (a read-only endpoint spreads reads over every reader), with one Secrets Manager secret per
 * login role; the master password managed and rotated by RDS in Secrets Manager, read only by the
 * roles Job through its pod identity; backups with point-in-time recovery copied to a second region.
 */
export class AuroraDatabase extends pulumi.ComponentResource {
    /** Writer (proxy), reader (proxy read-only endpoint), pooled (proxy) and how they verify: RDS Proxy's public certificate. */
    public readonly endpoints: {
        writer: pulumi.Output<string>;
        reader: pulumi.Output<string>;
        pooled: pulumi.Output<string>;
        rootCert: string;
    };
    public readonly cluster: aws.rds.Cluster;
    /** The Job that creates every role and database of its own: what uses them waits for it. */
    public readonly rolesJob: k8s.batch.v1.Job;
    public readonly footprint: Footprint = emptyFootprint();

    constructor(name: string, args: AuroraDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:AuroraDatabase", name, {}, opts);
        const { config, production, aws: placement } = args;
        const a = config.aurora;
        const network = placement.network;
        const parent = { parent: this };
        // Stateful resources: a mistaken `pulumi up` or `destroy` stops at them in production.
        const stateful = { parent: this, protect: production };
        const identifier = `finbot-${config.name}`;

        const key = new aws.kms.Key(
            `${name}-key`,
            { description: "FinBot PostgreSQL: storage, secrets, backups", enableKeyRotation: true, deletionWindowInDays: 30 },
            { ...stateful, retainOnDelete: production },
        );
        const sg = this.securityGroups(name, args, identifier);

        const subnets = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            { subnetIds: network.privateSubnetIds, description: "FinBot PostgreSQL" },
            parent,
        );
        const clusterParameters = this.clusterParameters(name, args);
        // RDS would create the log group without an expiry; it is created first, with one.
        const logs = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { name: `/aws/rds/cluster/${identifier}/postgresql`, retentionInDays: a.logRetentionDays },
            { ...stateful, retainOnDelete: production },
        );
        this.cluster = new aws.rds.Cluster(
            `${name}-cluster`,
            {
                clusterIdentifier: identifier,
                engine: "aurora-postgresql",
                engineVersion: a.engineVersion,
                databaseName: config.name,
                masterUsername: masterUsername(config.name),
                // RDS keeps the master password in Secrets Manager and rotates it; the program never sees it.
                manageMasterUserPassword: true,
                masterUserSecretKmsKeyId: key.keyId,
                storageEncrypted: true,
                kmsKeyId: key.arn,
                dbSubnetGroupName: subnets.name,
                vpcSecurityGroupIds: [sg.cluster.id],
                dbClusterParameterGroupName: clusterParameters.name,
                backupRetentionPeriod: a.backupRetentionDays,
                preferredBackupWindow: "02:00-03:00",
                preferredMaintenanceWindow: "sun:03:30-sun:04:30",
                copyTagsToSnapshot: true,
                deletionProtection: production,
                skipFinalSnapshot: false,
                finalSnapshotIdentifier: `${identifier}-final`,
                deleteAutomatedBackups: false,
                enabledCloudwatchLogsExports: ["postgresql"],
                iamDatabaseAuthenticationEnabled: false,
            },
            { ...stateful, dependsOn: [logs] },
        );
        const instances = this.instances(name, args, identifier, key, subnets);
        this.readerScaling(name, args, instances);
        const proxy = this.proxy(name, args, identifier, key, sg.proxy, instances);
        const clientFiles = this.clientFiles(name, args);
        this.rolesJob = this.createRolesJob(name, args, key, instances, clientFiles);
        this.backups(name, args, identifier, key);
        this.exporters(name, args, clientFiles);

        this.footprint.managed.push(
            { kind: "aurora-instance", role: "writer", instanceClass: a.instanceClass, count: 1 },
            {
                kind: "aurora-instance",
                role: `readers (${a.readers.min}–${a.readers.max}, at the minimum)`,
                instanceClass: a.instanceClass,
                count: a.readers.min,
            },
            { kind: "aurora-storage", gb: 100 },
            { kind: "rds-proxy", instanceClass: a.instanceClass, instances: 1 + a.readers.min },
            ...(a.backupCopyRegion ? [{ kind: "backup-copy" as const, gb: 100 }] : []),
        );
        this.endpoints = { writer: proxy.endpoint, reader: proxy.readOnly, pooled: proxy.endpoint, rootCert: "system" };
        this.registerOutputs({ writer: this.endpoints.writer, reader: this.endpoints.reader });
    }

    /** Parameters: pg_stat_statements, the slow-query log without bound values, TLS only. */
    private clusterParameters(name: string, args: AuroraDatabaseArgs): aws.rds.ClusterParameterGroup {
        const { config } = args;
        const a = config.aurora;
        const family = `aurora-postgresql${a.engineVersion.split(".")[0]}`;
        return new aws.rds.ClusterParameterGroup(
            `${name}-params`,
            {
                family,
                description: "FinBot: pg_stat_statements, slow-query log without bound values, TLS only",
                parameters: [
                    { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
                    ...Object.entries(postgresParameters(config)).map(([k, value]) => ({
                        name: k,
                        value,
                        applyMethod: k === "pg_stat_statements.max" ? "pending-reboot" : "immediate",
                    })),
                    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
                ],
            },
            { parent: this },
        );
    }

    /** The writer and the minimum readers, one per zone, with Performance Insights and Enhanced Monitoring. */
    private instances(
        name: string,
        args: AuroraDatabaseArgs,
        identifier: string,
        key: aws.kms.Key,
        subnets: aws.rds.SubnetGroup,
    ): aws.rds.ClusterInstance[] {
        const a = args.config.aurora;
        const parent = { parent: this };
        const stateful = { parent: this, protect: args.production };
        const monitoringRole = new aws.iam.Role(
            `${name}-enhanced-monitoring`,
            { assumeRolePolicy: serviceTrust("monitoring.rds.amazonaws.com") },
            parent,
        );
        new aws.iam.RolePolicyAttachment(
            `${name}-enhanced-monitoring`,
            { role: monitoringRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" },
            parent,
        );
        const zones = args.aws.network.availabilityZones;
        return Array.from(
            { length: 1 + a.readers.min },
            (_, i) =>
                new aws.rds.ClusterInstance(
                    `${name}-instance-${i + 1}`,
                    {
                        identifier: `${identifier}-${i + 1}`,
                        clusterIdentifier: this.cluster.id,
                        engine: "aurora-postgresql",
                        engineVersion: a.engineVersion,
                        instanceClass: a.instanceClass,
                        availabilityZone: zones[i % zones.length],
                        dbSubnetGroupName: subnets.name,
                        promotionTier: i === 0 ? 0 : 1,
                        publiclyAccessible: false,
                        performanceInsightsEnabled: true,
                        performanceInsightsKmsKeyId: key.arn,
                        performanceInsightsRetentionPeriod: a.performanceInsightsRetentionDays,
                        monitoringInterval: a.monitoringIntervalSeconds,
                        monitoringRoleArn: monitoringRole.arn,
                        autoMinorVersionUpgrade: true,
                        copyTagsToSnapshot: true,
                    },
                    stateful,
                ),
        );
    }

    /** Application Auto Scaling adds readers up to the maximum when their CPU passes the target. */
    private readerScaling(name: string, args: AuroraDatabaseArgs, instances: aws.rds.ClusterInstance[]): void {
        const a = args.config.aurora;
        const parent = { parent: this };
        const readers = new aws.appautoscaling.Target(
            `${name}-readers`,
            {
                serviceNamespace: "rds",
                scalableDimension: "rds:cluster:ReadReplicaCount",
                resourceId: pulumi.interpolate`cluster:${this.cluster.clusterIdentifier}`,
                minCapacity: a.readers.min,
                maxCapacity: a.readers.max,
            },
            { parent: this, dependsOn: instances },
        );
        new aws.appautoscaling.Policy(
            `${name}-readers-cpu`,
            {
                policyType: "TargetTrackingScaling",
                serviceNamespace: readers.serviceNamespace,
                scalableDimension: readers.scalableDimension,
                resourceId: readers.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "RDSReaderAverageCPUUtilization" },
                    targetValue: a.readers.targetCpuPercent,
                    scaleOutCooldown: 300,
                    scaleInCooldown: 900,
                },
            },
            parent,
        );
    }

    /**
     * Who may reach PostgreSQL: the proxy from pods of the client group (FinBot's consumers), the
     * cluster from the proxy and from the platform's own clients (exporters, roles Job). Pods get
     * the client group through security groups for pods, with the nodes' group for the rest of
     * their traffic. Every rule is its own resource.
     */
    private securityGroups(name: string, args: AuroraDatabaseArgs, identifier: string) {
        const { network } = args.aws;
        const parent = { parent: this };
        const group = (suffix: string, description: string) =>
            new aws.ec2.SecurityGroup(
                `${name}-${suffix}-sg`,
                { vpcId: network.vpcId, description, tags: { Name: `${identifier}-${suffix}` } },
                parent,
            );
        const clients = group("clients", "FinBot PostgreSQL clients (security groups for pods)");
        const proxy = group("proxy", "FinBot RDS Proxy: from PostgreSQL clients to the cluster");
        const cluster = group("cluster", "FinBot Aurora: from RDS Proxy and the platform's own clients");
        const ingress = (rule: string, target: aws.ec2.SecurityGroup, source: aws.ec2.SecurityGroup, description: string) =>
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-${rule}`,
                {
                    securityGroupId: target.id,
                    referencedSecurityGroupId: source.id,
                    ipProtocol: "tcp",
                    fromPort: POSTGRES,
                    toPort: POSTGRES,
                    description,
                },
                parent,
            );
        const egress = (rule: string, from: aws.ec2.SecurityGroup, to: aws.ec2.SecurityGroup, description: string) =>
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-${rule}`,
                {
                    securityGroupId: from.id,
                    referencedSecurityGroupId: to.id,
                    ipProtocol: "tcp",
                    fromPort: POSTGRES,
                    toPort: POSTGRES,
                    description,
                },
                parent,
            );
        ingress("proxy-from-clients", proxy, clients, "PostgreSQL clients");
        ingress("cluster-from-proxy", cluster, proxy, "RDS Proxy");
        ingress("cluster-from-clients", cluster, clients, "exporters and the roles Job");
        egress("clients-to-proxy", clients, proxy, "RDS Proxy");
        egress("clients-to-cluster", clients, cluster, "Aurora");
        egress("proxy-to-cluster", proxy, cluster, "Aurora");
        clientSecurityGroupPolicies(
            `${name}-pod-sg`,
            {
                name: "postgres-clients",
                namespaces: [args.clientNamespace, args.namespace, ...args.ownDatabases.map((d) => d.namespace)],
                podLabels: POSTGRES_CLIENT_LABEL,
                groupIds: [clients.id, network.nodeSecurityGroupId],
            },
            parent,
        );
        return { clients, proxy, cluster };
    }

    /** RDS Proxy: one Secrets Manager secret per login role, TLS required, a read-only endpoint over the readers. */
    private proxy(
        name: string,
        args: AuroraDatabaseArgs,
        identifier: string,
        key: aws.kms.Key,
        sg: aws.ec2.SecurityGroup,
        instances: pulumi.Resource[],
    ) {
        const parent = { parent: this };
        const roles = [...consumerRoles(args.consumers).map((r) => r.role), ...args.ownDatabases.map((d) => ownDatabaseRole(d.name))];
        const secrets = roles.map((role) => {
            const secret = new aws.secretsmanager.Secret(
                `${name}-role-${role}`,
                {
                    name: `${identifier}/roles/${role}`,
                    description: `FinBot PostgreSQL role ${role} (RDS Proxy)`,
                    kmsKeyId: key.arn,
                    recoveryWindowInDays: 7,
                },
                { parent: this, protect: args.production },
            );
            new aws.secretsmanager.SecretVersion(
                `${name}-role-${role}`,
                {
                    secretId: secret.id,
                    secretString: pulumi.secret(pulumi.jsonStringify({ username: role, password: args.rolePasswords[role] })),
                },
                parent,
            );
            return secret;
        });
        const role = new aws.iam.Role(`${name}-proxy`, { assumeRolePolicy: serviceTrust("rds.amazonaws.com") }, parent);
        new aws.iam.RolePolicy(
            `${name}-proxy-secrets`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secrets.map((s) => s.arn) },
                        { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [key.arn] },
                    ],
                }),
            },
            parent,
        );
        const proxy = new aws.rds.Proxy(
            `${name}-proxy`,
            {
                name: `${identifier}-proxy`,
                engineFamily: "POSTGRESQL",
                roleArn: role.arn,
                vpcSubnetIds: args.aws.network.privateSubnetIds,
                vpcSecurityGroupIds: [sg.id],
                requireTls: true,
                idleClientTimeout: 1800,
                auths: secrets.map((s) => ({
                    authScheme: "SECRETS",
                    secretArn: s.arn,
                    iamAuth: "DISABLED",
                    clientPasswordAuthType: "POSTGRES_SCRAM_SHA_256",
                })),
            },
            parent,
        );
        const targets = new aws.rds.ProxyDefaultTargetGroup(
            `${name}-proxy-targets`,
            {
                dbProxyName: proxy.name,
                connectionPoolConfig: { maxConnectionsPercent: 90, maxIdleConnectionsPercent: 50, connectionBorrowTimeout: 120 },
            },
            parent,
        );
        new aws.rds.ProxyTarget(
            `${name}-proxy-target`,
            { dbProxyName: proxy.name, targetGroupName: targets.name, dbClusterIdentifier: this.cluster.clusterIdentifier },
            { parent: this, dependsOn: instances },
        );
        // Reads through this endpoint spread over every reader, those auto scaling adds included.
        const readOnly = new aws.rds.ProxyEndpoint(
            `${name}-proxy-read-only`,
            {
                dbProxyName: proxy.name,
                dbProxyEndpointName: `${identifier}-read-only`,
                vpcSubnetIds: args.aws.network.privateSubnetIds,
                vpcSecurityGroupIds: [sg.id],
                targetRole: "READ_ONLY",
            },
            parent,
        );
        return { endpoint: proxy.endpoint, readOnly: readOnly.endpoint };
    }

    /**
     * The roles Job: reads the master user's credentials from Secrets Manager through its pod
     * identity (no Kubernetes Secret ever holds them), creates every login role with its password,
     * schemas and grants (adminSql), pg_stat_statements for the exporters, then each owner's grants.
     */
    /** The RDS CA bundle and the exporter's queries, for the platform's own clients of Aurora. */
    private clientFiles(name: string, args: AuroraDatabaseArgs): k8s.core.v1.ConfigMap {
        const bundle = pulumi.output(args.fetchManifest(RDS_CA_BUNDLE.url)).apply((text) => verifyManifest(RDS_CA_BUNDLE, text));
        return new k8s.core.v1.ConfigMap(
            `${name}-client-files`,
            {
                metadata: { name: "aurora-client", namespace: args.namespace },
                data: { "rds-ca.pem": bundle, "queries.yaml": AURORA_LAG_QUERIES },
            },
            { parent: this },
        );
    }

    private createRolesJob(
        name: string,
        args: AuroraDatabaseArgs,
        key: aws.kms.Key,
        instances: pulumi.Resource[],
        clientFiles: k8s.core.v1.ConfigMap,
    ): k8s.batch.v1.Job {
        const { config, namespace } = args;
        const parent = { parent: this };
        const serviceAccount = "postgres-roles";
        const masterSecretArn = this.cluster.masterUserSecrets.apply((s) => s?.[0]?.secretArn ?? "");
        const account = new k8s.core.v1.ServiceAccount(`${name}-roles-job`, { metadata: { name: serviceAccount, namespace } }, parent);
        const { association: identity } = podIdentity(
            `${name}-roles-job`,
            {
                clusterName: args.aws.clusterName,
                namespace,
                serviceAccount,
                description: "The PostgreSQL roles Job reads the master user's credentials",
                statements: [
                    { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [masterSecretArn] },
                    { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [key.arn] },
                ],
            },
            parent,
        );
        const own = args.ownDatabases.map((d) => d.name);
        const roles = [...consumerRoles(args.consumers).map((r) => r.role), MONITOR_ROLE, ...own.map(ownDatabaseRole)];
        const admin = adminSql(config.name, args.consumers, own);
        const grants = grantsScript(config.name, args.consumers, own);
        const variables = roles.map((r) => `-v "${verifierVariable(r)}=$${r.toUpperCase()}_VERIFIER"`).join(" ");
        const script = [
            "set -eu",
            `export PGUSER="${masterUsername(config.name)}" PGPASSWORD="$(${jsonPasswordShell("/work/master.json")})"`,
            `until pg_isready -q; do echo "waiting for PostgreSQL"; sleep 5; done`,
            `psql -d ${config.name} ${variables} <<'SQL'\n${admin}SQL`,
            `psql -d postgres -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements;'`,
            "unset PGUSER PGPASSWORD",
            grants,
        ].join("\n");
        const labels = { "app.kubernetes.io/name": "postgres-roles", "app.kubernetes.io/part-of": "finbot", ...POSTGRES_CLIENT_LABEL };
        return new k8s.batch.v1.Job(
            `${name}-roles`,
            {
                metadata: { name: `postgres-roles-${createHash("sha256").update(script).digest("hex").slice(0, 10)}`, namespace, labels },
                spec: {
                    backoffLimit: 20,
                    ttlSecondsAfterFinished: 86_400,
                    template: {
                        metadata: { labels },
                        // Its service account's identity (EKS Pod Identity) reads the master secret.
                        spec: hardenedPodSpec({
                            serviceAccountName: serviceAccount,
                            priorityClassName: PLATFORM_CRITICAL,
                            restartPolicy: "OnFailure",
                            runAs: { user: 26, group: 26, fsGroup: 26 },
                            initContainers: [
                                {
                                    name: "master-secret",
                                    image: args.images["aws-cli"],
                                    command: [
                                        "/bin/sh",
                                        "-c",
                                        'aws secretsmanager get-secret-value --secret-id "$SECRET_ARN" --query SecretString --output text > /work/master.json',
                                    ],
                                    env: [
                                        { name: "SECRET_ARN", value: masterSecretArn },
                                        { name: "HOME", value: "/work" },
                                    ],
                                    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                                    securityContext: hardenedContainer(),
                                    volumeMounts: [{ name: "work", mountPath: "/work" }],
                                },
                            ],
                            containers: [
                                {
                                    name: "roles",
                                    image: args.images.postgresql,
                                    command: ["/bin/sh", "-c", script],
                                    env: [
                                        { name: "PGHOST", value: this.cluster.endpoint },
                                        // The master user's password goes only to a server whose certificate the RDS CA signed for that name.
                                        { name: "PGSSLMODE", value: VERIFY_AURORA.sslmode },
                                        { name: "PGSSLROOTCERT", value: VERIFY_AURORA.sslrootcert },
                                        ...roleSecretEnv(roles, "verifier"),
                                        ...roleSecretEnv(roles, "password"),
                                    ],
                                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                                    securityContext: hardenedContainer(),
                                    volumeMounts: [
                                        { name: "work", mountPath: "/work", readOnly: true },
                                        { name: "client-files", mountPath: CLIENT_FILES_DIR, readOnly: true },
                                    ],
                                },
                            ],
                            // The master credentials live in memory for the Job's life, never on a disk.
                            volumes: [
                                { name: "work", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
                                { name: "client-files", configMap: { name: clientFiles.metadata.name } },
                            ],
                        }),
                    },
                },
            },
            {
                parent: this,
                dependsOn: [account, identity, clientFiles, ...instances, ...Object.values(args.roleSecrets)],
                deleteBeforeReplace: true,
            },
        );
    }

    /**
     * AWS Backup: daily backups with continuous point-in-time recovery in this region, each copied to
     * a vault in the second region (its own key), under a role that may back up and restore only.
     */
    private backups(name: string, args: AuroraDatabaseArgs, identifier: string, key: aws.kms.Key): void {
        const a = args.config.aurora;
        if (!a.backupCopyRegion) return;
        const parent = { parent: this };
        const kept = { parent: this, protect: args.production, retainOnDelete: args.production };
        const vault = new aws.backup.Vault(`${name}-vault`, { name: `${identifier}-backups`, kmsKeyArn: key.arn }, kept);
        const copyKey = new aws.kms.Key(
            `${name}-copy-key`,
            {
                region: a.backupCopyRegion,
                description: "FinBot PostgreSQL backup copies",
                enableKeyRotation: true,
                deletionWindowInDays: 30,
            },
            kept,
        );
        const copyVault = new aws.backup.Vault(
            `${name}-copy-vault`,
            { region: a.backupCopyRegion, name: `${identifier}-backup-copies`, kmsKeyArn: copyKey.arn },
            kept,
        );
        // Governance-mode locks (no changeableForDays: compliance mode could never be lifted): no
        // recovery point is deleted before a week, nor kept past its lifecycle, by anyone without
        // backup:DeleteBackupVaultLockConfiguration (docs/runbooks/postgresql-restore.md says how to lift it).
        const lock = (suffix: string, vaultName: pulumi.Input<string>, keepDays: number, region?: string) =>
            new aws.backup.VaultLockConfiguration(
                `${name}-${suffix}-lock`,
                {
                    ...(region ? { region } : {}),
                    backupVaultName: vaultName,
                    minRetentionDays: Math.min(VAULT_LOCK_MIN_DAYS, keepDays),
                    maxRetentionDays: keepDays,
                },
                kept,
            );
        const localKeepDays = Math.min(a.backupRetentionDays, 35);
        lock("vault", vault.name, localKeepDays);
        lock("copy-vault", copyVault.name, a.backupCopyRetentionDays, a.backupCopyRegion);
        const plan = new aws.backup.Plan(
            `${name}-backup-plan`,
            {
                name: `${identifier}-daily`,
                rules: [
                    {
                        ruleName: "daily-with-point-in-time-recovery",
                        targetVaultName: vault.name,
                        schedule: "cron(0 3 * * ? *)",
                        enableContinuousBackup: true,
                        lifecycle: { deleteAfter: localKeepDays },
                        copyActions: [{ destinationVaultArn: copyVault.arn, lifecycle: { deleteAfter: a.backupCopyRetentionDays } }],
                    },
                ],
            },
            parent,
        );
        const role = new aws.iam.Role(`${name}-backup`, { assumeRolePolicy: serviceTrust("backup.amazonaws.com") }, parent);
        for (const [suffix, policy] of [
            ["backup", "AWSBackupServiceRolePolicyForBackup"],
            ["restore", "AWSBackupServiceRolePolicyForRestores"],
        ]) {
            new aws.iam.RolePolicyAttachment(
                `${name}-backup-${suffix}`,
                { role: role.name, policyArn: `arn:aws:iam::aws:policy/service-role/${policy}` },
                parent,
            );
        }
        new aws.backup.Selection(
            `${name}-backup-selection`,
            { name: `${identifier}-cluster`, planId: plan.id, iamRoleArn: role.arn, resources: [this.cluster.arn] },
            parent,
        );
    }

    /** postgres_exporter on the writer and on the reader endpoint, as the pg_monitor role. */
    private exporters(name: string, args: AuroraDatabaseArgs, clientFiles: k8s.core.v1.ConfigMap): void {
        const { namespace, monitoringCrds } = args;
        if (!monitoringCrds) return;
        const endpoints: Array<[string, pulumi.Output<string>]> = [
            ["writer", this.cluster.endpoint],
            ["readers", this.cluster.readerEndpoint],
        ];
        this.footprint.requests.push({ part: "postgres_exporter", pods: endpoints.length, ...EXPORTER_RESOURCES.requests });
        for (const [target, host] of endpoints) {
            const exporterName = `postgres-exporter-${target}`;
            const labels = {
                "app.kubernetes.io/name": "postgres-exporter",
                "app.kubernetes.io/instance": exporterName,
                "app.kubernetes.io/part-of": "finbot",
            };
            exporterDeployment(
                `${name}-${exporterName}`,
                {
                    name: exporterName,
                    namespace,
                    labels,
                    podLabels: POSTGRES_CLIENT_LABEL,
                    runAsUser: 65534,
                    container: {
                        name: "postgres-exporter",
                        image: args.images["postgres-exporter"],
                        // The replication and wal collectors call pg_last_xact_replay_timestamp() and
                        // pg_ls_waldir(), which Aurora rejects: they fail on every scrape there.
                        args: [
                            "--collector.stat_statements",
                            "--no-collector.replication",
                            "--no-collector.wal",
                            // Aurora's lag, from the function Aurora has: the writer lists every reader's lag.
                            ...(target === "writer" ? [`--extend.query-path=${CLIENT_FILES_DIR}/queries.yaml`] : []),
                        ],
                        files: { configMap: clientFiles.metadata.name, mountPath: CLIENT_FILES_DIR },
                        port: POSTGRES_METRICS,
                        healthPath: "/",
                        env: [
                            {
                                name: "DATA_SOURCE_URI",
                                value: pulumi.interpolate`${host}:${POSTGRES}/postgres?sslmode=${VERIFY_AURORA.sslmode}&sslrootcert=${VERIFY_AURORA.sslrootcert}`,
                            },
                            { name: "DATA_SOURCE_USER", value: MONITOR_ROLE },
                            {
                                name: "DATA_SOURCE_PASS",
                                valueFrom: { secretKeyRef: { name: roleSecretName(MONITOR_ROLE), key: "password" } },
                            },
                        ],
                    },
                },
                { parent: this, dependsOn: [args.roleSecrets[MONITOR_ROLE]] },
            );
            podMonitor(
                `${name}-${exporterName}`,
                {
                    name: exporterName,
                    namespace,
                    selector: { matchLabels: labels },
                    endpoints: [{ port: "metrics", relabelings: [{ targetLabel: "aurora_endpoint", replacement: target }] }],
                    limits: SCRAPE_LIMITS.postgres,
                },
                { parent: this, dependsOn: [monitoringCrds] },
            );
        }
    }
}
