import * as aws from "@pulumi/aws";
import { containerResources } from "../config/primitives";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import YAML from "yaml";
import { DatabaseConfig } from "../config/data";
import { PlatformConfig } from "../config/schema";
import { podMonitor } from "../lib/cluster";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { helmRelease } from "../lib/helm";
import { postgresUrl } from "./connections";
import { exporterDeployment } from "./exporter";
import { fromClusterNodes } from "./network";
import { CNPG_OPERATOR_RESOURCES, EXPORTER_RESOURCES, POOLER_RESOURCES } from "./sizes";

export interface DatabaseArgs {
    /** The validated `finbot:database`. */
    config: DatabaseConfig;
    /** Production: Multi-AZ, zone-spread instances, deletion protection. */
    production: boolean;
    /** Namespace of the in-cluster parts (operator, cluster, poolers, exporters). */
    namespace: string;
    /** Exact version of the cloudnative-pg chart (in-cluster mode). */
    chartVersion: string;
    /** Images from `finbot:releases.images` (postgresql, postgres-exporter). */
    images: Record<string, string>;
    /**
     * StorageClass of the instances' volumes (in-cluster).
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * AWS network (rds mode).
     * @default none
     */
    network?: PlatformConfig["network"];
    /**
     * When set, PodMonitors are created after this resource (it installs the monitoring CRDs).
     * @default no PodMonitors
     */
    monitoringCrds?: pulumi.Resource;
}

/** The URLs FinBot's services use; secrets. */
export interface DatabaseConnection {
    writerUrl: pulumi.Output<string>;
    readerUrl: pulumi.Output<string>;
    pooledUrl: pulumi.Output<string>;
}

/** Custom CloudNativePG metrics: the statements that take the most time (pg_stat_statements). */
export function statStatementsQueries(topN = 20): Record<string, unknown> {
    return {
        pg_stat_statements: {
            query:
                "SELECT d.datname, s.queryid::text AS queryid, s.calls, s.total_exec_time / 1000 AS total_exec_seconds, s.rows " +
                "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid " +
                `ORDER BY s.total_exec_time DESC LIMIT ${topN}`,
            target_databases: ["postgres"],
            metrics: [
                { datname: { usage: "LABEL", description: "Database" } },
                { queryid: { usage: "LABEL", description: "pg_stat_statements query id" } },
                { calls: { usage: "COUNTER", description: "Times executed" } },
                { total_exec_seconds: { usage: "COUNTER", description: "Time spent executing" } },
                { rows: { usage: "COUNTER", description: "Rows returned or affected" } },
            ],
        },
    };
}

/** An IAM trust policy letting an AWS service assume the role. */
const assumedBy = (service: string) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

/** PostgreSQL server parameters both modes set: query telemetry and the slow-query log. */
export function postgresParameters(config: DatabaseConfig): Record<string, string> {
    return {
        "pg_stat_statements.track": "all",
        "pg_stat_statements.max": "10000",
        log_min_duration_statement: String(config.slowQueryMs),
    };
}

/**
 * PostgreSQL for FinBot: a primary with read replicas and connection pooling, either in the
 * cluster (CloudNativePG + PgBouncer Poolers) or on AWS (RDS Multi-AZ + read replicas + RDS Proxy).
 */
