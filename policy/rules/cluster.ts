// Rules for the cluster and its nodes: a created EKS cluster keeps its API off the open internet,
// encrypts Secrets and logs every control-plane call; Karpenter's nodes take IMDSv2 only on
// encrypted volumes, and every pool it grows is bounded.
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { ofType } from "./support";

const REQUIRED_LOGS = ["api", "audit", "authenticator"];

export const eksClusterHardened: ResourceValidationPolicy = {
    name: "eks-cluster-hardened",
    description:
        "A created EKS cluster answers the internet only from listed CIDRs (never 0.0.0.0/0), encrypts Secrets with KMS, logs api, audit and authenticator, uses access entries, and has deletion protection.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== "eks:index:Cluster") return;
        const p = args.props;
        const cidrs: string[] = p.publicAccessCidrs ?? [];
        if (p.endpointPublicAccess !== false && (cidrs.length === 0 || cidrs.includes("0.0.0.0/0")))
            report("the API endpoint answers the whole internet (set endpointPublicAccess false or list publicAccessCidrs)");
        if (!p.encryptionConfigKeyArn) report("Kubernetes Secrets are not envelope-encrypted with a KMS key");
        const logs: string[] = p.enabledClusterLogTypes ?? [];
        const missing = REQUIRED_LOGS.filter((l) => !logs.includes(l));
        if (missing.length > 0) report(`control-plane logs missing: ${missing.join(", ")}`);
        if (p.authenticationMode !== "API") report("authentication mode is not API (access entries): the aws-auth ConfigMap is deprecated");
        if (p.deletionProtection !== true) report("the cluster has no deletion protection");
    },
};

export const eksNetworkPolicyEnforced: ResourceValidationPolicy = {
    name: "eks-network-policy-enforced",
    description:
        "A created EKS cluster's VPC CNI runs its network policy agent (enableNetworkPolicy): without it every NetworkPolicy the platform writes is inert.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== "eks:index:Cluster") return;
        if (args.props.vpcCniOptions?.enableNetworkPolicy !== true)
            report(
                "the VPC CNI does not enforce NetworkPolicy (vpcCniOptions.enableNetworkPolicy is not true): every default-deny is inert",
            );
    },
};

export const eksLogsRetained: StackValidationPolicy = {
    name: "eks-logs-retained",
    description:
        "A created EKS cluster's control-plane log group (/aws/eks/<name>/cluster, the audit log) is the program's, with a retention of at least a year.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const groups = ofType(args.resources, "aws:cloudwatch/logGroup:LogGroup");
        for (const eks of ofType(args.resources, "eks:index:Cluster")) {
            const name = `/aws/eks/${eks.props.name}/cluster`;
            const group = groups.find((g) => g.props.name === name);
            if (!group) report(`cluster ${eks.props.name}: EKS would create ${name} itself, kept forever and unmanaged`);
            else if (!(Number(group.props.retentionInDays) >= 365))
                report(`${name} keeps logs ${group.props.retentionInDays ?? "forever"} days, not a year`);
        }
    },
};

export const karpenterNodesHardened: ResourceValidationPolicy = {
    name: "karpenter-nodes-hardened",
    description:
        "Karpenter's nodes require IMDSv2 with a hop limit of 1 (pods cannot reach the node's role) and declare every volume, encrypted.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass") return;
        const spec = args.props.spec ?? {};
        const metadata = spec.metadataOptions ?? {};
        if (metadata.httpTokens !== "required") report("IMDSv1 is allowed (metadataOptions.httpTokens is not required)");
        if (metadata.httpPutResponseHopLimit !== 1) report("pods can reach the instance metadata (httpPutResponseHopLimit is not 1)");
        if (!(spec.blockDeviceMappings ?? []).length)
            report("no blockDeviceMappings: the AMI's defaults decide whether volumes are encrypted");
        for (const device of spec.blockDeviceMappings ?? [])
            if (device.ebs?.encrypted !== true) report(`volume ${device.deviceName ?? "?"} is not encrypted`);
    },
};

export const karpenterPoolsBounded: StackValidationPolicy = {
    name: "karpenter-pools-bounded",
    description: "Every Karpenter NodePool has CPU and memory limits and a disruption budget: no runaway growth, no mass eviction.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const pool of ofType(args.resources, "kubernetes:karpenter.sh/v1:NodePool")) {
            const spec = pool.props.spec ?? {};
            const name = pool.props.metadata?.name ?? pool.name;
            if (!spec.limits?.cpu || !spec.limits?.memory) report(`NodePool ${name} has no CPU and memory limits`);
            if (!(spec.disruption?.budgets ?? []).length) report(`NodePool ${name} has no disruption budget`);
        }
    },
};
