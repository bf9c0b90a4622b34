// The Pulumi program: read and validate the stack's `finbot:` config, build the platform,
// export its outputs. Bad config stops here, before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { fromEngineConfig } from "./components/config/load";
import { validateConfig } from "./components/config/validate";
import { buildPlatform } from "./components/platform";

const result = validateConfig(fromEngineConfig(pulumi.runtime.allConfig(), pulumi.getStack()), "reject");
if (!result.ok) {
    // RunError ends the program with this message only: no stack trace, nothing registered.
    throw new pulumi.RunError(`invalid stack config:\n${result.errors.join("\n")}`);
}

const platform = buildPlatform(result.config);
export const namespaces = platform.namespaces;
export const serviceUrls = platform.serviceUrls;
export const monitoringUrls = platform.monitoringUrls;
export const publicUrls = platform.publicUrls;
export const uiPassword = platform.uiPassword;
export const cdnDomain = platform.cdnDomain;
