import { containerResources } from "../config/primitives";
import { POSTGRES } from "./ports";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import YAML from "yaml";
import { DatabaseConfig } from "../config/data";
import { CertificateIssuer, INTERNAL_CA_FILE, serverCertificate, serviceDnsNames } from "../lib/certificates";
import { clusterServiceHost, serviceHost } from "../lib/services";
import { podMonitor } from "../lib/monitors";
import { Footprint, emptyFootprint } from "../lib/footprint";
import { helmRelease } from "../lib/helm";
import { ManifestFetcher } from "../lib/manifest";
import { AuroraDatabase, AwsPlacement } from "./aurora";
import { postgresParameters } from "./parameters";

export { postgresParameters };
import { Connections, postgresUrl } from "./connections";
import {
    DatabaseConsumer,
    MONITOR_ROLE,
    OwnDatabase,
    consumerRoles,
    ownDatabaseRole,
    ownerRole,
    readerRole,
    roleSecretName,
    scramVerifier,
} from "./postgresRoles";
import { roleGrantsJob } from "./roleJobs";
import { BACKUP_RETENTION, BARMAN_CLOUD_PLUGIN, BASE_BACKUP_SCHEDULE, archiveSettings } from "./backupSettings";
import { BACKUP_STORE_REQUESTS, BACKUP_STORE_SECRET, BackupStore } from "./backupStore";
import { BARMAN_PLUGIN_RESOURCES, BARMAN_SIDECAR_RESOURCES, CNPG_OPERATOR_RESOURCES, POOLER_RESOURCES } from "./sizes";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { SCRAPE_LIMITS } from "../lib/scrapeLimits";

export interface DatabaseArgs {
    /** The validated `finbot:database`. */
    config: DatabaseConfig;
    /** Production: zone-spread instances, deletion protection. */
    production: boolean;
    /** Namespace of the in-cluster parts (operator, cluster, poolers, exporters, Jobs). */
    namespace: string;
    /** Namespace of FinBot's services (aurora mode: their pods get the client security group). */
    clientNamespace: string;
    /** Exact version of the cloudnative-pg chart (in-cluster mode). */
    chartVersion: string;
    /** Exact version of the plugin-barman-cloud chart: WAL archiving and base backups (in-cluster mode). */
    backupPluginChartVersion: string;
    /** Images from `finbot:releases.images` (postgresql, postgres-exporter, aws-cli). */
    images: Record<string, string>;
    /** The services and workers that use the database, and how. */
    consumers: DatabaseConsumer[];
    /**
     * Platform parts with a database of their own (Grafana's state), each owned by its own role
     * (aurora mode).
     * @default none
     */
    ownDatabases?: OwnDatabase[];
    /** Issues the server certificate clients verify (in-cluster mode). */
    issuer: CertificateIssuer;
    /** Downloads the RDS CA bundle the platform's own Aurora clients verify with (aurora mode). */
    fetchManifest: ManifestFetcher;
    /**
     * StorageClass of the instances' volumes (in-cluster).
     * @default the cluster's default class
     */
    storageClass?: string;
    /**
     * AWS network and EKS cluster (aurora mode).
     * @default none
     */
    aws?: AwsPlacement;
    /**
     * When set, PodMonitors are created after this resource (it installs the monitoring CRDs).
     * @default no PodMonitors
     */
    monitoringCrds?: pulumi.Resource;
}

/** Bucket of the WAL archive and base backups. */
const BACKUP_BUCKET = "finbot-postgresql";

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

/** The endpoints a consumer's URLs point at, and how clients verify them. */
export interface DatabaseEndpoints {
    writer: pulumi.Input<string>;
    reader: pulumi.Input<string>;
    pooled: pulumi.Input<string>;
    /** CA file (or `system`) for sslmode=verify-full. */
    rootCert: string;
}

