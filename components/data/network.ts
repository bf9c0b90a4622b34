// AWS network rules shared by the managed data stores.
import { PlatformConfig } from "../config/schema";

/** A security-group ingress rule admitting only the EKS nodes on one TCP port. */
export function fromClusterNodes(network: NonNullable<PlatformConfig["network"]>, port: number) {
    return { protocol: "tcp", fromPort: port, toPort: port, securityGroups: [network.nodeSecurityGroupId], description: "EKS nodes" };
}
