// The Pulumi program: read and validate the stack's `finbot:` config, build the platform, export
// its outputs. Bad config stops here, before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { fromEngineConfig } from "./components/config/load";
import { keyPath, unpinnedManifests, validateConfig } from "./components/config/validate";
import { buildPlatform } from "./components/platform";

// The engine tells which config keys it holds encrypted (`pulumi config set --secret`).
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;
const result = validateConfig(fromEngineConfig(pulumi.runtime.allConfig(), pulumi.getStack(), isConfigSecret), "reject");
if (!result.ok) {
    // RunError ends the program with this message only: no stack trace, nothing registered.
    throw new pulumi.RunError(`invalid stack config:\n${result.errors.join("\n")}`);
}
// Production refuses these (above); staging applies them unverified, and says so.
for (const path of unpinnedManifests(result.config)) {
    void pulumi.log.warn(`${keyPath(path)} is not recorded: the manifest is applied unverified (npm run manifests:pin records it)`);
}

const platform = buildPlatform(result.config);
export const namespaces = platform.namespaces;
export const serviceUrls = platform.serviceUrls;
export const monitoringUrls = platform.monitoringUrls;
export const publicUrls = platform.publicUrls;
export const uiPassword = platform.uiPassword;
export const cdnDomain = platform.cdnDomain;
