// The EKS cluster a stack creates (`finbot:cluster.mode: create`): its VPC, the control plane, a
// small managed node group for Karpenter and the add-ons, and the Kubernetes provider for it.
import * as aws from "@pulumi/aws";
// The ec2 module alone: the package root also loads ECS and the AWS SDK, which the VPC needs none of.
import * as awsxEc2 from "@pulumi/awsx/ec2";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrust } from "../lib/iam";
import { ClusterConfig } from "../config/cluster";
import { AwsNetwork } from "../lib/awsNetwork";
import { podIdentity } from "../lib/podIdentity";
import { SYSTEM_NODES, SYSTEM_TAINT, clusterTags } from "./nodePools";

/** Every control-plane log: who called the API (audit), who was let in (authenticator), and why. */
const CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
/** How long the control plane's logs (the audit log among them) are kept: a year, as payment audits ask. */
const CONTROL_PLANE_LOG_DAYS = 365;

export interface EksClusterArgs {
    /** The validated `finbot:cluster` (create mode: name and zones given). */
    cluster: ClusterConfig;
    /** Production: a NAT gateway per zone, deletion protection, protected resources. */
    production: boolean;
}

/** Cluster-admin access entries for the given IAM roles (API authentication; no aws-auth ConfigMap). */
function adminAccessEntries(roleArns: string[]) {
    return Object.fromEntries(
        // Keyed by the role's name, not its position: removing one role leaves the others' entries alone.
        roleArns.map((arn) => [
            `admin-${arn.split("/").pop()}`,
            {
                principalArn: arn,
                accessPolicies: {
                    admin: {
                        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                        accessScope: { type: "cluster" },
                    },
                },
            },
        ]),
    );
}

/**
 * A VPC over the configured zones (private subnets for nodes and data stores, public ones for the
 * load balancers and NAT gateways), an EKS cluster reachable from the VPC and from the allowed
 * CIDRs only, with every control-plane log, Kubernetes Secrets encrypted with its own KMS key,
 * access entries (no aws-auth ConfigMap), EKS Pod Identity and the EBS CSI driver, and a managed
 * node group tainted for critical add-ons: Karpenter runs there and brings every other node.
 */
export class EksCluster extends pulumi.ComponentResource {
    /** The cluster's name (pod identities are associated with it). */
    public readonly clusterName: pulumi.Output<string>;
    /** The VPC, its private subnets and the nodes' security group (the cluster security group). */
    public readonly network: AwsNetwork;
    /** Kubernetes provider for the new cluster: every Kubernetes resource of the stack uses it. */
    public readonly provider: k8s.Provider;

    constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:cluster:EksCluster", name, {}, opts);
        const { cluster, production } = args;
        if (cluster.mode !== "create" || !cluster.name || !cluster.availabilityZones)
            throw new Error("EksCluster: create mode with a name and zones (the config check requires them)");
        const clusterName = cluster.name;
        const parent = { parent: this };
        const stateful = { parent: this, protect: production };
        const tags = clusterTags(clusterName);

        const vpc = this.vpc(name, cluster.vpcCidr, cluster.availabilityZones, production, tags);

