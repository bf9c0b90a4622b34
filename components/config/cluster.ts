// `finbot:cluster`: the Kubernetes cluster the stack deploys into (a laptop cluster, an existing
// EKS cluster, or one the stack creates) and the nodes that follow the pods (Karpenter).
import { IPV4_CIDR } from "./cidr";
import { z } from "zod";
import { dnsLabel } from "./primitives";

const cidr = z.string().regex(IPV4_CIDR, { error: 'an IPv4 CIDR such as "10.0.0.0/16"' });
const zone = z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, { error: 'an availability zone such as "eu-central-1a"' });

const nodePoolSchema = (cpu: number, memoryGi: number, description: string) =>
    z
        .strictObject({
            cpuLimit: z.number().int().min(1).max(10000).default(cpu).describe("Most vCPUs the pool's nodes may have together."),
            memoryLimitGi: z
                .number()
                .int()
                .min(1)
                .max(100000)
                .default(memoryGi)
                .describe("Most memory (GiB) the pool's nodes may have together."),
            instanceCategories: z
                .array(z.enum(["c", "m", "r", "t"]))
                .min(1)
                .default(["c", "m", "r"])
                .describe("EC2 instance categories the pool may launch (generation 6 or newer)."),
        })
        .prefault({})
        .describe(description);

/**
 * What carries the cluster's pod network, and whether it enforces NetworkPolicy. The platform's
 * isolation is default-deny NetworkPolicies in every namespace: on a CNI that ignores them, every
 * one of them is inert and any pod reaches every other (the config check refuses such a stack).
 */
export const CNI_ENFORCES_NETWORK_POLICY = {
    /** The AWS VPC CNI with its network policy agent (`enableNetworkPolicy`, VPC CNI 1.14+): a created cluster turns it on. */
    "vpc-cni": true,
    /** kind's default CNI: kindnet enforces NetworkPolicy since kind v0.24 (kube-network-policies). */
    kindnet: true,
    /** k3s's embedded kube-router policy controller (unless k3s runs with --disable-network-policy). */
    k3s: true,
    calico: true,
    cilium: true,
    /** flannel alone (minikube's and k3s' --flannel-backend without the policy controller): no enforcement. */
    flannel: false,
    /** minikube's default bridge CNI: no enforcement (start it with --cni=calico or --cni=cilium). */
    bridge: false,
} as const;
export type Cni = keyof typeof CNI_ENFORCES_NETWORK_POLICY;
const CNIS = Object.keys(CNI_ENFORCES_NETWORK_POLICY) as [Cni, ...Cni[]];

export const clusterSchema = z
    .strictObject({
        mode: z
            .enum(["local", "existing", "create"])
            .default("local")
            .describe("A laptop cluster (kind, k3d, minikube), an existing EKS cluster, or one this stack creates."),
        name: dnsLabel(100).optional().describe("Name of the EKS cluster (existing or create): pod identities are associated with it."),
        nodeAutoscaler: z
            .enum(["karpenter", "none"])
            .optional()
            .describe(
                "Who adds nodes for pending pods: Karpenter (installed by the stack), or none (an existing cluster's own Cluster Autoscaler or Karpenter). @default karpenter when the stack creates the cluster, none for an existing one",
            ),
        cni: z
            .enum(CNIS)
            .optional()
            .describe(
                "The CNI of the cluster, which must enforce NetworkPolicy (vpc-cni with its network policy agent, kindnet of kind 0.24+, k3s, calico, cilium). @default vpc-cni when the stack creates the cluster; required for a local or existing one",
            ),
        kubernetesVersion: z
            .string()
            .regex(/^1\.\d{2}$/, { error: 'a Kubernetes minor version such as "1.34"' })
            .default("1.34")
            .describe("Kubernetes version of a created cluster."),
        vpcCidr: cidr.default("10.0.0.0/16").describe("CIDR of the VPC a created cluster gets."),
        availabilityZones: z
            .array(zone)
            .min(2)
            .optional()
            .describe("Zones of a created cluster's subnets (three in production; NAT gateway per zone). Required in create mode."),
        publicAccessCidrs: z
            .array(cidr)
            .default([])
            .describe("Where a created cluster's API answers from the internet; none: the private endpoint only."),
        adminRoleArns: z
            .array(z.string().regex(/^arn:aws:iam::\d{12}:role\/\S+$/, { error: "an IAM role ARN" }))
            .default([])
            .describe("IAM roles that administer a created cluster (EKS access entries)."),
        systemNodes: z
            .strictObject({
                instanceType: z.string().default("m7i.large").describe("Instance type of the managed node group."),
                count: z.number().int().min(1).max(10).default(2).describe("Nodes (one more during upgrades)."),
            })
            .prefault({})
            .describe("The small managed node group of a created cluster: Karpenter and the system add-ons run there."),
        amiAlias: z
            .string()
            .regex(/^(al2023|bottlerocket)@(v[\w.]+|latest)$/, { error: 'an EC2NodeClass AMI alias such as "al2023@v20260801"' })
            .default("al2023@latest")
            .describe("AMI of Karpenter's nodes (pinned in production)."),
        nodeProvisioningSeconds: z
            .number()
            .int()
            .min(0)
            .max(900)
            .default(60)
            .describe("Assumed time from a pending pod to a ready new node: the capacity table adds it to the scale-up time."),
        platformPool: nodePoolSchema(
            64,
            256,
            "Karpenter pool of on-demand nodes for the data tier, monitoring, logging, the gateway and controllers.",
        ),
        servicesPool: nodePoolSchema(128, 512, "Karpenter pool of spot and on-demand nodes for FinBot's services and workers."),
    })
    .prefault({});

export type ClusterConfig = z.output<typeof clusterSchema>;

/** The cluster's CNI, with the created cluster's default (undefined: not declared). */
export function cniOf(cluster: Pick<ClusterConfig, "mode" | "cni">): Cni | undefined {
    return cluster.cni ?? (cluster.mode === "create" ? "vpc-cni" : undefined);
}

/** Who adds nodes, with the mode's default. */
export function nodeAutoscalerOf(cluster: ClusterConfig): "karpenter" | "none" {
    return cluster.nodeAutoscaler ?? (cluster.mode === "create" ? "karpenter" : "none");
}