/** Each consumer's URLs, only those its access allows, each with its own role (secrets). */
export function consumerUrls(
    database: string,
    consumers: DatabaseConsumer[],
    endpoints: DatabaseEndpoints,
    passwords: Record<string, pulumi.Output<string>>,
): Record<string, Connections> {
    const url = (role: string, host: pulumi.Input<string>) =>
        pulumi.secret(
            pulumi
                .all([host, passwords[role]])
                .apply(([h, pw]) =>
                    postgresUrl({ user: role, password: pw, host: h, port: POSTGRES, database, rootCert: endpoints.rootCert }),
                ),
        );
    return Object.fromEntries(
        consumers.map((c) => [
            c.name,
            c.access === "readWrite"
                ? {
                      DATABASE_WRITER_URL: url(ownerRole(c.name), endpoints.writer),
                      DATABASE_READER_URL: url(readerRole(c.name), endpoints.reader),
                      DATABASE_POOLED_URL: url(ownerRole(c.name), endpoints.pooled),
                  }
                : { DATABASE_READER_URL: url(readerRole(c.name), endpoints.reader) },
        ]),
    );
}

/**
 * The login roles CloudNativePG manages: each consumer's (readers of read-only consumers may read
 * every table), and the exporters', passwords from their Secrets.
 */
function cnpgManagedRoles(consumers: DatabaseArgs["consumers"]) {
    return [
        ...consumerRoles(consumers).map((r) => ({
            name: r.role,
            ensure: "present",
            login: true,
            inherit: true,
            connectionLimit: -1,
            passwordSecret: { name: roleSecretName(r.role) },
            ...(r.kind === "reader" && consumers.find((c) => c.name === r.consumer)?.access === "read"
                ? { inRoles: ["pg_read_all_data"] }
                : {}),
        })),
        {
            name: MONITOR_ROLE,
            ensure: "present",
            login: true,
            inRoles: ["pg_monitor"],
            passwordSecret: { name: roleSecretName(MONITOR_ROLE) },
        },
    ];
}

/**
 * The Barman Cloud plugin's ObjectStore: where WAL and base backups go, and how long they are kept
 * (plugin-barman-cloud v0.13.0 config/crd/bases/barmancloud.cnpg.io_objectstores.yaml; its
 * `configuration.serverName` stays empty, the docs say: the Cluster's name is the path).
 */
function objectStoreSpec(endpoint: string): Record<string, unknown> {
    return {
        retentionPolicy: BACKUP_RETENTION,
        configuration: {
            destinationPath: `s3://${BACKUP_BUCKET}/`,
            endpointURL: endpoint,
            s3Credentials: {
                accessKeyId: { name: BACKUP_STORE_SECRET, key: "ACCESS_KEY_ID" },
                secretAccessKey: { name: BACKUP_STORE_SECRET, key: "ACCESS_SECRET_KEY" },
            },
            wal: { compression: "gzip", maxParallel: 2 },
            data: { compression: "gzip", jobs: 2 },
        },
        instanceSidecarConfiguration: { resources: BARMAN_SIDECAR_RESOURCES },
    };
}

/** How a platform part reaches its own database (the password a secret). */
export interface OwnDatabaseConnection {
    host: pulumi.Input<string>;
    port: number;
    database: string;
    user: string;
    password: pulumi.Output<string>;
    /** CA file (or `system`) for sslmode=verify-full. */
    rootCert: string;
}

/**
 * PostgreSQL for FinBot: a primary with read replicas and connection pooling, in the cluster
 * (CloudNativePG + PgBouncer Poolers) or on AWS (Aurora: Multi-AZ writer, auto-scaled readers, RDS
 * Proxy). Every service and worker that uses it gets its own login role owning only its schema, a
 * reader role, and URLs verified against the server's CA; the exporters log in as a pg_monitor role.
 */
