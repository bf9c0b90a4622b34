export { EksCluster, EksClusterArgs } from "./eksCluster";
export { Karpenter, KarpenterArgs } from "./karpenter";
export { LoadBalancerController, LoadBalancerControllerArgs } from "./loadBalancerController";
export { servicesPoolPlacement } from "./nodePools";
