// The AWS Load Balancer Controller of a created cluster: it turns the gateways' LoadBalancer
// Services into NLBs with IP targets (an existing cluster brings its own).
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { helmRelease } from "../lib/helm";
import { podIdentity } from "../lib/podIdentity";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { loadBalancerControllerStatements } from "./loadBalancerControllerPolicy";
import { SYSTEM_NODES, SYSTEM_TAINT } from "./nodePools";

const NAMESPACE = "kube-system";
const SERVICE_ACCOUNT = "aws-load-balancer-controller";

export interface LoadBalancerControllerArgs {
    /** The EKS cluster's name, as the config gives it (the chart and the role's description). */
    clusterName: string;
    /** The same name as the cluster's output: the pod identity waits for the cluster. */
    clusterNameOutput: pulumi.Input<string>;
    /** The cluster's VPC. */
    vpcId: pulumi.Input<string>;
    /** The nodes' security group: its rules admit the load balancers to the proxies' pods. */
    nodeSecurityGroupId: pulumi.Input<string>;
    /** Version of the aws-load-balancer-controller chart. */
    version: string;
    /** Two replicas with a disruption budget. */
    highlyAvailable: boolean;
}

/** The controller on the system nodes, with a pod identity that manages only the load balancers it tags. */
export class LoadBalancerController extends pulumi.ComponentResource {
    /** The Helm release: gateways' Services wait for it. */
    public readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:cluster:LoadBalancerController", name, {}, opts);
        const parent = { parent: this };
        const region = aws.getRegionOutput({}, parent).name;
        const identity = podIdentity(
            name,
            {
                clusterName: args.clusterNameOutput,
                namespace: NAMESPACE,
                serviceAccount: SERVICE_ACCOUNT,
                description: `The AWS Load Balancer Controller of ${args.clusterName}`,
                statements: loadBalancerControllerStatements({
                    region,
                    account: aws.getCallerIdentityOutput({}, parent).accountId,
                    vpcId: args.vpcId,
                    nodeSecurityGroupId: args.nodeSecurityGroupId,
                }),
            },
            parent,
        );
        const replicas = args.highlyAvailable ? 2 : 1;
        this.release = helmRelease(
            name,
            {
                chart: "aws-load-balancer-controller",
                version: args.version,
                releaseName: "aws-load-balancer-controller",
                namespace: NAMESPACE,
                values: {
                    clusterName: args.clusterName,
                    region,
                    vpcId: args.vpcId,
                    serviceAccount: { name: SERVICE_ACCOUNT },
                    replicaCount: replicas,
                    priorityClassName: PLATFORM_CRITICAL,
                    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                    nodeSelector: SYSTEM_NODES,
                    tolerations: [{ key: SYSTEM_TAINT.key, operator: "Exists", effect: "NoSchedule" }],
                    podDisruptionBudget: replicas > 1 ? { maxUnavailable: 1 } : {},
                    // Only the Services that ask for it (the gateways' annotations), never every Service.
                    enableServiceMutatorWebhook: false,
                    createIngressClassResource: false,
                    ingressClassParams: { create: false },
                    // No ALB features: nothing to call Shield or WAF for (its role may not).
                    enableShield: false,
                    enableWaf: false,
                    enableWafv2: false,
                    defaultTargetType: "ip",
                },
            },
            { parent: this, dependsOn: [identity.association] },
        );
        this.registerOutputs({});
    }
}