        const admins = adminAccessEntries(cluster.adminRoleArns);
        const { secretsKey, logs } = this.keyAndLogs(name, clusterName, production, tags);
        const { serviceRole, controlPlanePolicies } = this.controlPlaneRole(name, clusterName, tags);
        const eksCluster = new eks.Cluster(
            `${name}-eks`,
            {
                name: clusterName,
                version: cluster.kubernetesVersion,
                vpcId: vpc.vpcId,
                privateSubnetIds: vpc.privateSubnetIds,
                publicSubnetIds: vpc.publicSubnetIds,
                authenticationMode: eks.AuthenticationMode.Api,
                accessEntries: admins,
                endpointPrivateAccess: true,
                endpointPublicAccess: cluster.publicAccessCidrs.length > 0,
                ...(cluster.publicAccessCidrs.length > 0 ? { publicAccessCidrs: cluster.publicAccessCidrs } : {}),
                enabledClusterLogTypes: CONTROL_PLANE_LOGS,
                encryptionConfigKeyArn: secretsKey.arn,
                // The EKS-made cluster security group is the nodes' (Karpenter's and the managed group's).
                skipDefaultSecurityGroups: true,
                skipDefaultNodeGroup: true,
                serviceRole,
                // Security groups for pods: Aurora and ElastiCache admit only their clients' pods.
                // The network policy agent (VPC CNI 1.14+) enforces the platform's NetworkPolicies; without
                // it every default-deny is inert. The two combine in the default strict pod SG mode
                // (amazon-vpc-cni-k8s docs/network-policy-faq.md: "Network Policies can be used in
                // conjunction with SGPP"); pulumi-eks 4.3.0 sets it as the add-on's enableNetworkPolicy.
                vpcCniOptions: { enablePodEni: true, enableNetworkPolicy: true },
                nodeAssociatePublicIpAddress: false,
                // Elasticsearch reaches its S3 snapshot repository through IRSA (web identity).
                createOidcProvider: true,
                deletionProtection: production,
                tags,
            },
            { ...stateful, dependsOn: [...controlPlanePolicies, logs] },
        );

        const nodeRole = eksNodeRole(`${name}-system-nodes`, `Nodes of ${clusterName}'s system node group`, tags, parent);
        const systemNodes = new eks.ManagedNodeGroup(
            `${name}-system`,
            {
                cluster: eksCluster,
                nodeGroupName: `${clusterName}-system`,
                nodeRoleArn: nodeRole.arn,
                instanceTypes: [cluster.systemNodes.instanceType],
                amiType: "AL2023_x86_64_STANDARD",
                capacityType: "ON_DEMAND",
                subnetIds: vpc.privateSubnetIds,
                scalingConfig: {
                    minSize: cluster.systemNodes.count,
                    desiredSize: cluster.systemNodes.count,
                    maxSize: cluster.systemNodes.count + 1,
                },
                labels: SYSTEM_NODES,
                taints: [{ ...SYSTEM_TAINT, effect: "NO_SCHEDULE" }],
                tags,
            },
            parent,
        );

        const addons = this.addons(name, clusterName, eksCluster, systemNodes, tags);

