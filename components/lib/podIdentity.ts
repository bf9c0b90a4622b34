// EKS Pod Identity: an IAM role only one Kubernetes service account may assume, with an inline
// least-privilege policy. The pattern every AWS-reaching pod of the platform uses.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrust } from "./iam";

/** An IAM policy statement. */
export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
    Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[] | pulumi.Output<string[]>>>;
}

/** Trust policy of a role that EKS Pod Identity hands to pods (the agent tags the session). */
const POD_IDENTITY_TRUST = serviceTrust("pods.eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]);

export interface PodIdentityArgs {
    /** The EKS cluster the association is made in. */
    clusterName: pulumi.Input<string>;
    /** Namespace of the service account. */
    namespace: pulumi.Input<string>;
    /** The only service account whose pods get the role. */
    serviceAccount: pulumi.Input<string>;
    /** What the role is for (the IAM description). */
    description: string;
    /**
     * The role's own permissions (an inline policy).
     * @default none
     */
    statements?: PolicyStatement[];
    /**
     * AWS-managed policies the role gets (where AWS maintains the least-privilege set, e.g. the EBS CSI driver's).
     * @default none
     */
    managedPolicyArns?: string[];
}

/** The role, its policies and the association; returns the association (what pods wait for) and the role. */
export function podIdentity(
    name: string,
    args: PodIdentityArgs,
    opts: pulumi.CustomResourceOptions,
): { role: aws.iam.Role; association: aws.eks.PodIdentityAssociation } {
    const role = new aws.iam.Role(name, { description: args.description, assumeRolePolicy: POD_IDENTITY_TRUST }, opts);
    const policies: pulumi.Resource[] = (args.managedPolicyArns ?? []).map(
        (policyArn, i) => new aws.iam.RolePolicyAttachment(`${name}-${i + 1}`, { role: role.name, policyArn }, opts),
    );
    if (args.statements?.length)
        policies.push(
            new aws.iam.RolePolicy(
                name,
                { role: role.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: args.statements }) },
                opts,
            ),
        );
    const association = new aws.eks.PodIdentityAssociation(
        name,
        { clusterName: args.clusterName, namespace: args.namespace, serviceAccount: args.serviceAccount, roleArn: role.arn },
        { ...opts, dependsOn: [...policies, ...dependencies(opts.dependsOn)] },
    );
    return { role, association };
}

function dependencies(dependsOn: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
    if (dependsOn === undefined) return [];
    return Array.isArray(dependsOn) ? dependsOn : [dependsOn as pulumi.Input<pulumi.Resource>];
}
