// What the deploy runner's own CodeBuild role may do, and nothing more: write its build log, attach
// its network interface in the runner's subnets (CodeBuild's documented VPC statements, scoped), and
// read the GitHub connection's token (CodeBuild guide, connections-github-app.html: GetConnection,
// GetConnectionToken). It holds no right on what it deploys: the jobs assume the deploy or preview
// role by GitHub OIDC, which only main's production environments get. A job can read these
// container credentials (configure-aws-credentials' README: CodeBuild runners expose them), so they
// must stay this small. Pure.
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement } from "../lib/podIdentity";

// Long: the policy document statement by statement, as IAM shows it.
export function runnerStatements(a: {
    region: pulumi.Input<string>;
    account: pulumi.Input<string>;
    logGroupName: pulumi.Input<string>;
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    connectionArn: string;
}): PolicyStatement[] {
    const ec2 = (resource: string) => pulumi.interpolate`arn:aws:ec2:${a.region}:${a.account}:${resource}`;
    const subnets = pulumi.output(a.subnetIds).apply((ids) => ids.map((id) => `arn:aws:ec2:*:*:subnet/${id}`));
    const connectionService = a.connectionArn.split(":")[2];
    return [
        {
            Sid: "BuildLog",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`arn:aws:logs:${a.region}:${a.account}:log-group:${a.logGroupName}:*`,
        },
        {
            Sid: "ReadTheVpc",
            Effect: "Allow",
            Action: [
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ],
            Resource: "*",
        },
        {
            Sid: "RunnerNetworkInterface",
            Effect: "Allow",
            Action: ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            Resource: [ec2("network-interface/*"), ec2("subnet/*"), ec2("security-group/*")],
        },
        {
            Sid: "AttachInTheRunnerSubnets",
            Effect: "Allow",
            Action: ["ec2:CreateNetworkInterfacePermission"],
            Resource: ec2("network-interface/*"),
            Condition: {
                StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" },
                ArnEquals: { "ec2:Subnet": subnets },
            },
        },
        {
            Sid: "GitHubConnection",
            Effect: "Allow",
            Action: [`${connectionService}:GetConnection`, `${connectionService}:GetConnectionToken`],
            Resource: a.connectionArn,
        },
    ];
}
