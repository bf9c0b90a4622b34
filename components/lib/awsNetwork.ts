// The AWS network the managed stores, load balancers and Karpenter's nodes live in: given by
// `finbot:network` for an existing cluster, or created with the cluster (`finbot:cluster.mode: create`).
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config/cluster";

/** The network's ids (known only after deployment when the stack creates them) and its known facts. */
export interface AwsNetwork {
    vpcId: pulumi.Input<string>;
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** The nodes' security group: the only one the data stores admit besides their clients'. */
    nodeSecurityGroupId: pulumi.Input<string>;
    vpcCidr: string;
    availabilityZones: string[];
}

/** What the config says of the network before anything is deployed: its CIDR and zones. */
export interface NetworkFacts {
    vpcCidr: string;
    availabilityZones: string[];
}

/** The network facts of a config: `finbot:network`'s, or those of the VPC a created cluster gets. */
export function networkFacts(config: {
    network?: NetworkFacts;
    cluster?: Pick<ClusterConfig, "mode" | "vpcCidr" | "availabilityZones">;
}): NetworkFacts | undefined {
    if (config.network) return { vpcCidr: config.network.vpcCidr, availabilityZones: config.network.availabilityZones };
    const c = config.cluster;
    if (c?.mode === "create" && c.availabilityZones) return { vpcCidr: c.vpcCidr, availabilityZones: c.availabilityZones };
    return undefined;
}
