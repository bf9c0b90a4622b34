// What Karpenter's controller may do in AWS, and nothing more: launch and tag instances only with
// the cluster's ownership tags, terminate only what it launched, manage only its own instance
// profiles, pass only the node role, read only its interruption queue. Pure.
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement } from "../lib/podIdentity";

export interface KarpenterPolicyArgs {
    /** The EKS cluster's name: every condition names its ownership tag. */
    clusterName: string;
    /** The AWS region the cluster runs in. */
    region: pulumi.Input<string>;
    /** The AWS account id (instance profile ARNs). */
    account: pulumi.Input<string>;
    /** The interruption queue the controller reads. */
    queueArn: pulumi.Input<string>;
    /** The node role, the only one the controller may pass to EC2. */
    nodeRoleArn: pulumi.Input<string>;
}

/** The controller's statements, scoped by the `kubernetes.io/cluster/<name>: owned` tag Karpenter sets on all it creates. */
// Long: the policy document statement by statement, as IAM shows it.
export function karpenterControllerStatements(a: KarpenterPolicyArgs): PolicyStatement[] {
    const ec2 = (resource: string) => pulumi.interpolate`arn:aws:ec2:${a.region}:*:${resource}`;
    const owned = `kubernetes.io/cluster/${a.clusterName}`;
    const launched = ["fleet/*", "instance/*", "volume/*", "network-interface/*", "launch-template/*", "spot-instances-request/*"].map(ec2);
    const requestOwned = {
        [`aws:RequestTag/${owned}`]: "owned",
        "aws:RequestTag/eks:eks-cluster-name": a.clusterName,
    };
    const profile = pulumi.interpolate`arn:aws:iam::${a.account}:instance-profile/*`;
    return [
        {
            Sid: "LaunchFromSharedResources",
            Effect: "Allow",
            Action: ["ec2:RunInstances", "ec2:CreateFleet"],
            Resource: ["image/*", "snapshot/*", "security-group/*", "subnet/*", "capacity-reservation/*"].map((r) =>
                r === "image/*" || r === "snapshot/*" ? pulumi.interpolate`arn:aws:ec2:${a.region}::${r}` : ec2(r),
            ),
        },
        {
            Sid: "LaunchFromOwnTemplates",
            Effect: "Allow",
            Action: ["ec2:RunInstances", "ec2:CreateFleet"],
            Resource: [ec2("launch-template/*")],
            Condition: {
                StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" },
                StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
            },
        },
        {
            Sid: "CreateOwnedInstances",
            Effect: "Allow",
            Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            Resource: launched,
            Condition: { StringEquals: requestOwned, StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" } },
        },
        {
            Sid: "TagWhatItCreates",
            Effect: "Allow",
            Action: ["ec2:CreateTags"],
            Resource: launched,
            Condition: {
                StringEquals: { ...requestOwned, "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"] },
                StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
            },
        },
        {
            Sid: "LabelOwnInstances",
            Effect: "Allow",
            Action: ["ec2:CreateTags"],
            Resource: [ec2("instance/*")],
            Condition: {
                StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" },
                StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
                "ForAllValues:StringEquals": { "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"] },
            },
        },
        {
            Sid: "DeleteOnlyOwn",
            Effect: "Allow",
            Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            Resource: [ec2("instance/*"), ec2("launch-template/*")],
            Condition: {
                StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" },
                StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
            },
        },
        {
            Sid: "ReadTheRegion",
            Effect: "Allow",
            Action: [
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            Resource: "*",
            Condition: { StringEquals: { "aws:RequestedRegion": a.region } },
        },
        {
            Sid: "ReadAmiParameters",
            Effect: "Allow",
            Action: ["ssm:GetParameter"],
            Resource: pulumi.interpolate`arn:aws:ssm:${a.region}::parameter/aws/service/*`,
        },
        { Sid: "ReadPrices", Effect: "Allow", Action: ["pricing:GetProducts"], Resource: "*" },
        {
            Sid: "ReadInterruptions",
            Effect: "Allow",
            Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            Resource: a.queueArn,
        },
        {
            Sid: "PassNodeRole",
            Effect: "Allow",
            Action: ["iam:PassRole"],
            Resource: a.nodeRoleArn,
            Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com"] } },
        },
        {
            Sid: "CreateOwnInstanceProfiles",
            Effect: "Allow",
            Action: ["iam:CreateInstanceProfile"],
            Resource: profile,
            Condition: {
                StringEquals: { ...requestOwned, "aws:RequestTag/topology.kubernetes.io/region": a.region },
                StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
            },
        },
        {
            Sid: "ManageOwnInstanceProfiles",
            Effect: "Allow",
            Action: ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
            Resource: profile,
            Condition: {
                StringEquals: { [`aws:ResourceTag/${owned}`]: "owned", "aws:ResourceTag/topology.kubernetes.io/region": a.region },
                StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
            },
        },
        {
            // Tags only on profiles it owns, and only keeping them its own: never makes another profile "owned".
            Sid: "TagOwnInstanceProfiles",
            Effect: "Allow",
            Action: ["iam:TagInstanceProfile"],
            Resource: profile,
            Condition: {
                StringEquals: {
                    [`aws:ResourceTag/${owned}`]: "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": a.region,
                    ...requestOwned,
                    "aws:RequestTag/topology.kubernetes.io/region": a.region,
                },
                StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
            },
        },
        { Sid: "ReadInstanceProfiles", Effect: "Allow", Action: ["iam:GetInstanceProfile", "iam:ListInstanceProfiles"], Resource: profile },
        {
            Sid: "FindTheApiServer",
            Effect: "Allow",
            Action: ["eks:DescribeCluster"],
            Resource: pulumi.interpolate`arn:aws:eks:${a.region}:${a.account}:cluster/${a.clusterName}`,
        },
    ];
}

/** The EC2 events that give notice before a node goes away: Karpenter drains it in time. */
export const INTERRUPTION_EVENTS: Record<string, { source: string[]; "detail-type": string[] }> = {
    "scheduled-change": { source: ["aws.health"], "detail-type": ["AWS Health Event"] },
    "spot-interruption": { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
    rebalance: { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
    "instance-state-change": { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] },
};
