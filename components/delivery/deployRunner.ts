// The GitHub Actions runner that deploys a private cluster: an AWS CodeBuild project hosting
// ephemeral runners (one build per queued job) in the cluster's VPC. CodeBuild rather than a runner
// scale set inside the cluster: the runner must outlive what it deploys (a cluster upgrade or
// replacement, a broken CNI), it holds no standing compute, and its own identity stays out of the
// cluster. Jobs run on `codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`
// (CodeBuild's "GitHub Actions runner" webhook event WORKFLOW_JOB_QUEUED; the buildspec is ignored).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RunnerConfig, runnerProjectName } from "../config/delivery";
import { AwsNetwork } from "../lib/awsNetwork";
import { serviceTrust } from "../lib/iam";
import { runnerStatements } from "./runnerPolicy";

/** How long the runners' build logs (every deploy's output) are kept. */
const LOG_DAYS = 365;
/** EKS access policies of the two roles jobs assume by GitHub OIDC. */
const CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
/** Read everything, Secrets included (a preview reads Helm's releases, kept in Secrets); write nothing. */
const ADMIN_VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy";

export interface DeployRunnerArgs {
    /** The validated `finbot:delivery.runner`. */
    runner: RunnerConfig;
    /** The EKS cluster's name, as the config gives it (the project's default name). */
    clusterName: string;
    /** The same name as the cluster's output: the access entries wait for the cluster. */
    clusterNameOutput: pulumi.Input<string>;
    /** The cluster's VPC: the runner's network interface sits in its private subnets, and its API admits the runner. */
    network: AwsNetwork;
    /** Tags of the cluster's AWS resources. */
    tags: Record<string, string>;
}

/**
 * The CodeBuild project with its webhook, a security group that may only leave on 443, an ingress
 * rule on the cluster's security group (its private API endpoint) from that group alone, a log group,
 * a service role that can do nothing but run the build, and EKS access entries for the deploy and
 * preview roles.
 */
export class DeployRunner extends pulumi.ComponentResource {
    /** The CodeBuild project's name: the runner label of the deploy workflows. */
    public readonly projectName: string;

    constructor(name: string, args: DeployRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:delivery:DeployRunner", name, {}, opts);
        const parent = { parent: this };
        const { runner, network, tags } = args;
        this.projectName = runnerProjectName(runner, args.clusterName);
        const logs = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { name: `/aws/codebuild/${this.projectName}`, retentionInDays: LOG_DAYS, tags },
            { parent: this, retainOnDelete: true },
        );
        const securityGroup = this.securityGroup(name, args);
        const role = this.serviceRole(name, args, logs.name);
        const project = new aws.codebuild.Project(
            `${name}-project`,
            {
                name: this.projectName,
                description: `GitHub Actions runners of ${runner.repository} in ${args.clusterName}'s VPC`,
                serviceRole: role.arn,
                source: {
                    type: "GITHUB",
                    location: `https://github.com/${runner.repository}.git`,
                    auth: { type: "CODECONNECTIONS", resource: runner.connectionArn },
                },
                environment: {
                    type: "LINUX_CONTAINER",
                    computeType: runner.computeType,
                    image: runner.image,
                    imagePullCredentialsType: "CODEBUILD",
                    // No Docker daemon: a deploy needs none, and privileged mode is root on the host.
                    privilegedMode: false,
                },
                vpcConfig: { vpcId: network.vpcId, subnets: network.privateSubnetIds, securityGroupIds: [securityGroup.id] },
                artifacts: { type: "NO_ARTIFACTS" },
                logsConfig: { cloudwatchLogs: { groupName: logs.name, status: "ENABLED" } },
                // A prod deploy takes up to an hour (deploy-prod.yml's timeout); two jobs at most (preview, up).
                buildTimeout: 90,
                concurrentBuildLimit: 2,
                tags,
            },
            { parent: this, dependsOn: [role] },
        );
        new aws.codebuild.Webhook(
            `${name}-webhook`,
            {
                projectName: project.name,
                buildType: "BUILD",
                filterGroups: [{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }],
            },
            parent,
        );
        this.accessEntry(name, "deploy", runner.deployRoleArn, CLUSTER_ADMIN, args);
        this.accessEntry(name, "preview", runner.previewRoleArn, ADMIN_VIEW, args);
        this.registerOutputs({ projectName: this.projectName });
    }

    /** Leaves on 443 only (GitHub, the npm registry, the Pulumi backend, AWS APIs, the cluster's API); admits nothing. */
    private securityGroup(name: string, args: DeployRunnerArgs): aws.ec2.SecurityGroup {
        const parent = { parent: this };
        const group = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { vpcId: args.network.vpcId, description: `Deploy runners of ${args.clusterName}: out on 443 only`, tags: args.tags },
            parent,
        );
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-https-out`,
            { securityGroupId: group.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS" },
            parent,
        );
        // The cluster's private endpoint answers in the cluster security group: it admits the runners.
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-cluster-api`,
            {
                securityGroupId: args.network.nodeSecurityGroupId,
                ipProtocol: "tcp",
                fromPort: 443,
                toPort: 443,
                referencedSecurityGroupId: group.id,
                description: "Deploy runners to the Kubernetes API",
            },
            parent,
        );
        return group;
    }

    /** CodeBuild's role for the project (for this account only): the build log, the network interface, the connection. */
    private serviceRole(name: string, args: DeployRunnerArgs, logGroupName: pulumi.Input<string>): aws.iam.Role {
        const parent = { parent: this };
        const region = aws.getRegionOutput({}, parent).name;
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `CodeBuild runners of ${args.runner.repository}: no rights on what they deploy`,
                assumeRolePolicy: account.apply((id) => serviceTrust("codebuild.amazonaws.com", ["sts:AssumeRole"], id)),
                tags: args.tags,
            },
            parent,
        );
        const statements = runnerStatements({
            region,
            account,
            logGroupName,
            subnetIds: args.network.privateSubnetIds,
            connectionArn: args.runner.connectionArn,
        });
        new aws.iam.RolePolicy(
            `${name}-policy`,
            { role: role.name, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
            parent,
        );
        return role;
    }

    /** An EKS access entry of a role jobs assume, with its one access policy over the whole cluster. */
    private accessEntry(name: string, job: string, principalArn: string, policyArn: string, args: DeployRunnerArgs): void {
        const entry = new aws.eks.AccessEntry(
            `${name}-${job}-access`,
            { clusterName: args.clusterNameOutput, principalArn, type: "STANDARD", tags: args.tags },
            { parent: this },
        );
        new aws.eks.AccessPolicyAssociation(
            `${name}-${job}-access-policy`,
            { clusterName: args.clusterNameOutput, principalArn, policyArn, accessScope: { type: "cluster" } },
            { parent: this, dependsOn: [entry] },
        );
    }
}
