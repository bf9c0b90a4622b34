// Karpenter's NodePools and EC2NodeClass as data: which pods land where, how nodes are bought,
// how far each pool may grow and how it may be disrupted. Pure, so tests read the decisions.
import { ClusterConfig } from "../config/cluster";
import { PoolName } from "../config/capacity";

/** The AWS tags of everything the cluster's stack creates for it. */
export const clusterTags = (clusterName: string) => ({ "finbot.io/cluster": clusterName, "app.kubernetes.io/part-of": "finbot" });

/** Node label and taint key of the pools: FinBot's services and workers tolerate and select `services`. */
export const POOL_KEY = "finbot.io/pool";
/** The node class every pool launches from. */
export const NODE_CLASS = "finbot";
/** Label of the managed system node group (Karpenter itself and cluster add-ons). */
export const SYSTEM_NODES = { "finbot.io/node-group": "system" } as const;
export const SYSTEM_TAINT = { key: "CriticalAddonsOnly", value: "true" } as const;

/** Scheduling that puts a FinBot service or worker on the services pool (nothing else tolerates its taint). */
export function servicesPoolPlacement(): { nodeSelector: Record<string, string>; tolerations: Array<Record<string, string>> } {
    return {
        nodeSelector: { [POOL_KEY]: "services" },
        tolerations: [{ key: POOL_KEY, operator: "Equal", value: "services", effect: "NoSchedule" }],
    };
}

/**
 * The two pools. `platform`: on-demand only, consolidated only when a node is empty and never in
 * business hours, so the data tier's pods stay put. `services`: spot first with on-demand
 * fallback, consolidated when underutilized, a tenth of its nodes at a time.
 */
export function nodePoolSpecs(cluster: ClusterConfig, zones: string[]): Record<PoolName, Record<string, unknown>> {
    const requirements = (pool: ClusterConfig["platformPool"], capacityTypes: string[]) => [
        { key: "karpenter.sh/capacity-type", operator: "In", values: capacityTypes },
        { key: "karpenter.k8s.aws/instance-category", operator: "In", values: pool.instanceCategories },
        { key: "karpenter.k8s.aws/instance-generation", operator: "Gt", values: ["5"] },
        { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
        { key: "topology.kubernetes.io/zone", operator: "In", values: zones },
    ];
    const limits = (pool: ClusterConfig["platformPool"]) => ({ cpu: String(pool.cpuLimit), memory: `${pool.memoryLimitGi}Gi` });
    const nodeClassRef = { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: NODE_CLASS };
    return {
        platform: {
            template: {
                metadata: { labels: { [POOL_KEY]: "platform" } },
                spec: {
                    nodeClassRef,
                    requirements: requirements(cluster.platformPool, ["on-demand"]),
                    // Nodes are replaced (new AMI, patches) within a month; drained over at most two days.
                    expireAfter: "720h",
                    terminationGracePeriod: "48h",
                },
            },
            disruption: {
                consolidationPolicy: "WhenEmpty",
                consolidateAfter: "30m",
                budgets: [
                    { nodes: "1" },
                    // No voluntary disruption on weekdays 06:00–20:00 UTC, when payments peak.
                    { nodes: "0", schedule: "0 6 * * mon-fri", duration: "14h" },
                ],
            },
            limits: limits(cluster.platformPool),
            weight: 10,
        },
        services: {
            template: {
                metadata: { labels: { [POOL_KEY]: "services" } },
                spec: {
                    nodeClassRef,
                    requirements: requirements(cluster.servicesPool, ["spot", "on-demand"]),
                    taints: [{ key: POOL_KEY, value: "services", effect: "NoSchedule" }],
                    expireAfter: "168h",
                },
            },
            disruption: {
                consolidationPolicy: "WhenEmptyOrUnderutilized",
                consolidateAfter: "5m",
                budgets: [{ nodes: "10%" }],
            },
            limits: limits(cluster.servicesPool),
            weight: 10,
        },
    };
}

/** The EC2NodeClass: IMDSv2 only (no hop for pods), encrypted gp3 root volumes, the cluster's subnets and nodes' security group. */
export function nodeClassSpec(args: {
    cluster: ClusterConfig;
    clusterName: string;
    nodeRole: string;
    subnetIds: string[];
    securityGroupId: string;
}): Record<string, unknown> {
    return {
        role: args.nodeRole,
        amiSelectorTerms: [{ alias: args.cluster.amiAlias }],
        subnetSelectorTerms: args.subnetIds.map((id) => ({ id })),
        securityGroupSelectorTerms: [{ id: args.securityGroupId }],
        metadataOptions: { httpEndpoint: "enabled", httpProtocolIPv6: "disabled", httpPutResponseHopLimit: 1, httpTokens: "required" },
        blockDeviceMappings: [
            {
                deviceName: "/dev/xvda",
                ebs: { volumeSize: "100Gi", volumeType: "gp3", encrypted: true, deleteOnTermination: true },
            },
        ],
        tags: clusterTags(args.clusterName),
    };
}
