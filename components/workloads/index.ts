import { FlowContext } from "../lib/flowContext";
import { appsFlows, autoscalingFlows } from "./flows";
export * from "./autoscaledService";
export * from "./autoscaling";
export * from "./queueWorker";
export * from "./spec";

/** What the workloads give the platform: the flows of FinBot's namespace and the autoscaling namespace (their rules are monitoring's SLOs). */
export const workloadsArea = {
    name: "workloads",
    flows: (context: FlowContext) => [...appsFlows(context), ...autoscalingFlows(context)],
    ruleGroups: () => [],
    dashboards: () => [],
};
