// Every rule of the pack, listed by name so adding a rule is a reviewed line here; policy/index.ts
// only constructs the pack.
import type { Policies } from "@pulumi/policy";
import * as aws from "./aws";
import * as kubernetes from "./kubernetes";

export { aws, kubernetes };

export const allPolicies: Policies = [
    kubernetes.containerResources,
    kubernetes.probes,
    kubernetes.nonRoot,
    kubernetes.noPrivilegeEscalation,
    kubernetes.readOnlyRootFilesystem,
    kubernetes.noLatestImages,
    kubernetes.noSecretsInConfigMaps,
    kubernetes.noSecretsInPlainEnv,
    kubernetes.elasticsearchSecurity,
    kubernetes.helmPinned,
    kubernetes.autoscaledDeployments,
    kubernetes.disruptionBudgets,
    kubernetes.dataNetworkPolicies,
    aws.rdsEncrypted,
    aws.rdsNotPublic,
    aws.rdsMultiAz,
    aws.rdsBackups,
    aws.rdsDeletionProtection,
    aws.rdsMonitoring,
    aws.rdsProxyTls,
    aws.elasticacheEncryption,
    aws.elasticacheHighAvailability,
    aws.noPublicIngress,
    aws.iamNoWildcards,
    aws.secretsRecoveryWindow,
    aws.cloudfrontHttps,
    aws.s3Private,
];
