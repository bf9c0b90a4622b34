import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./rules";

new PolicyPack("finbot-platform", { policies: allPolicies });
