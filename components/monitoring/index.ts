export * from "./monitoring";
export * from "./alertmanager";
export * from "./rules";
export * from "./slo";
export * from "./values";
export * from "./checksReceiver";
export * from "./area";
export * from "./grafanaSso";