export class Database extends pulumi.ComponentResource {
    /** Each consumer's database URLs (secrets). */
    public readonly connections: Record<string, Connections>;
    /** Each platform part's own database, by name. */
    public readonly ownDatabases: Record<string, OwnDatabaseConnection> = {};
    /** What creates the own databases and their roles: their users wait for these. */
    public readonly ownDatabasesReady: pulumi.Resource[] = [];
    /** What it runs in the cluster and on AWS. */
    public readonly footprint: Footprint = emptyFootprint();

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:Database", name, {}, opts);
        const { config } = args;
        const ownDatabases = args.ownDatabases ?? [];
        // One generated password per role, kept in a Secret of the data namespace that only the
        // operator and the role Jobs read; each consumer sees its own in its URLs.
        const roles = [
            ...consumerRoles(args.consumers).map((r) => r.role),
            MONITOR_ROLE,
            ...ownDatabases.map((d) => ownDatabaseRole(d.name)),
        ];
        const passwords: Record<string, pulumi.Output<string>> = {};
        const secrets: Record<string, k8s.core.v1.Secret> = {};
        for (const role of roles) {
            passwords[role] = new random.RandomPassword(`${name}-role-${role}`, { length: 32, special: false }, { parent: this }).result;
            secrets[role] = new k8s.core.v1.Secret(
                `${name}-role-${role}`,
                {
                    metadata: { name: roleSecretName(role), namespace: args.namespace, labels: { "cnpg.io/reload": "true" } },
                    type: "kubernetes.io/basic-auth",
                    // The verifier is what the administrator sets (adminSql): the password never reaches the server.
                    stringData: {
                        username: role,
                        password: passwords[role],
                        verifier: passwords[role].apply((pw) => scramVerifier(pw, role)),
                    },
                },
                { parent: this },
            );
        }
        let endpoints: DatabaseEndpoints;
        if (config.mode === "aurora") {
            if (!args.aws)
                throw new Error("Database: aurora mode needs finbot:network and finbot:cluster (the config check requires them)");
            const aurora = new AuroraDatabase(
                `${name}-aurora`,
                { ...args, ownDatabases, aws: args.aws, rolePasswords: passwords, roleSecrets: secrets },
                { parent: this },
            );
            endpoints = aurora.endpoints;
            this.ownDatabasesReady.push(aurora.rolesJob);
            this.footprint.requests.push(...aurora.footprint.requests);
            this.footprint.managed.push(...aurora.footprint.managed);
        } else {
            // Grafana is the one part with a database of its own; it waits for it, and the
            // in-cluster server's certificate waits for cert-manager, which waits for the
            // monitoring release Grafana is part of (the config check requires Aurora).
            if (ownDatabases.length > 0)
                throw new Error("Database: databases of their own need aurora mode (the config check requires it)");
            endpoints = this.inCluster(name, args, Object.values(secrets));
        }
        this.connections = consumerUrls(config.name, args.consumers, endpoints, passwords);
        for (const { name: database } of ownDatabases) {
            const user = ownDatabaseRole(database);
            this.ownDatabases[database] = {
                host: endpoints.writer,
                port: POSTGRES,
                database,
                user,
                password: passwords[user],
                rootCert: endpoints.rootCert,
            };
        }
        this.registerOutputs({});
    }

    private inCluster(name: string, args: DatabaseArgs, roleSecrets: k8s.core.v1.Secret[]): DatabaseEndpoints {
        const { config, namespace } = args;
        const clusterName = `${config.name}-db`;
        this.footprint.requests.push(
            { part: "CloudNativePG operator", pods: 1, ...CNPG_OPERATOR_RESOURCES.requests },
            { part: "PostgreSQL instances", pods: 1 + config.readReplicas, ...config.resources.requests },
            { part: "PgBouncer poolers (rw + ro)", pods: 2 * config.pooler.instances, ...POOLER_RESOURCES.requests },
            { part: "Barman Cloud plugin", pods: 1, ...BARMAN_PLUGIN_RESOURCES.requests },
            { part: "Barman Cloud sidecars (in the PostgreSQL pods)", pods: 1 + config.readReplicas, ...BARMAN_SIDECAR_RESOURCES.requests },
            { part: "RustFS (PostgreSQL backups)", pods: 1, ...BACKUP_STORE_REQUESTS },
        );
        const operator = helmRelease(
            `${name}-operator`,
            {
                chart: "cloudnative-pg",
                version: args.chartVersion,
                releaseName: "cloudnative-pg",
                namespace,
                values: { resources: CNPG_OPERATOR_RESOURCES, priorityClassName: PLATFORM_CRITICAL },
            },
            { parent: this },
        );
        const objectStore = this.backups(name, args, clusterName, operator);
        // The database's owner: the operator bootstraps with it; no service ever gets it.
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
        // The server certificate names every Service clients reach, poolers included (PgBouncer
        // presents the cluster's certificate), so verify-full holds through the pooler too.
        const services = ["rw", "ro", "r", "pooler-rw", "pooler-ro"].map((s) => `${clusterName}-${s}`);
        const tlsSecret = `${clusterName}-server-tls`;
        const certificate = serverCertificate(
            `${name}-server-certificate`,
            { namespace, secretName: tlsSecret, dnsNames: services.flatMap((s) => serviceDnsNames(s, namespace)), issuer: args.issuer },
            { parent: this },
        );
        const consumers = args.consumers;
        const cluster = new k8s.apiextensions.CustomResource(
            `${name}-cluster`,
            {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "Cluster",
                metadata: { name: clusterName, namespace },
                spec: {
                    instances: 1 + config.readReplicas,
                    imageName: args.images.postgresql,
                    priorityClassName: PLATFORM_CRITICAL,
                    primaryUpdateStrategy: "unsupervised",
                    enableSuperuserAccess: false,
                    storage: { size: config.storage, ...(args.storageClass ? { storageClass: args.storageClass } : {}) },
                    resources: containerResources(config.resources),
                    postgresql: { parameters: { ...postgresParameters(config), archive_timeout: archiveSettings().archive_timeout } },
                    // Continuous WAL archiving into the ObjectStore through the Barman Cloud plugin
                    // (CloudNativePG 1.30 deprecates its in-tree barmanObjectStore; 1.31 removes it).
                    plugins: [
                        { name: BARMAN_CLOUD_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: objectStore.metadata.name } },
                    ],
                    bootstrap: {
                        initdb: { database: config.name, owner: config.name, secret: { name: `${clusterName}-app-credentials` } },
                    },
                    certificates: { serverTLSSecret: tlsSecret, serverCASecret: tlsSecret },
                    // Every consumer's login role (and the exporters'), passwords from their Secrets.
                    managed: {
                        roles: cnpgManagedRoles(consumers),
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
            { parent: this, dependsOn: [operator, credentials, queries, certificate, objectStore, ...roleSecrets] },
        );
        const database = this.backupScheduleAndSchemas(name, args, clusterName, cluster);
        this.poolers(name, args, clusterName, cluster);
        roleGrantsJob(this, `${name}-grants`, {
            namespace,
            image: args.images.postgresql,
            host: serviceHost(`${clusterName}-rw`, namespace),
            database: config.name,
            consumers,
            caSecret: tlsSecret,
            dependsOn: [database, ...roleSecrets],
        });
        this.monitors(name, args, clusterName);
        const svc = (service: string) => clusterServiceHost(service, namespace);
        return {
            writer: svc(`${clusterName}-rw`),
            reader: svc(`${clusterName}-ro`),
            pooled: svc(`${clusterName}-pooler-rw`),
            rootCert: INTERNAL_CA_FILE,
        };
    }

    /**
     * WAL archive and daily base backups, so that any point of the last 14 days can be restored
     * (docs/runbooks/postgresql-restore.md): the object store, the Barman Cloud plugin (its chart, in
     * the operator's namespace: CloudNativePG 1.30 finds plugins only there,
     * internal/controller/plugin_predicates.go) and the ObjectStore it archives to. The chart brings
     * the ObjectStore CRD and the mTLS certificates between operator and plugin (cert-manager,
     * self-signed in this namespace). Returns the ObjectStore.
     */
    private backups(name: string, args: DatabaseArgs, clusterName: string, operator: pulumi.Resource): k8s.apiextensions.CustomResource {
        const { config, namespace } = args;
        const store = new BackupStore(
            `${name}-backups`,
            {
                namespace,
                image: args.images.rustfs,
                curlImage: args.images.curl,
                bucket: BACKUP_BUCKET,
                storage: config.storage,
                storageClass: args.storageClass,
            },
            { parent: this },
        );
        const plugin = helmRelease(
            `${name}-backup-plugin`,
            {
                chart: "plugin-barman-cloud",
                version: args.backupPluginChartVersion,
                releaseName: "plugin-barman-cloud",
                namespace,
                values: { resources: BARMAN_PLUGIN_RESOURCES, priorityClassName: PLATFORM_CRITICAL },
            },
            { parent: this, dependsOn: [operator] },
        );
        return new k8s.apiextensions.CustomResource(
            `${name}-object-store`,
            {
                apiVersion: "barmancloud.cnpg.io/v1",
                kind: "ObjectStore",
                metadata: { name: `${clusterName}-backups`, namespace },
                spec: objectStoreSpec(store.endpoint),
            },
            { parent: this, dependsOn: [plugin, store] },
        );
    }

    /** A daily base backup (the first right away), and one schema per read-write consumer. */
    private backupScheduleAndSchemas(
        name: string,
        args: DatabaseArgs,
        clusterName: string,
        cluster: pulumi.Resource,
    ): k8s.apiextensions.CustomResource {
        const { config, namespace, consumers } = args;
        new k8s.apiextensions.CustomResource(
            `${name}-daily-backup`,
            {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "ScheduledBackup",
                metadata: { name: `${clusterName}-daily`, namespace },
                spec: {
                    schedule: BASE_BACKUP_SCHEDULE,
                    cluster: { name: clusterName },
                    // `method` defaults to barmanObjectStore (the CRD of 1.30): the plugin is named.
                    method: "plugin",
                    pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
                    // The first base backup right away, so a restore is possible from the first day.
                    immediate: true,
                    backupOwnerReference: "self",
                },
            },
            // A new method archives somewhere new: recreated, so that its first base backup is taken at once.
            { parent: this, dependsOn: [cluster], replaceOnChanges: ["spec.method"], deleteBeforeReplace: true },
        );
        // One schema per read-write consumer, owned by its role.
        return new k8s.apiextensions.CustomResource(
            `${name}-schemas`,
            {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "Database",
                metadata: { name: `${clusterName}-${config.name}`, namespace },
                spec: {
                    name: config.name,
                    owner: config.name,
                    cluster: { name: clusterName },
                    ensure: "present",
                    databaseReclaimPolicy: "retain",
                    schemas: consumers
                        .filter((c) => c.access === "readWrite")
                        .map((c) => ({ name: ownerRole(c.name), owner: ownerRole(c.name), ensure: "present" })),
                },
            },
            { parent: this, dependsOn: [cluster] },
        );
    }

    /** PgBouncer in transaction mode in front of the writer (rw) and the replicas (ro). */
    private poolers(name: string, args: DatabaseArgs, clusterName: string, cluster: pulumi.Resource): void {
        const { config, namespace } = args;
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
                        template: {
                            spec: {
                                priorityClassName: PLATFORM_CRITICAL,
                                containers: [{ name: "pgbouncer", resources: POOLER_RESOURCES }],
                            },
                        },
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
    }

    /** Prometheus scrapes the instances and the poolers. */
    private monitors(name: string, args: DatabaseArgs, clusterName: string): void {
        const { namespace } = args;
        if (args.monitoringCrds) {
            const afterCrds = { parent: this, dependsOn: [args.monitoringCrds] };
            podMonitor(
                `${name}-pod-monitor`,
                {
                    name: clusterName,
                    namespace,
                    selector: { matchLabels: { "cnpg.io/cluster": clusterName } },
                    limits: SCRAPE_LIMITS.postgres,
                },
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
                    limits: SCRAPE_LIMITS.pgbouncer,
                },
                afterCrds,
            );
        }
    }
}
