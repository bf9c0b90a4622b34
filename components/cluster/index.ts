export { EksCluster, EksClusterArgs } from "./eksCluster";
export { Karpenter, KarpenterArgs } from "./karpenter";
export { POOL_KEY, servicesPoolPlacement } from "./nodePools";
