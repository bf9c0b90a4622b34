// `finbot:delivery`: how the stack is deployed. A created EKS cluster answers on a private endpoint
// only, so its deploys run on a GitHub Actions runner the program creates inside the VPC (an
// AWS CodeBuild-hosted runner: ephemeral, one build per job, outside the cluster it deploys).
import { z } from "zod";
import { dnsLabel } from "./primitives";

const roleArn = z.string().regex(/^arn:aws:iam::(\d{12}|\w*REPLACE_ME\w*):role\/\S+$/, { error: "an IAM role ARN" });

export const deliverySchema = z
    .strictObject({
        runner: z
            .strictObject({
                repository: z
                    .string()
                    .regex(/^[\w.-]+\/[\w.-]+$/, { error: 'a GitHub repository as "owner/name"' })
                    .describe("The GitHub repository whose workflows the runner serves (owner/name)."),
                connectionArn: z
                    .string()
                    .regex(/^arn:aws:(codeconnections|codestar-connections):[a-z0-9-]+:(\d{12}|REPLACE_ME):connection\/[\w-]+$/, {
                        error: "the ARN of an AWS CodeConnections connection to GitHub",
                    })
                    .describe(
                        "The CodeConnections (GitHub App) connection CodeBuild reaches GitHub through: created once in the console, where GitHub's side is approved.",
                    ),
                projectName: dnsLabel(100)
                    .optional()
                    .describe(
                        "The CodeBuild project: workflows run on `codebuild-<projectName>-${{ github.run_id }}-${{ github.run_attempt }}`. @default <cluster name>-deploy",
                    ),
                computeType: z
                    .enum(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"])
                    .default("BUILD_GENERAL1_MEDIUM")
                    .describe("Size of a runner (MEDIUM: 4 vCPU, 7 GiB: a plan and pulumi up of prod)."),
                image: z
                    .string()
                    .default("aws/codebuild/amazonlinux-x86_64-standard:5.0")
                    .describe("CodeBuild's managed image the runner starts from."),
                deployRoleArn: roleArn.describe(
                    "The role deploy jobs assume by GitHub OIDC (trusted for the `production` environment only): cluster admin through an EKS access entry.",
                ),
                previewRoleArn: roleArn.describe(
                    "The read-only role preview and drift jobs assume (`production-preview`): it reads the cluster, Secrets included (Helm keeps releases there).",
                ),
            })
            .optional()
            .describe(
                "The runner in the VPC that deploys a created cluster whose API is private. Required in production when the cluster is created with no public access CIDRs.",
            ),
    })
    .prefault({});

export type DeliveryConfig = z.output<typeof deliverySchema>;
export type RunnerConfig = NonNullable<DeliveryConfig["runner"]>;

/** The CodeBuild project of a runner: its name is the label workflows run on. */
export function runnerProjectName(runner: Pick<RunnerConfig, "projectName">, clusterName: string): string {
    return runner.projectName ?? `${clusterName}-deploy`;
}
