import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WorkerConfig } from "../config/data";
import { scalingSchema } from "../config/schema";
import { SecretRef } from "./autoscaledService";
import { containerResources } from "../config/primitives";
import { containerSecurity, hpaBehavior, podSecurity, selectorLabels, serviceLabels } from "./spec";

export interface QueueWorkerArgs {
    /** The worker's validated entry of `finbot:workers`. */
    worker: WorkerConfig;
    /** The image reference, resolved from `finbot:releases.images`. */
    image: string;
    /** Namespace to run in (created by the caller). */
    namespace: pulumi.Input<string>;
    /** Secret (same namespace) with AMQP_URL and the other connection settings. */
    connections: SecretRef;
    /**
     * Further Secrets whose keys become environment variables (APM, Sentry).
     * @default none
     */
    envFrom?: SecretRef[];
    /** The KEDA release: ScaledObject and TriggerAuthentication need its CRDs. */
    keda: pulumi.Resource;
}

/** Workers scale like HTTP services by default: up fast, down slowly. */
const WORKER_SCALING = scalingSchema.parse(undefined);

/**
 * A FinBot background worker consuming a RabbitMQ queue: a Deployment (replicas left to KEDA's
 * HPA) and a KEDA ScaledObject on the queue's length, authenticated through a
 * TriggerAuthentication that reads the AMQP URL from the connections Secret.
 */
export class QueueWorker extends pulumi.ComponentResource {
    constructor(name: string, args: QueueWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:workloads:QueueWorker", name, {}, opts);
        const { worker } = args;
        const labels = serviceLabels(worker.name, args.image);
        const metadata = { name: worker.name, namespace: args.namespace, labels };

        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata,
                spec: {
                    // No `replicas`: KEDA's HPA owns the count (down to zero where allowed).
                    selector: { matchLabels: selectorLabels(worker.name) },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            // Workers finish the message in hand before they stop.
                            terminationGracePeriodSeconds: 60,
                            securityContext: podSecurity(),
                            containers: [
                                {
                                    name: worker.name,
                                    image: args.image,
                                    args: worker.args,
                                    env: [{ name: "QUEUE_NAME", value: worker.queue }],
                                    envFrom: [args.connections, ...(args.envFrom ?? [])].map((ref) => ({
                                        secretRef: { name: ref.secretName },
                                    })),
                                    resources: containerResources(worker.resources),
                                    securityContext: containerSecurity(),
                                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                },
                            ],
                            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [args.connections, ...(args.envFrom ?? [])].map((ref) => ref.secret) },
        );

        const auth = new k8s.apiextensions.CustomResource(
            `${name}-auth`,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "TriggerAuthentication",
                metadata: { name: `${worker.name}-rabbitmq`, namespace: args.namespace },
                spec: { secretTargetRef: [{ parameter: "host", name: args.connections.secretName, key: "AMQP_URL" }] },
            },
            { parent: this, dependsOn: [args.keda, args.connections.secret] },
        );

        if (worker.replicas.max > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                name,
                { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(worker.name) } } },
                { parent: this },
            );
        }

        new k8s.apiextensions.CustomResource(
            name,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "ScaledObject",
                metadata,
                spec: {
                    scaleTargetRef: { name: worker.name },
                    minReplicaCount: worker.replicas.min,
                    maxReplicaCount: worker.replicas.max,
                    pollingInterval: 15,
                    cooldownPeriod: 300,
                    advanced: { horizontalPodAutoscalerConfig: { behavior: hpaBehavior(WORKER_SCALING) } },
                    triggers: [
                        {
                            type: "rabbitmq",
                            metadata: {
                                protocol: "amqp",
                                queueName: worker.queue,
                                mode: "QueueLength",
                                value: String(worker.messagesPerReplica),
                            },
                            authenticationRef: { name: `${worker.name}-rabbitmq` },
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [args.keda, deployment, auth] },
        );
        this.registerOutputs({});
    }
}
