import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WorkerConfig } from "../config/data";
import { scalingSchema } from "../config/schema";
import { SecretRef } from "./autoscaledService";
import { containerResources } from "../config/primitives";
import { NodePlacement, caBundle, containerSecurity, hpaBehavior, podSecurity, selectorLabels, serviceLabels } from "./spec";
import { FINBOT_SERVICES } from "../lib/priority";

export interface QueueWorkerArgs {
    /** The worker's validated entry of `finbot:workers`. */
    worker: WorkerConfig;
    /** The image reference, resolved from `finbot:releases.images`. */
    image: string;
    /** Namespace to run in (created by the caller). */
    namespace: pulumi.Input<string>;
    /** Secrets (same namespace) whose keys become environment variables: its connections (AMQP_URL...), APM, Sentry. */
    envFrom: SecretRef[];
    /** The Secret KEDA reads queue lengths with (its own RabbitMQ user, not the worker's). */
    queueLength: QueueLengthAuth;
    /** The KEDA release: ScaledObject and TriggerAuthentication need its CRDs. */
    keda: pulumi.Resource;
    /**
     * ConfigMap (same namespace) of the CA certificates the worker verifies servers with, mounted at /etc/finbot/ca.
     * @default no CA bundle
     */
    caConfigMap?: string;
    /**
     * Labels the pods carry besides their own (security groups for pods select on them).
     * @default none
     */
    podLabels?: Record<string, string>;
    /**
     * Where the pods run: Karpenter's services pool (its label and taint).
     * @default any node
     */
    placement?: NodePlacement;
}

/** A Secret whose keys are parameters of KEDA's rabbitmq trigger (host; tls and ca). */
export interface QueueLengthAuth extends SecretRef {
    parameters: string[];
}

/** Workers scale like HTTP services by default: up fast, down slowly. */
const WORKER_SCALING = scalingSchema.parse(undefined);

/**
 * A FinBot background worker consuming a RabbitMQ queue: a Deployment (replicas left to KEDA's
 * HPA) and a KEDA ScaledObject on the queue's length, authenticated through a
 * TriggerAuthentication with KEDA's own read-only queue user.
 */
export class QueueWorker extends pulumi.ComponentResource {
    constructor(name: string, args: QueueWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:workloads:QueueWorker", name, {}, opts);
        const { worker } = args;
        const labels = serviceLabels(worker.name, args.image);
        const metadata = { name: worker.name, namespace: args.namespace, labels };
        const deployment = this.deploymentOf(name, args, metadata);

        const auth = new k8s.apiextensions.CustomResource(
            `${name}-auth`,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "TriggerAuthentication",
                metadata: { name: `${worker.name}-rabbitmq`, namespace: args.namespace },
                spec: {
                    secretTargetRef: args.queueLength.parameters.map((parameter) => ({
                        parameter,
                        name: args.queueLength.secretName,
                        key: parameter,
                    })),
                },
            },
            { parent: this, dependsOn: [args.keda, args.queueLength.secret] },
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

    /** The worker's Deployment: no replica count (KEDA's), hardened, restarted when it hangs. */
    private deploymentOf(
        name: string,
        args: QueueWorkerArgs,
        metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> },
    ): k8s.apps.v1.Deployment {
        const { worker } = args;
        const { labels } = metadata;
        const ca = caBundle(args.caConfigMap);
        const liveness = worker.health;

        return new k8s.apps.v1.Deployment(
            name,
            {
                metadata,
                spec: {
                    // No `replicas`: KEDA's HPA owns the count (down to zero where allowed).
                    selector: { matchLabels: selectorLabels(worker.name) },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
                    template: {
                        metadata: { labels: { ...args.podLabels, ...labels } },
                        spec: {
                            automountServiceAccountToken: false,
                            priorityClassName: FINBOT_SERVICES,
                            ...args.placement,
                            // Workers finish the message in hand before they stop.
                            terminationGracePeriodSeconds: 60,
                            securityContext: podSecurity(),
                            containers: [
                                {
                                    name: worker.name,
                                    image: args.image,
                                    args: worker.args,
                                    env: [{ name: "QUEUE_NAME", value: worker.queue }],
                                    envFrom: args.envFrom.map((ref) => ({ secretRef: { name: ref.secretName } })),
                                    resources: containerResources(worker.resources),
                                    securityContext: containerSecurity(),
                                    // A consumer that hangs holds its messages unacknowledged: restart it. The
                                    // port is the kubelet's alone (no Service, no readiness: a worker takes no requests).
                                    livenessProbe: {
                                        httpGet: { path: liveness.liveness, port: liveness.port },
                                        periodSeconds: 10,
                                        timeoutSeconds: 2,
                                        failureThreshold: 3,
                                    },
                                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...ca.volumeMounts],
                                },
                            ],
                            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }, ...ca.volumes],
                        },
                    },
                },
            },
            { parent: this, dependsOn: args.envFrom.map((ref) => ref.secret) },
        );
    }
}
