// EKS Pod Identity: an IAM role only one Kubernetes service account may assume, with an inline
// least-privilege policy. The pattern every AWS-reaching pod of the platform uses.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** An IAM policy statement. */
export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
    Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[] | pulumi.Output<string[]>>>;
}

/**
 * Trust policy of a role that EKS Pod Identity hands to pods: only to the one service account, in
 * its namespace, of the one cluster. The agent tags every session with them (EKS user guide,
 * pod-id-role: "use these tags in the condition keys in the trust policy to restrict which service
 * accounts, namespaces, and clusters can use this role"); without the conditions, an association
 * made for any pod of any cluster in the account could take the role.
 */
export function podIdentityTrust(a: Pick<PodIdentityArgs, "clusterName" | "namespace" | "serviceAccount">): pulumi.Output<string> {
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: "pods.eks.amazonaws.com" },
                Action: ["sts:AssumeRole", "sts:TagSession"],
                Condition: {
                    StringEquals: {
                        "aws:RequestTag/eks-cluster-name": a.clusterName,
                        "aws:RequestTag/kubernetes-namespace": a.namespace,
                        "aws:RequestTag/kubernetes-service-account": a.serviceAccount,
                    },
                },
            },
        ],
    });
}

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
    const role = new aws.iam.Role(name, { description: args.description, assumeRolePolicy: podIdentityTrust(args) }, opts);
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
