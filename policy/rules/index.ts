// Every rule of the pack, listed by name so adding a rule is a reviewed line here; policy/index.ts
// only constructs the pack.
import type { Policies } from "@pulumi/policy";
import * as aws from "./aws";
import * as cluster from "./cluster";
import * as isolation from "./isolation";
import * as kubernetes from "./kubernetes";

export { aws, cluster, isolation, kubernetes };

export const allPolicies: Policies = [
    kubernetes.containerResources,
    kubernetes.probes,
    kubernetes.scrapeObjectsLimited,
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
    isolation.defaultDenyPerNamespace,
    isolation.podSecurityLabels,
    isolation.privateOperatorUis,
    isolation.noBasicAuthInProduction,
    isolation.noAdminForApps,
    isolation.rabbitmqTlsOnly,
    isolation.apmAnonymousRumOnly,
    isolation.publicIntakeRateLimited,
    isolation.grafanaNoAnonymous,
    isolation.priorityClassEverywhere,
    cluster.eksClusterHardened,
    cluster.eksNetworkPolicyEnforced,
    cluster.eksLogsRetained,
    cluster.karpenterNodesHardened,
    cluster.karpenterPoolsBounded,
    aws.rdsEncrypted,
    aws.rdsNotPublic,
    aws.rdsMultiAz,
    aws.rdsBackups,
    aws.rdsDeletionProtection,
    aws.rdsMasterPasswordManaged,
    aws.rdsMonitoring,
    aws.rdsProxyTls,
    aws.elasticacheEncryption,
    aws.elasticacheHighAvailability,
    aws.noPublicIngress,
    aws.noPublicIngressRules,
    aws.iamNoWildcards,
    aws.iamTaggingScoped,
    aws.iamNoAdmin,
    aws.codebuildRunnerPrivate,
    aws.podIdentityTrustScoped,
    aws.route53ChangesScoped,
    aws.secretsRecoveryWindow,
    aws.cloudfrontHttps,
    aws.cloudfrontEdge,
    aws.s3Private,
    aws.s3TlsOnly,
    aws.backupVaultsLocked,
];
