// Karpenter: nodes that follow the pods. Its controller (on the system nodes of a created
// cluster), the interruption queue, the node role, and the node class and pools it launches from.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config/cluster";
import { CRD_CHARTS } from "../config/releases";
import { AwsNetwork } from "../lib/awsNetwork";
import { helmRelease } from "../lib/helm";
import { podIdentity } from "../lib/podIdentity";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { eksNodeRole } from "./eksCluster";
import { INTERRUPTION_EVENTS, karpenterControllerStatements } from "./karpenterPolicy";
import { PoolName } from "../config/capacity";
import { NODE_CLASS, SYSTEM_NODES, clusterTags, nodeClassSpec, nodePoolSpecs } from "./nodePools";

/** The controller's service account (its pod identity is bound to it). */
const KARPENTER_SERVICE_ACCOUNT = "karpenter";

/** Karpenter's controller pods (its chart's name). */
export const KARPENTER_PODS = { "app.kubernetes.io/name": "karpenter" };
/** The controller's metrics: the chart's `controller.metrics.port` (charts/karpenter/values.yaml, 8080 by default), pinned in its values. */
export const KARPENTER_METRICS = 8080;

export interface KarpenterArgs {
    /** The validated `finbot:cluster`. */
    cluster: ClusterConfig;
    /** The EKS cluster's name (known in config; an output of the cluster when the stack creates it). */
    clusterName: pulumi.Input<string>;
    /** Subnets and security group of the nodes, and the zones the pools spread over. */
    network: AwsNetwork;
    /** Namespace of the controller (created by the caller). */
    namespace: pulumi.Input<string>;
    /** Version of the karpenter chart (its CRDs come from karpenter-crd at the same version). */
    version: string;
    /** Two controllers with a disruption budget. */
    highlyAvailable: boolean;
    /**
     * Run the controller on the managed system node group (a created cluster), never on nodes it manages.
     * @default false
     */
    onSystemNodes?: boolean;
    /**
     * When set, Prometheus scrapes the controller (a ServiceMonitor, after these CRDs).
     * @default not scraped
     */
    monitoringCrds?: pulumi.Resource;
}

export class Karpenter extends pulumi.ComponentResource {
    /** The NodePools by name. */
    public readonly pools: Record<PoolName, k8s.apiextensions.CustomResource>;
    /** IAM role of the nodes Karpenter launches. */
    public readonly nodeRole: aws.iam.Role;

    constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:cluster:Karpenter", name, {}, opts);
        const { cluster } = args;
        const parent = { parent: this };
        const clusterName = cluster.name;
        if (!clusterName) throw new Error("Karpenter: finbot:cluster.name (the config check requires it)");
        const tags = clusterTags(clusterName);

        const queue = this.interruptionQueue(name, tags);

        this.nodeRole = eksNodeRole(`${name}-nodes`, `Nodes Karpenter launches in ${clusterName}`, tags, parent);
        // The nodes join through an access entry (no aws-auth ConfigMap).
        const nodeAccess = new aws.eks.AccessEntry(
            `${name}-nodes`,
            { clusterName: args.clusterName, principalArn: this.nodeRole.arn, type: "EC2_LINUX", tags },
            parent,
        );

        const identity = podIdentity(
            `${name}-controller`,
            {
                clusterName: args.clusterName,
                namespace: args.namespace,
                serviceAccount: KARPENTER_SERVICE_ACCOUNT,
                description: `Karpenter launches and retires ${clusterName}'s nodes`,
                statements: karpenterControllerStatements({
                    clusterName,
                    region: aws.getRegionOutput({}, parent).name,
                    account: aws.getCallerIdentityOutput({}, parent).accountId,
                    queueArn: queue.arn,
                    nodeRoleArn: this.nodeRole.arn,
                }),
            },
            parent,
        );

