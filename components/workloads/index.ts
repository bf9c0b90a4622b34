export * from "./autoscaledService";
export * from "./spec";
