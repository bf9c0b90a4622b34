// Security groups for pods, shared by the managed data stores (Aurora, ElastiCache).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * Pods carrying a store's client label, in each namespace that uses it, get the store's client
 * security group, which the store admits, beside the nodes' group for the rest of their traffic.
 */
export function clientSecurityGroupPolicies(
    resourceName: string,
    args: { name: string; namespaces: string[]; podLabels: Record<string, string>; groupIds: pulumi.Input<string>[] },
    opts: pulumi.CustomResourceOptions,
): void {
    for (const namespace of new Set(args.namespaces))
        new k8s.apiextensions.CustomResource(
            `${resourceName}-${namespace}`,
            {
                apiVersion: "vpcresources.k8s.aws/v1beta1",
                kind: "SecurityGroupPolicy",
                metadata: { name: args.name, namespace },
                spec: { podSelector: { matchLabels: args.podLabels }, securityGroups: { groupIds: args.groupIds } },
            },
            opts,
        );
}