export class Database extends pulumi.ComponentResource {
    public readonly connection: DatabaseConnection;
    /** What it runs in the cluster and on AWS. */
    public readonly footprint: Footprint = emptyFootprint();

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:Database", name, {}, opts);
        this.connection = args.config.mode === "rds" ? this.rds(name, args) : this.inCluster(name, args);
        this.registerOutputs({ connection: this.connection });
    }

    private inCluster(name: string, args: DatabaseArgs): DatabaseConnection {
        const { config, namespace } = args;
        const clusterName = `${config.name}-db`;
        this.footprint.requests.push(
            { part: "CloudNativePG operator", pods: 1, ...CNPG_OPERATOR_RESOURCES.requests },
            { part: "PostgreSQL instances", pods: 1 + config.readReplicas, ...config.resources.requests },
            { part: "PgBouncer poolers (rw + ro)", pods: 2 * config.pooler.instances, ...POOLER_RESOURCES.requests },
        );
        const operator = helmRelease(
            `${name}-operator`,
            {
                chart: "cloudnative-pg",
                version: args.chartVersion,
                releaseName: "cloudnative-pg",
                namespace,
                values: { resources: CNPG_OPERATOR_RESOURCES },
            },
            { parent: this },
        );
        const password = new random.RandomPassword(`${name}-app-password`, { length: 32, special: false }, { parent: this });
        const credentials = new k8s.core.v1.Secret(
            `${name}-app-credentials`,
            {
                metadata: { name: `${clusterName}-app-credentials`, namespace },
                type: "kubernetes.io/basic-auth",
                stringData: { username: config.name, password: password.result },
            },
            { parent: this },
        );
        const queries = new k8s.core.v1.ConfigMap(
            `${name}-monitoring-queries`,
            {
                metadata: { name: `${clusterName}-monitoring-queries`, namespace, labels: { "cnpg.io/reload": "" } },
                data: { queries: YAML.stringify(statStatementsQueries()) },
            },
            { parent: this },
        );
        const cluster = new k8s.apiextensions.CustomResource(
            `${name}-cluster`,
            {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "Cluster",
                metadata: { name: clusterName, namespace },
                spec: {
                    instances: 1 + config.readReplicas,
                    imageName: args.images.postgresql,
                    primaryUpdateStrategy: "unsupervised",
                    enableSuperuserAccess: false,
                    storage: { size: config.storage, ...(args.storageClass ? { storageClass: args.storageClass } : {}) },
                    resources: containerResources(config.resources),
                    postgresql: { parameters: postgresParameters(config) },
                    bootstrap: {
                        initdb: { database: config.name, owner: config.name, secret: { name: `${clusterName}-app-credentials` } },
                    },
                    monitoring: { customQueriesConfigMap: [{ name: `${clusterName}-monitoring-queries`, key: "queries" }] },
                    // Instances on different nodes; in production on different zones too.
                    affinity: {
                        enablePodAntiAffinity: true,
                        topologyKey: args.production ? "topology.kubernetes.io/zone" : "kubernetes.io/hostname",
                        podAntiAffinityType: args.production ? "required" : "preferred",
                    },
                },
            },
            { parent: this, dependsOn: [operator, credentials, queries] },
        );
        for (const type of ["rw", "ro"] as const) {
            new k8s.apiextensions.CustomResource(
                `${name}-pooler-${type}`,
                {
                    apiVersion: "postgresql.cnpg.io/v1",
                    kind: "Pooler",
                    metadata: { name: `${clusterName}-pooler-${type}`, namespace },
                    spec: {
                        cluster: { name: clusterName },
                        instances: config.pooler.instances,
                        type,
                        template: { spec: { containers: [{ name: "pgbouncer", resources: POOLER_RESOURCES }] } },
                        pgbouncer: {
                            poolMode: "transaction",
                            parameters: {
                                max_client_conn: String(config.pooler.maxClientConnections),
                                default_pool_size: String(config.pooler.defaultPoolSize),
                            },
                        },
                    },
                },
                { parent: this, dependsOn: [cluster] },
            );
        }
        if (args.monitoringCrds) {
            const afterCrds = { parent: this, dependsOn: [args.monitoringCrds] };
            podMonitor(
                `${name}-pod-monitor`,
                { name: clusterName, namespace, selector: { matchLabels: { "cnpg.io/cluster": clusterName } } },
                afterCrds,
            );
            podMonitor(
                `${name}-pooler-pod-monitor`,
                {
                    name: `${clusterName}-poolers`,
                    namespace,
                    selector: {
                        matchExpressions: [
                            { key: "cnpg.io/poolerName", operator: "In", values: ["rw", "ro"].map((t) => `${clusterName}-pooler-${t}`) },
                        ],
                    },
                },
                afterCrds,
            );
        }
        const url = (host: string) =>
            pulumi.secret(
                password.result.apply((pw) => postgresUrl({ user: config.name, password: pw, host, port: 5432, database: config.name })),
            );
        const svc = (service: string) => `${service}.${namespace}.svc.cluster.local`;
        return {
            writerUrl: url(svc(`${clusterName}-rw`)),
            readerUrl: url(svc(`${clusterName}-ro`)),
            pooledUrl: url(svc(`${clusterName}-pooler-rw`)),
        };
    }

    private rds(name: string, args: DatabaseArgs): DatabaseConnection {
        const { config, production } = args;
        const network = args.network;
        if (!network) throw new Error("Database: rds mode needs finbot:network (the config check requires it)");
        const rds = config.rds;
        const parent = { parent: this };
        // Stateful production resources cannot be deleted by a mistaken `pulumi up`.
        const stateful = { parent: this, protect: production };
        const identifier = `finbot-${config.name}`;
        const adminUser = `${config.name}_admin`;

        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId: network.vpcId,
                description: "FinBot PostgreSQL: only the cluster's nodes and RDS Proxy",
                ingress: [fromClusterNodes(network, 5432)],
                egress: [],
                tags: { Name: `${identifier}-postgres` },
            },
            parent,
        );
        // RDS Proxy sits between the nodes and the database: in from the nodes, out to the database only.
        const proxySecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-proxy-sg`,
            {
                vpcId: network.vpcId,
                description: "FinBot RDS Proxy: from the cluster's nodes to PostgreSQL",
                ingress: [fromClusterNodes(network, 5432)],
                egress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [securityGroup.id], description: "PostgreSQL" }],
                tags: { Name: `${identifier}-rds-proxy` },
            },
            parent,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-from-proxy`,
            {
                securityGroupId: securityGroup.id,
                referencedSecurityGroupId: proxySecurityGroup.id,
                ipProtocol: "tcp",
                fromPort: 5432,
                toPort: 5432,
                description: "RDS Proxy",
            },
            parent,
        );
        const subnetGroup = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            { subnetIds: network.privateSubnetIds, description: "FinBot PostgreSQL" },
            parent,
        );
        const parameterGroup = new aws.rds.ParameterGroup(
            `${name}-params`,
            {
                family: `postgres${rds.engineVersion.split(".")[0]}`,
                description: "FinBot: pg_stat_statements, slow-query log, TLS only",
                parameters: [
                    { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
                    ...Object.entries(postgresParameters(config)).map(([key, value]) => ({
                        name: key,
                        value,
                        applyMethod: key === "pg_stat_statements.max" ? "pending-reboot" : "immediate",
                    })),
                    { name: "rds.force_ssl", value: "1" },
                ],
            },
            parent,
        );
        const monitoringRole = new aws.iam.Role(
            `${name}-enhanced-monitoring`,
            { assumeRolePolicy: assumedBy("monitoring.rds.amazonaws.com") },
            parent,
        );
        new aws.iam.RolePolicyAttachment(
            `${name}-enhanced-monitoring`,
            { role: monitoringRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" },
            parent,
        );
        const password = new random.RandomPassword(`${name}-admin-password`, { length: 40, special: false }, parent);
        const common = {
            instanceClass: rds.instanceClass,
            storageEncrypted: true,
            vpcSecurityGroupIds: [securityGroup.id],
            parameterGroupName: parameterGroup.name,
            publiclyAccessible: false,
            performanceInsightsEnabled: true,
            performanceInsightsRetentionPeriod: rds.performanceInsightsRetentionDays,
            monitoringInterval: rds.monitoringIntervalSeconds,
            monitoringRoleArn: monitoringRole.arn,
            autoMinorVersionUpgrade: true,
            copyTagsToSnapshot: true,
            deletionProtection: production,
            enabledCloudwatchLogsExports: ["postgresql"],
        };
        const primary = new aws.rds.Instance(
            `${name}-primary`,
            {
                ...common,
                identifier: `${identifier}-primary`,
                engine: "postgres",
                engineVersion: rds.engineVersion,
                dbName: config.name,
                username: adminUser,
                password: password.result,
                multiAz: true,
                allocatedStorage: rds.allocatedStorageGb,
                maxAllocatedStorage: rds.maxAllocatedStorageGb,
                storageType: "gp3",
                dbSubnetGroupName: subnetGroup.name,
                backupRetentionPeriod: rds.backupRetentionDays,
                backupWindow: "02:00-03:00",
                maintenanceWindow: "sun:03:30-sun:04:30",
                iamDatabaseAuthenticationEnabled: rds.iamAuthentication,
                skipFinalSnapshot: !production,
                finalSnapshotIdentifier: production ? `${identifier}-primary-final` : undefined,
            },
            stateful,
        );
        this.footprint.managed.push(
            { kind: "rds-instance", role: "primary", instanceClass: rds.instanceClass, count: 1, multiAz: true },
            ...(config.readReplicas > 0
                ? [
                      {
                          kind: "rds-instance" as const,
                          role: "read replicas",
                          instanceClass: rds.instanceClass,
                          count: config.readReplicas,
                          multiAz: false,
                      },
                  ]
                : []),
            // Multi-AZ keeps a second copy of the primary's volume.
            { kind: "rds-storage", gb: rds.allocatedStorageGb, copies: 2 + config.readReplicas },
            { kind: "rds-proxy", instanceClass: rds.instanceClass },
        );
        const zones = network.availabilityZones;
        const replicas = Array.from(
            { length: config.readReplicas },
            (_, i) =>
                new aws.rds.Instance(
                    `${name}-replica-${i + 1}`,
                    {
                        ...common,
                        identifier: `${identifier}-replica-${i + 1}`,
                        replicateSourceDb: primary.identifier,
                        // Spread replicas over the zones, starting next to the primary's.
                        availabilityZone: zones[(i + 1) % zones.length],
                        skipFinalSnapshot: true,
                    },
                    stateful,
                ),
        );

        // RDS Proxy pools connections; it reads the credentials from Secrets Manager.
        const credentials = new aws.secretsmanager.Secret(
            `${name}-proxy-credentials`,
            { name: `${identifier}/rds-proxy`, description: "FinBot PostgreSQL credentials for RDS Proxy", recoveryWindowInDays: 7 },
            parent,
        );
        new aws.secretsmanager.SecretVersion(
            `${name}-proxy-credentials`,
            {
                secretId: credentials.id,
                secretString: pulumi.secret(pulumi.jsonStringify({ username: adminUser, password: password.result })),
            },
            parent,
        );
        const proxyRole = new aws.iam.Role(`${name}-proxy`, { assumeRolePolicy: assumedBy("rds.amazonaws.com") }, parent);
        new aws.iam.RolePolicy(
            `${name}-proxy-secret`,
            {
                role: proxyRole.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [credentials.arn] }],
                }),
            },
            parent,
        );
        const proxy = new aws.rds.Proxy(
            `${name}-proxy`,
            {
                name: `${identifier}-proxy`,
                engineFamily: "POSTGRESQL",
                roleArn: proxyRole.arn,
                vpcSubnetIds: network.privateSubnetIds,
                vpcSecurityGroupIds: [proxySecurityGroup.id],
                requireTls: true,
                idleClientTimeout: 1800,
                auths: [{ authScheme: "SECRETS", secretArn: credentials.arn, iamAuth: "DISABLED" }],
            },
            parent,
        );
        const targetGroup = new aws.rds.ProxyDefaultTargetGroup(
            `${name}-proxy-targets`,
            {
                dbProxyName: proxy.name,
                connectionPoolConfig: { maxConnectionsPercent: 90, maxIdleConnectionsPercent: 50, connectionBorrowTimeout: 120 },
            },
            parent,
        );
        new aws.rds.ProxyTarget(
            `${name}-proxy-target`,
            { dbProxyName: proxy.name, targetGroupName: targetGroup.name, dbInstanceIdentifier: primary.identifier },
            parent,
        );

        const adminCredentials = new k8s.core.v1.Secret(
            `${name}-admin-credentials`,
            {
                metadata: { name: "postgres-admin-credentials", namespace: args.namespace },
                type: "Opaque",
                stringData: { username: adminUser, password: password.result },
            },
            parent,
        );
        this.enableStatStatements(name, args, primary, adminCredentials);
        this.exporters(name, args, [primary, ...replicas], adminCredentials);
        const url = (host: pulumi.Output<string>) =>
            pulumi.secret(
                pulumi
                    .all([host, password.result])
                    .apply(([h, pw]) => postgresUrl({ user: adminUser, password: pw, host: h, port: 5432, database: config.name })),
            );
        return {
            writerUrl: url(primary.address),
            readerUrl: url(replicas.length > 0 ? replicas[0].address : primary.address),
            pooledUrl: url(proxy.endpoint),
        };
    }

    /**
     * RDS loads pg_stat_statements (parameter group) but the extension still has to be created in
     * the database the exporters read: an idempotent Job does it, re-run when the primary changes.
     */
    private enableStatStatements(name: string, args: DatabaseArgs, primary: aws.rds.Instance, credentials: k8s.core.v1.Secret): void {
        const fromSecret = (key: string) => ({ secretKeyRef: { name: "postgres-admin-credentials", key } });
        new k8s.batch.v1.Job(
            `${name}-pg-stat-statements`,
            {
                metadata: { name: "postgres-enable-pg-stat-statements", namespace: args.namespace },
                spec: {
                    backoffLimit: 20,
                    template: {
                        spec: {
                            restartPolicy: "OnFailure",
                            automountServiceAccountToken: false,
                            securityContext: { runAsNonRoot: true, runAsUser: 26, seccompProfile: { type: "RuntimeDefault" } },
                            containers: [
                                {
                                    name: "psql",
                                    image: args.images.postgresql,
                                    command: ["psql", "-v", "ON_ERROR_STOP=1", "-c", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"],
                                    env: [
                                        { name: "PGHOST", value: primary.address },
                                        { name: "PGDATABASE", value: "postgres" },
                                        { name: "PGSSLMODE", value: "require" },
                                        { name: "PGUSER", valueFrom: fromSecret("username") },
                                        { name: "PGPASSWORD", valueFrom: fromSecret("password") },
                                    ],
                                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [credentials, primary], replaceOnChanges: ["spec"], deleteBeforeReplace: true },
        );
    }

    /** postgres_exporter per RDS instance (with pg_stat_statements), scraped by Prometheus. */
    private exporters(name: string, args: DatabaseArgs, instances: aws.rds.Instance[], secret: k8s.core.v1.Secret): void {
        const { namespace, monitoringCrds } = args;
        if (!monitoringCrds) return;
        this.footprint.requests.push({ part: "postgres_exporter", pods: instances.length, ...EXPORTER_RESOURCES.requests });
        instances.forEach((instance, i) => {
            const exporterName = i === 0 ? "postgres-exporter-primary" : `postgres-exporter-replica-${i}`;
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
                    runAsUser: 65534,
                    container: {
                        name: "postgres-exporter",
                        image: args.images["postgres-exporter"],
                        args: ["--collector.stat_statements"],
                        port: 9187,
                        healthPath: "/",
                        env: [
                            { name: "DATA_SOURCE_URI", value: pulumi.interpolate`${instance.address}:5432/postgres?sslmode=require` },
                            {
                                name: "DATA_SOURCE_USER",
                                valueFrom: { secretKeyRef: { name: "postgres-admin-credentials", key: "username" } },
                            },
                            {
                                name: "DATA_SOURCE_PASS",
                                valueFrom: { secretKeyRef: { name: "postgres-admin-credentials", key: "password" } },
                            },
                        ],
                    },
                },
                { parent: this, dependsOn: [secret] },
            );
            podMonitor(
                `${name}-${exporterName}`,
                {
                    name: exporterName,
                    namespace,
                    selector: { matchLabels: labels },
                    endpoints: [
                        {
                            port: "metrics",
                            relabelings: [{ targetLabel: "rds_instance", replacement: i === 0 ? "primary" : `replica-${i}` }],
                        },
                    ],
                },
                { parent: this, dependsOn: [monitoringCrds] },
            );
        });
    }
}
