export * from "./autoscaledService";
export * from "./queueWorker";
export * from "./spec";
