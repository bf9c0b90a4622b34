// Every rule of the pack, in importable modules; policy/index.ts only constructs the pack.
import type { Policies } from "@pulumi/policy";
import * as aws from "./aws";
import * as kubernetes from "./kubernetes";

export { aws, kubernetes };

export const allPolicies: Policies = [...Object.values(kubernetes), ...Object.values(aws)];
