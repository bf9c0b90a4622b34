import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { serviceHost } from "../lib/services";
import { hardenedContainer, hardenedPodSpec } from "../lib/security";

export interface BackupStoreArgs {
    /** Namespace (the data tier's). */
    namespace: string;
    /** RustFS image from `finbot:releases.images`. */
    image: string;
    /** curl image (creates the bucket through the S3 API). */
    curlImage: string;
    /** Bucket the backups go to. */
    bucket: string;
    /** Size of the store's volume. */
    storage: string;
    /**
     * StorageClass of the volume.
     * @default the cluster's default class
     */
    storageClass?: string;
}

/** The S3 credentials Secret CloudNativePG reads (keys ACCESS_KEY_ID, ACCESS_SECRET_KEY). */
export const BACKUP_STORE_SECRET = "pg-backup-store";
export const BACKUP_STORE_REQUESTS = { cpu: "50m", memory: "128Mi" };

/** An environment variable from the store's credentials Secret. */
const secretEnv = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: BACKUP_STORE_SECRET, key } } });

/** The store's Service and port: the Barman Cloud ObjectStore's endpoint. */
const STORE_NAME = "backup-store";
const S3_PORT = 9000;

/**
 * An S3-compatible object store for the in-cluster PostgreSQL's WAL archive and base backups: a
 * single RustFS with its own volume and generated credentials, in the data namespace (staging: a
 * laptop has no object store; production runs Aurora, whose backups AWS keeps and copies).
 *
 * RustFS rather than MinIO: MinIO's community edition became source-only in October 2025 and its
 * images left Docker Hub. RustFS (Apache-2.0, rustfs/rustfs) publishes `rustfs/rustfs:<version>`
 * images (its README at the pinned tag runs that reference) and is what CloudNativePG's own e2e
 * suite archives to with barman-cloud since cloudnative-pg/cloudnative-pg#10865
 * (tests/utils/objectstore/objectstore.go). Settings from its image and CLI at the pinned tag
 * (Dockerfile, rustfs/src/config/cli.rs): UID 10001, data in RUSTFS_VOLUMES, S3 on :9000, path-style
 * requests, region us-east-1, health at /health and /health/ready (rustfs/src/server/prefix.rs).
 */
export class BackupStore extends pulumi.ComponentResource {
    /** http://backup-store.<namespace>.svc:9000 */
    public readonly endpoint: string;

    constructor(name: string, args: BackupStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:BackupStore", name, {}, opts);
        const { namespace } = args;
        const labels = { "app.kubernetes.io/name": STORE_NAME, "app.kubernetes.io/part-of": "finbot" };
        this.endpoint = `http://${serviceHost(STORE_NAME, namespace)}:${S3_PORT}`;
        const secretKey = new random.RandomPassword(`${name}-secret-key`, { length: 40, special: false }, { parent: this });
        const credentials = new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: { name: BACKUP_STORE_SECRET, namespace },
                type: "Opaque",
                stringData: { ACCESS_KEY_ID: "finbot-backups", ACCESS_SECRET_KEY: secretKey.result },
            },
            { parent: this },
        );
        const volume = new k8s.core.v1.PersistentVolumeClaim(
            `${name}-volume`,
            {
                metadata: { name: `${STORE_NAME}-data`, namespace, labels },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: args.storage } },
                    ...(args.storageClass ? { storageClassName: args.storageClass } : {}),
                },
            },
            { parent: this },
        );
        const server = this.server(name, args, labels, [credentials, volume]);
        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: STORE_NAME, namespace, labels },
                spec: { selector: labels, ports: [{ name: "s3", port: S3_PORT, targetPort: "s3" }] },
            },
            { parent: this },
        );
        this.bucketJob(name, args, labels, [server, service]);
        this.registerOutputs({ endpoint: this.endpoint });
    }

    /** One RustFS server on its volume, hardened, its access key from the generated Secret; no console. */
    private server(
        name: string,
        args: BackupStoreArgs,
        labels: Record<string, string>,
        dependsOn: pulumi.Resource[],
    ): k8s.apps.v1.Deployment {
        const { namespace } = args;
        const security = hardenedContainer();
        return new k8s.apps.v1.Deployment(
            `${name}-server`,
            {
                metadata: { name: STORE_NAME, namespace, labels },
                spec: {
                    replicas: 1,
                    strategy: { type: "Recreate" },
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            priorityClassName: PLATFORM_CRITICAL,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 10001,
                                runAsGroup: 10001,
                                fsGroup: 10001,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "rustfs",
                                    image: args.image,
                                    env: [
                                        { name: "RUSTFS_VOLUMES", value: "/data" },
                                        { name: "RUSTFS_ADDRESS", value: `:${S3_PORT}` },
                                        { name: "RUSTFS_REGION", value: "us-east-1" },
                                        { name: "RUSTFS_CONSOLE_ENABLE", value: "false" },
                                        { name: "RUSTFS_OBS_LOG_DIRECTORY", value: "/logs" },
                                        secretEnv("RUSTFS_ACCESS_KEY", "ACCESS_KEY_ID"),
                                        secretEnv("RUSTFS_SECRET_KEY", "ACCESS_SECRET_KEY"),
                                    ],
                                    ports: [{ name: "s3", containerPort: S3_PORT }],
                                    readinessProbe: { httpGet: { path: "/health/ready", port: "s3" }, periodSeconds: 10 },
                                    livenessProbe: { httpGet: { path: "/health", port: "s3" }, initialDelaySeconds: 30, periodSeconds: 20 },
                                    resources: { requests: BACKUP_STORE_REQUESTS, limits: { memory: "512Mi" } },
                                    securityContext: security,
                                    volumeMounts: [
                                        { name: "data", mountPath: "/data" },
                                        { name: "logs", mountPath: "/logs" },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "data", persistentVolumeClaim: { claimName: `${STORE_NAME}-data` } },
                                { name: "logs", emptyDir: { sizeLimit: "256Mi" } },
                                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn },
        );
    }

    /** The bucket, created through the S3 API (curl signs the request): idempotent, re-run on every change. */
    private bucketJob(name: string, args: BackupStoreArgs, labels: Record<string, string>, dependsOn: pulumi.Resource[]): void {
        const { namespace } = args;
        const security = hardenedContainer();
        new k8s.batch.v1.Job(
            `${name}-bucket`,
            {
                metadata: { name: `${STORE_NAME}-bucket`, namespace, labels },
                spec: {
                    backoffLimit: 20,
                    ttlSecondsAfterFinished: 3600,
                    template: {
                        metadata: { labels },
                        spec: hardenedPodSpec({
                            restartPolicy: "OnFailure",
                            priorityClassName: PLATFORM_CRITICAL,
                            runAs: { user: 100 },
                            containers: [
                                {
                                    name: "bucket",
                                    image: args.curlImage,
                                    command: [
                                        "/bin/sh",
                                        "-c",
                                        `code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY_ID:$ACCESS_SECRET_KEY" -X PUT "${this.endpoint}/${args.bucket}"); ` +
                                            `echo "PUT bucket: $code"; [ "$code" = 200 ] || [ "$code" = 409 ]`,
                                    ],
                                    env: [secretEnv("ACCESS_KEY_ID", "ACCESS_KEY_ID"), secretEnv("ACCESS_SECRET_KEY", "ACCESS_SECRET_KEY")],
                                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
                                    securityContext: security,
                                },
                            ],
                        }),
                    },
                },
            },
            { parent: this, dependsOn, deleteBeforeReplace: true },
        );
    }
}