        this.clusterName = eksCluster.eksCluster.name;
        this.network = {
            vpcId: vpc.vpcId,
            privateSubnetIds: vpc.privateSubnetIds,
            nodeSecurityGroupId: eksCluster.clusterSecurityGroupId,
            vpcCidr: cluster.vpcCidr,
            availabilityZones: cluster.availabilityZones,
        };
        this.provider = new k8s.Provider(
            `${name}-kubernetes`,
            { kubeconfig: eksCluster.kubeconfigJson, enableServerSideApply: true },
            // Every Kubernetes resource waits for nodes, Pod Identity and the EBS CSI driver.
            { parent: this, dependsOn: [systemNodes, ...addons] },
        );
        this.registerOutputs({ clusterName: this.clusterName, network: this.network });
    }

    /** Private subnets for nodes and data stores, public ones for load balancers and NAT gateways, over the zones. */
    private vpc(name: string, cidrBlock: string, zones: string[], production: boolean, tags: Record<string, string>): awsxEc2.Vpc {
        const stateful = { parent: this, protect: production };
        return new awsxEc2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock,
                availabilityZoneNames: zones,
                enableDnsHostnames: true,
                // A NAT gateway per zone keeps a zone's loss from cutting the others off the internet.
                natGateways: { strategy: production ? "OnePerAz" : "Single" },
                subnetStrategy: "Auto",
                subnetSpecs: [
                    { type: "Private", tags: { ...tags, "kubernetes.io/role/internal-elb": "1" } },
                    { type: "Public", tags: { ...tags, "kubernetes.io/role/elb": "1" } },
                ],
                tags,
            },
            stateful,
        );
    }

    /** EKS Pod Identity first: the EBS CSI driver (and every other AWS-reaching pod) gets its role through it. */
    private addons(
        name: string,
        clusterName: string,
        eksCluster: eks.Cluster,
        systemNodes: pulumi.Resource,
        tags: Record<string, string>,
    ): pulumi.Resource[] {
        const podIdentityAgent = new aws.eks.Addon(
            `${name}-pod-identity-agent`,
            { clusterName: eksCluster.eksCluster.name, addonName: "eks-pod-identity-agent", resolveConflictsOnUpdate: "OVERWRITE", tags },
            { parent: this, dependsOn: [systemNodes] },
        );
        const ebsCsi = podIdentity(
            `${name}-ebs-csi`,
            {
                clusterName: eksCluster.eksCluster.name,
                namespace: "kube-system",
                serviceAccount: "ebs-csi-controller-sa",
                description: `The EBS CSI driver manages ${clusterName}'s volumes`,
                managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
            },
            { parent: this, dependsOn: [podIdentityAgent] },
        );
        const ebsCsiDriver = new aws.eks.Addon(
            `${name}-ebs-csi`,
            { clusterName: eksCluster.eksCluster.name, addonName: "aws-ebs-csi-driver", resolveConflictsOnUpdate: "OVERWRITE", tags },
            { parent: this, dependsOn: [ebsCsi.association] },
        );
        return [podIdentityAgent, ebsCsiDriver];
    }

    /** The KMS key that envelope-encrypts Kubernetes Secrets, and the control plane's log group with its retention. */
    private keyAndLogs(name: string, clusterName: string, production: boolean, tags: Record<string, string>) {
        const stateful = { parent: this, protect: production };
        const secretsKey = new aws.kms.Key(
            `${name}-secrets`,
            {
                description: `Envelope encryption of ${clusterName}'s Kubernetes Secrets`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                tags,
            },
            stateful,
        );
        // EKS would create its log group without an expiry; it is created first, with one.
        const logs = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { name: `/aws/eks/${clusterName}/cluster`, retentionInDays: CONTROL_PLANE_LOG_DAYS, tags },
            { ...stateful, retainOnDelete: production },
        );
        return { secretsKey, logs };
    }

    /** The control plane's role: EKS, and the VPC resource controller that gives pods their own security groups. */
    private controlPlaneRole(name: string, clusterName: string, tags: Record<string, string>) {
        const parent = { parent: this };
        const serviceRole = new aws.iam.Role(
            `${name}-control-plane`,
            {
                description: `The EKS control plane of ${clusterName}`,
                assumeRolePolicy: serviceTrust("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]),
                tags,
            },
            parent,
        );
        const controlPlanePolicies = CONTROL_PLANE_POLICIES.map(
            (policyArn, i) =>
                new aws.iam.RolePolicyAttachment(`${name}-control-plane-${i + 1}`, { role: serviceRole.name, policyArn }, parent),
        );
        return { serviceRole, controlPlanePolicies };
    }
}

/** What the EKS control plane needs, with the VPC resource controller for security groups for pods. */
const CONTROL_PLANE_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController"];

/** What every EKS node needs: join the cluster, run the VPC CNI, pull images, be reachable by SSM (no SSH). */
const NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
];

/** An IAM role for EKS nodes: EC2 may assume it, with NODE_POLICIES and nothing else. */
export function eksNodeRole(
    name: string,
    description: string,
    tags: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
): aws.iam.Role {
    const role = new aws.iam.Role(
        name,
        {
            description,
            assumeRolePolicy: serviceTrust("ec2.amazonaws.com", "sts:AssumeRole"),
            tags,
        },
        opts,
    );
    NODE_POLICIES.forEach((policyArn, i) => new aws.iam.RolePolicyAttachment(`${name}-${i + 1}`, { role: role.name, policyArn }, opts));
    return role;
}
