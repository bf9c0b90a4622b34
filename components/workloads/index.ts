export * from "./autoscaledService";
export * from "./autoscaling";
export * from "./queueWorker";
export * from "./spec";
