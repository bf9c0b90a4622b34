// The Jobs that give PostgreSQL roles their rights: idempotent SQL, re-run whenever what it
// applies changes (the Job's name carries a hash of it). Pure builders of hardened Jobs.
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseConsumer, consumerRoles, grantsScript, roleSecretName } from "./postgresRoles";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { hardenedContainer, hardenedPodSpec } from "../lib/security";

/**
 * `<ROLE>_<KEY>` from each role's Secret: `password` for a role's own login, `verifier` for what the
 * administrator sets (never the password).
 */
export function roleSecretEnv(roles: string[], key: "password" | "verifier"): k8s.types.input.core.v1.EnvVar[] {
    return roles.map((role) => ({
        name: `${role.toUpperCase()}_${key.toUpperCase()}`,
        valueFrom: { secretKeyRef: { name: roleSecretName(role), key } },
    }));
}

/**
 * Shell that prints the `password` field of a Secrets Manager JSON secret (RDS's master user
 * secret) using sed alone: the PostgreSQL image has no JSON tool. JSON escapes are undone.
 */
export function jsonPasswordShell(file: string): string {
    return `sed -n 's/.*"password"[[:space:]]*:[[:space:]]*"\\(\\([^"\\\\]\\|\\\\.\\)*\\)".*/\\1/p' ${file} | sed 's/\\\\\\(.\\)/\\1/g'`;
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 10);

/**
 * Per read-write consumer, as its own role: its search_path, and its reader's rights on its schema
 * (now and for what it creates later). No superuser: an owner grants on what it owns.
 */
export function roleGrantsJob(
    parent: pulumi.Resource,
    resourceName: string,
    args: {
        namespace: string;
        image: string;
        host: pulumi.Input<string>;
        database: string;
        consumers: DatabaseConsumer[];
        /** Secret with the CA (`ca.crt`) the server's certificate is verified against (verify-full). */
        caSecret: string;
        dependsOn: pulumi.Resource[];
        labels?: Record<string, string>;
    },
): k8s.batch.v1.Job {
    const script = grantsScript(args.database, args.consumers);
    const roles = consumerRoles(args.consumers.filter((c) => c.access === "readWrite")).map((r) => r.role);
    const labels = { "app.kubernetes.io/name": "postgres-grants", "app.kubernetes.io/part-of": "finbot", ...args.labels };
    return new k8s.batch.v1.Job(
        resourceName,
        {
            metadata: { name: `postgres-grants-${hash(script)}`, namespace: args.namespace, labels },
            spec: {
                backoffLimit: 20,
                ttlSecondsAfterFinished: 86_400,
                template: {
                    metadata: { labels },
                    spec: hardenedPodSpec({
                        restartPolicy: "OnFailure",
                        priorityClassName: PLATFORM_CRITICAL,
                        runAs: { user: 26, group: 26 },
                        containers: [
                            {
                                name: "grants",
                                image: args.image,
                                command: ["/bin/sh", "-c", script],
                                env: [
                                    { name: "PGHOST", value: args.host },
                                    { name: "PGSSLMODE", value: "verify-full" },
                                    { name: "PGSSLROOTCERT", value: "/ca/ca.crt" },
                                    ...roleSecretEnv(roles, "password"),
                                ],
                                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                                securityContext: hardenedContainer(),
                                volumeMounts: [{ name: "ca", mountPath: "/ca", readOnly: true }],
                            },
                        ],
                        volumes: [{ name: "ca", secret: { secretName: args.caSecret, items: [{ key: "ca.crt", path: "ca.crt" }] } }],
                    }),
                },
            },
        },
        { parent, dependsOn: args.dependsOn, deleteBeforeReplace: true },
    );
}
