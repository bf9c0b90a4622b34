import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { hardenedContainer } from "../lib/security";

export interface BackupStoreArgs {
    /** Namespace (the data tier's). */
    namespace: string;
    /** MinIO image from `finbot:releases.images`. */
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

/**
 * An S3-compatible object store for the in-cluster PostgreSQL's WAL archive and base backups: a
 * single MinIO with its own volume and generated credentials, in the data namespace (staging: a
 * laptop has no object store; production runs Aurora, whose backups AWS keeps and copies).
 */
export class BackupStore extends pulumi.ComponentResource {
    /** http://minio.<namespace>.svc:9000 */
    public readonly endpoint: string;

    constructor(name: string, args: BackupStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:data:BackupStore", name, {}, opts);
        const { namespace } = args;
        const labels = { "app.kubernetes.io/name": "minio", "app.kubernetes.io/part-of": "finbot" };
        this.endpoint = `http://minio.${namespace}.svc:9000`;
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
                metadata: { name: "minio-data", namespace, labels },
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
                metadata: { name: "minio", namespace, labels },
                spec: { selector: labels, ports: [{ name: "s3", port: 9000, targetPort: "s3" }] },
            },
            { parent: this },
        );
        this.bucketJob(name, args, labels, [server, service]);
        this.registerOutputs({ endpoint: this.endpoint });
    }

    /** One MinIO server on its volume, hardened, its root credentials from the generated Secret. */
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
                metadata: { name: "minio", namespace, labels },
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
                                runAsUser: 1000,
                                runAsGroup: 1000,
                                fsGroup: 1000,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "minio",
                                    image: args.image,
                                    args: ["server", "/data", "--address", ":9000"],
                                    env: [
                                        secretEnv("MINIO_ROOT_USER", "ACCESS_KEY_ID"),
                                        secretEnv("MINIO_ROOT_PASSWORD", "ACCESS_SECRET_KEY"),
                                    ],
                                    ports: [{ name: "s3", containerPort: 9000 }],
                                    readinessProbe: { httpGet: { path: "/minio/health/ready", port: "s3" }, periodSeconds: 10 },
                                    livenessProbe: { httpGet: { path: "/minio/health/live", port: "s3" }, periodSeconds: 20 },
                                    resources: { requests: BACKUP_STORE_REQUESTS, limits: { memory: "512Mi" } },
                                    securityContext: security,
                                    volumeMounts: [
                                        { name: "data", mountPath: "/data" },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "data", persistentVolumeClaim: { claimName: "minio-data" } },
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
                metadata: { name: "minio-bucket", namespace, labels },
                spec: {
                    backoffLimit: 20,
                    ttlSecondsAfterFinished: 3600,
                    template: {
                        metadata: { labels },
                        spec: {
                            restartPolicy: "OnFailure",
                            automountServiceAccountToken: false,
                            priorityClassName: PLATFORM_CRITICAL,
                            securityContext: { runAsNonRoot: true, runAsUser: 100, seccompProfile: { type: "RuntimeDefault" } },
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
                        },
                    },
                },
            },
            { parent: this, dependsOn, deleteBeforeReplace: true },
        );
    }
}
