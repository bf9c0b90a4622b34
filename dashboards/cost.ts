// Live cost from OpenCost's metrics: what each namespace and service costs per month at the
// current allocation, what the nodes cost, and the idle share (paid for, requested by nobody).
import { DashboardDefinition, FOLDER, finbotDashboard, query, statPanel, tablePanel, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-cost";
export const HOURS_PER_MONTH = 730;

/** Hourly cost of what each pod is allocated (the larger of request and use), CPU and memory priced per node. */
export function allocationCost(selector = ""): string {
    const of = (metric: string) => (selector ? `${metric}{${selector}}` : metric);
    return (
        `(sum by (namespace, pod) (${of("container_cpu_allocation")} * on (node) group_left () node_cpu_hourly_cost)` +
        ` + sum by (namespace, pod) (${of("container_memory_allocation_bytes")} / 1073741824 * on (node) group_left () node_ram_hourly_cost))`
    );
}
const ALLOCATION_COST = allocationCost();
/** Hourly cost of every node. */
const NODE_COST = "sum(node_total_hourly_cost)";
/** The Deployment (service or worker) a pod belongs to, from its `<deployment>-<replicaset>-<pod>` name. */
const byService = (expr: string) => `label_replace(${expr}, "service", "$1", "pod", "(.+)-[a-z0-9]+-[a-z0-9]{5}")`;

export function cost(appsNamespace: string): DashboardDefinition {
    const monthly = (expr: string) => `(${expr}) * ${HOURS_PER_MONTH}`;
    const builder = finbotDashboard(UID, "FinBot / Cost")
        .withRow(new dashboard.RowBuilder("This month's pace"))
        .withPanel(
            statPanel(
                "Nodes per month",
                "What the cluster's nodes cost at today's prices and count, over a month (730 h).",
                "currencyUSD",
                query(monthly(NODE_COST)),
            ),
        )
        .withPanel(
            statPanel(
                "Allocated per month",
                "The share of the nodes' cost that pods are allocated (the larger of request and use), over a month.",
                "currencyUSD",
                query(monthly(`sum(${ALLOCATION_COST})`)),
            ),
        )
        .withPanel(
            statPanel(
                "Idle share",
                "Node cost no pod is allocated: room for right-sizing (npm run rightsize) or for Karpenter's consolidation.",
                "percentunit",
                query(`1 - sum(${ALLOCATION_COST}) / ${NODE_COST}`),
            ),
        )
        .withPanel(
            statPanel(
                "Spot share of nodes",
                "Share of node cost on spot capacity (the services pool buys spot first).",
                "percentunit",
                query(`sum(node_total_hourly_cost * on (node) group_left () (kubecost_node_is_spot == 1)) / ${NODE_COST}`),
            ),
        )
        .withRow(new dashboard.RowBuilder("Where it goes"))
        .withPanel(
            timeseriesPanel("Cost per namespace (USD/month)", "Allocation cost per namespace, at a monthly pace.", "currencyUSD", [
                query(monthly(`sum by (namespace) (${ALLOCATION_COST})`), "{{namespace}}"),
            ]),
        )
        .withPanel(
            timeseriesPanel(
                "Cost per service (USD/month)",
                `Allocation cost of each FinBot service and worker (namespace ${appsNamespace}), at a monthly pace.`,
                "currencyUSD",
                [query(monthly(`sum by (service) (${byService(allocationCost(`namespace="${appsNamespace}"`))})`), "{{service}}")],
            ),
        )
        .withPanel(
            tablePanel(
                "Top workloads by cost (USD/month)",
                "The ten most expensive workloads now; compare with the requested-vs-used panels of FinBot / Autoscaling.",
                query(monthly(`topk(10, sum by (namespace, service) (${byService(ALLOCATION_COST)}))`)),
            ),
        );
    return { uid: UID, title: "FinBot / Cost", folder: FOLDER, model: builder.build() };
}
