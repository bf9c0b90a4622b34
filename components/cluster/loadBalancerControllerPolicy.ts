// What the AWS Load Balancer Controller may do, and nothing more: create load balancers, target
// groups and security groups only with its cluster tag, change and delete only what carries it,
// register targets, and read what IAM cannot scope. Pure.
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement } from "../lib/podIdentity";

/** The tag the controller puts on everything it creates. */
const CLUSTER_TAG = "elbv2.k8s.aws/cluster";

// Long: the policy document statement by statement, as IAM shows it.
export function loadBalancerControllerStatements(a: {
    region: pulumi.Input<string>;
    account: pulumi.Input<string>;
    /** The cluster's VPC: the only one whose security groups it may open. */
    vpcId: pulumi.Input<string>;
    /** The nodes' security group: the one group not its own whose rules admit its load balancers. */
    nodeSecurityGroupId: pulumi.Input<string>;
}): PolicyStatement[] {
    const elb = (resource: string) => pulumi.interpolate`arn:aws:elasticloadbalancing:${a.region}:${a.account}:${resource}`;
    const securityGroups = pulumi.interpolate`arn:aws:ec2:${a.region}:${a.account}:security-group/*`;
    const balancers = [elb("loadbalancer/net/*/*"), elb("loadbalancer/app/*/*"), elb("targetgroup/*/*")];
    const tagged = { Null: { [`aws:ResourceTag/${CLUSTER_TAG}`]: "false" } };
    return [
        {
            Sid: "ServiceLinkedRole",
            Effect: "Allow",
            Action: ["iam:CreateServiceLinkedRole"],
            Resource: pulumi.interpolate`arn:aws:iam::${a.account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`,
            Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
        },
        {
            Sid: "ReadTheRegion",
            Effect: "Allow",
            Action: [
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInstances",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeTags",
                "ec2:DescribeVpcs",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            Resource: "*",
        },
        {
            Sid: "CreateOwnSecurityGroups",
            Effect: "Allow",
            Action: ["ec2:CreateSecurityGroup"],
            Resource: [securityGroups, pulumi.interpolate`arn:aws:ec2:${a.region}:${a.account}:vpc/*`],
        },
        {
            // Tags only as it creates a group, carrying the cluster tag: never on another group.
            Sid: "TagSecurityGroupsAsCreated",
            Effect: "Allow",
            Action: ["ec2:CreateTags"],
            Resource: securityGroups,
            Condition: {
                StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
                Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "false" },
            },
        },
        {
            // The groups it created (its tag), in the cluster's VPC: never Aurora's, the cache's or another group.
            Sid: "OpenOwnSecurityGroups",
            Effect: "Allow",
            Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            Resource: securityGroups,
            Condition: {
                ...tagged,
                ArnEquals: { "ec2:Vpc": pulumi.interpolate`arn:aws:ec2:${a.region}:${a.account}:vpc/${a.vpcId}` },
            },
        },
        {
            // The nodes' rules that admit its load balancers to the proxies' pods.
            Sid: "AdmitLoadBalancersToNodes",
            Effect: "Allow",
            Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            Resource: pulumi.interpolate`arn:aws:ec2:${a.region}:${a.account}:security-group/${a.nodeSecurityGroupId}`,
        },
        {
            Sid: "DeleteOwnSecurityGroups",
            Effect: "Allow",
            Action: ["ec2:DeleteSecurityGroup"],
            Resource: securityGroups,
            Condition: tagged,
        },
        {
            Sid: "CreateTaggedLoadBalancers",
            Effect: "Allow",
            Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            Resource: balancers,
            Condition: { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "false" } },
        },
        {
            // Tags as it creates a load balancer or target group; afterwards only on its own (below).
            Sid: "TagLoadBalancersAsCreated",
            Effect: "Allow",
            Action: ["elasticloadbalancing:AddTags"],
            Resource: balancers,
            Condition: {
                StringEquals: { "elasticloadbalancing:CreateAction": ["CreateLoadBalancer", "CreateTargetGroup"] },
                Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "false" },
            },
        },
        {
            Sid: "ChangeOwnLoadBalancers",
            Effect: "Allow",
            Action: [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
            ],
            Resource: balancers,
            Condition: tagged,
        },
        {
            Sid: "ListenersOfOwnLoadBalancers",
            Effect: "Allow",
            Action: [
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
            ],
            Resource: [elb("loadbalancer/net/*/*"), elb("listener/net/*/*/*")],
        },
        {
            Sid: "RegisterTargets",
            Effect: "Allow",
            Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            Resource: elb("targetgroup/*/*"),
        },
    ];
}
