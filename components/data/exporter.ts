// Prometheus exporters beside the data stores (redis_exporter, postgres_exporter): one hardened
// container shape, and a one-replica Deployment for exporters that watch a managed service.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EXPORTER_RESOURCES } from "../lib/sizes";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { hardenedContainer } from "../lib/security";

export interface ExporterContainerArgs {
    /** Container name. */
    name: string;
    /** Pinned exporter image. */
    image: string;
    /** Port serving /metrics (named `metrics`). */
    port: number;
    /** Path answering 200 while the exporter is up. */
    healthPath: string;
    /** Environment, credentials from Secrets. */
    env: k8s.types.input.core.v1.EnvVar[];
    /**
     * Container arguments.
     * @default the image's
     */
    args?: string[];
    /**
     * Read-only files for the exporter (a ConfigMap's keys under `mountPath`).
     * @default none
     */
    files?: { configMap: pulumi.Input<string>; mountPath: string };
}

export function exporterContainer(args: ExporterContainerArgs): k8s.types.input.core.v1.Container {
    return {
        name: args.name,
        image: args.image,
        args: args.args,
        ports: [{ name: "metrics", containerPort: args.port }],
        readinessProbe: { httpGet: { path: args.healthPath, port: "metrics" }, periodSeconds: 15 },
        livenessProbe: { httpGet: { path: args.healthPath, port: "metrics" }, periodSeconds: 30 },
        env: args.env,
        ...(args.files ? { volumeMounts: [{ name: "files", mountPath: args.files.mountPath, readOnly: true }] } : {}),
        resources: EXPORTER_RESOURCES,
        securityContext: hardenedContainer(),
    };
}

/** A single-replica Deployment running one exporter container, non-root. */
export function exporterDeployment(
    resourceName: string,
    args: {
        name: string;
        namespace: string;
        labels: Record<string, string>;
        /** Labels on the pods only (e.g. the label that gives them a security group). */
        podLabels?: Record<string, string>;
        runAsUser: number;
        container: ExporterContainerArgs;
    },
    opts: pulumi.CustomResourceOptions,
): k8s.apps.v1.Deployment {
    return new k8s.apps.v1.Deployment(
        resourceName,
        {
            metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
            spec: {
                // Exporters are not autoscaled: one instance scrapes one target.
                replicas: 1,
                selector: { matchLabels: args.labels },
                template: {
                    metadata: { labels: { ...args.labels, ...args.podLabels } },
                    spec: {
                        automountServiceAccountToken: false,
                        priorityClassName: PLATFORM_CRITICAL,
                        securityContext: { runAsNonRoot: true, runAsUser: args.runAsUser, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [exporterContainer(args.container)],
                        ...(args.container.files
                            ? { volumes: [{ name: "files", configMap: { name: args.container.files.configMap } }] }
                            : {}),
                    },
                },
            },
        },
        opts,
    );
}
