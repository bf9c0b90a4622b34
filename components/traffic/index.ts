export * from "./capacity";
export * from "./cdn";
export * from "./cost";
export * from "./loadTest";
export * from "./pageChecks";
export * from "./routes";
export * from "./traffic";
export * from "./controllers";
