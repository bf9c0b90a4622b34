export { DeployRunner, DeployRunnerArgs } from "./deployRunner";