        // Helm never upgrades a chart's crds/ folder: the CRDs come from karpenter-crd at the same pin.
        const crds = new k8s.helm.v4.Chart(
            `${name}-crds`,
            { chart: CRD_CHARTS.karpenter?.chart ?? "", version: args.version, namespace: args.namespace },
            parent,
        );
        const replicas = args.highlyAvailable ? 2 : 1;
        const controller = helmRelease(
            `${name}-controller`,
            {
                chart: "karpenter",
                version: args.version,
                releaseName: "karpenter",
                namespace: args.namespace,
                skipCrds: true,
                values: {
                    settings: { clusterName, interruptionQueue: queue.name },
                    serviceAccount: { name: KARPENTER_SERVICE_ACCOUNT },
                    replicas,
                    priorityClassName: PLATFORM_CRITICAL,
                    podDisruptionBudget: { name: "karpenter", maxUnavailable: 1 },
                    controller: {
                        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
                        // Pinned: the scrape flow names this port.
                        metrics: { port: KARPENTER_METRICS },
                    },
                    ...(args.onSystemNodes ? { nodeSelector: { ...SYSTEM_NODES, "kubernetes.io/os": "linux" } } : {}),
                    serviceMonitor: { enabled: args.monitoringCrds !== undefined },
                },
            },
            { parent: this, dependsOn: [crds, identity.association, ...(args.monitoringCrds ? [args.monitoringCrds] : [])] },
        );

        const zones = args.network.availabilityZones;
        const nodeClass = new k8s.apiextensions.CustomResource(
            `${name}-node-class`,
            {
                apiVersion: "karpenter.k8s.aws/v1",
                kind: "EC2NodeClass",
                metadata: { name: NODE_CLASS },
                spec: pulumi
                    .all([this.nodeRole.name, args.network.privateSubnetIds, args.network.nodeSecurityGroupId])
                    .apply(([nodeRole, subnetIds, securityGroupId]) =>
                        nodeClassSpec({ cluster, clusterName, nodeRole, subnetIds, securityGroupId }),
                    ),
            },
            { parent: this, dependsOn: [crds, controller, nodeAccess] },
        );
        const specs = nodePoolSpecs(cluster, zones);
        this.pools = {
            platform: this.nodePool(name, "platform", specs.platform, [crds, nodeClass]),
            services: this.nodePool(name, "services", specs.services, [crds, nodeClass]),
        };
        this.registerOutputs({ nodeRole: this.nodeRole });
    }

    /** Spot interruptions, rebalance recommendations, scheduled maintenance and state changes, queued for the controller. */
    private interruptionQueue(name: string, tags: Record<string, string>): aws.sqs.Queue {
        const parent = { parent: this };
        const queue = new aws.sqs.Queue(
            `${name}-interruptions`,
            { messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags },
            parent,
        );
        new aws.sqs.QueuePolicy(
            `${name}-interruptions`,
            {
                queueUrl: queue.url,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "EventBridgeOnly",
                            Effect: "Allow",
                            Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
                            Action: "sqs:SendMessage",
                            Resource: queue.arn,
                        },
                        {
                            Sid: "TlsOnly",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "sqs:*",
                            Resource: queue.arn,
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ],
                }),
            },
            parent,
        );
        for (const [event, pattern] of Object.entries(INTERRUPTION_EVENTS)) {
            const rule = new aws.cloudwatch.EventRule(`${name}-${event}`, { eventPattern: JSON.stringify(pattern), tags }, parent);
            new aws.cloudwatch.EventTarget(`${name}-${event}`, { rule: rule.name, arn: queue.arn }, parent);
        }
        return queue;
    }

    private nodePool(
        name: string,
        pool: PoolName,
        spec: Record<string, unknown>,
        dependsOn: pulumi.Resource[],
    ): k8s.apiextensions.CustomResource {
        return new k8s.apiextensions.CustomResource(
            `${name}-${pool}`,
            { apiVersion: "karpenter.sh/v1", kind: "NodePool", metadata: { name: pool }, spec },
            { parent: this, dependsOn },
        );
    }
}
