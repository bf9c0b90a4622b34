// The AWS network the managed stores, load balancers and Karpenter's nodes live in: given by
// `finbot:network` for an existing cluster, or created with the cluster (`finbot:cluster.mode: create`).
import * as pulumi from "@pulumi/pulumi";
import { dottedIpv4, ipv4 } from "../config/cidr";
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

/**
 * The private subnets of the VPC a created cluster gets (EksCluster: awsx.ec2.Vpc with subnetStrategy
 * "Auto" and the specs [Private, Public]), where the nodes run and EKS places the control plane's
 * network interfaces (the cluster's subnetIds; EKS API VpcConfigRequest: "Amazon EKS creates cross-account
 * elastic network interfaces in these subnets"). awsx 3.9's allocator (awsx/ec2/subnetDistributorNew.ts,
 * allocateSubnetCidrBlocks): each zone gets an equal block of the VPC (ceil(log2(zones)) more bits),
 * split in two per spec (one more bit), the private subnet first. 10.0.0.0/16 over three zones:
 * 10.0.0.0/19, 10.0.64.0/19, 10.0.128.0/19. Pure.
 */
export function createdPrivateSubnets(vpcCidr: string, zones: number): string[] {
    const [base, bits] = vpcCidr.split("/");
    const zoneBits = Number(bits) + Math.ceil(Math.log2(zones));
    const zoneSize = 2 ** (32 - zoneBits);
    const start = Math.floor(ipv4(base) / 2 ** (32 - Number(bits))) * 2 ** (32 - Number(bits));
    return Array.from({ length: zones }, (_, i) => `${dottedIpv4(start + i * zoneSize)}/${zoneBits + 1}`);
}
