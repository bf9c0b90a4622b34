// Rules for the AWS resource types the project creates: the checks AWSGuard makes for them, and
// FinBot's production requirements.
import * as aws from "@pulumi/aws";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { CONFIG_SCHEMA, isProduction, ofType } from "./support";

export const rdsEncrypted: ResourceValidationPolicy = {
    name: "rds-storage-encrypted",
    description: "Aurora storage is encrypted at rest.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.rds.Cluster, (props, _, report) => {
        if (props.storageEncrypted !== true) report("Aurora cluster storage is not encrypted");
    }),
};

export const rdsNotPublic: ResourceValidationPolicy = {
    name: "rds-not-publicly-accessible",
    description: "Aurora instances are not publicly accessible.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.rds.ClusterInstance, (props, _, report) => {
        if (props.publiclyAccessible === true) report("Aurora instance is publicly accessible");
    }),
};

export const rdsMultiAz: StackValidationPolicy = {
    name: "rds-multi-az",
    description: "In production every Aurora cluster has instances in at least two availability zones (a reader to fail over to).",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, report) => {
        if (!isProduction(args)) return;
        const zones = new Map<string, Set<string>>();
        for (const i of ofType(args.resources, "aws:rds/clusterInstance:ClusterInstance")) {
            const cluster = String(i.props.clusterIdentifier ?? "?");
            zones.set(cluster, new Set([...(zones.get(cluster) ?? []), String(i.props.availabilityZone ?? "?")]));
        }
        for (const c of ofType(args.resources, "aws:rds/cluster:Cluster")) {
            const count = zones.get(String(c.props.clusterIdentifier))?.size ?? 0;
            if (count < 2) report(`Aurora cluster ${c.props.clusterIdentifier ?? c.name} has instances in ${count} zone(s)`);
        }
    },
};

export const rdsBackups: ResourceValidationPolicy = {
    name: "rds-backup-retention",
    description: "Aurora keeps automated backups (point-in-time recovery) for at least 7 days; 14 in production.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: validateResourceOfType(aws.rds.Cluster, (props, args, report) => {
        const days = Number(props.backupRetentionPeriod ?? 1);
        const minimum = isProduction(args) ? 14 : 7;
        if (!(days >= minimum)) report(`backup retention ${days} days is under ${minimum}`);
    }),
};

export const rdsDeletionProtection: ResourceValidationPolicy = {
    name: "rds-deletion-protection",
    description: "In production Aurora clusters have deletion protection and keep a final snapshot.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: validateResourceOfType(aws.rds.Cluster, (props, args, report) => {
        if (!isProduction(args)) return;
        if (props.deletionProtection !== true) report("Aurora cluster has no deletion protection");
        if (props.skipFinalSnapshot === true) report("Aurora cluster skips its final snapshot");
    }),
};

export const rdsMasterPasswordManaged: ResourceValidationPolicy = {
    name: "rds-master-password-managed",
    description: "The Aurora master password is managed (and rotated) by RDS in Secrets Manager: never in the program or its state.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.rds.Cluster, (props, _, report) => {
        if (props.manageMasterUserPassword !== true || props.masterPassword !== undefined)
            report("the master password is set by the program instead of managed by RDS");
    }),
};

export const rdsMonitoring: ResourceValidationPolicy = {
    name: "rds-performance-insights-and-enhanced-monitoring",
    description: "Aurora instances have Performance Insights and enhanced monitoring.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(aws.rds.ClusterInstance, (props, _, report) => {
        if (props.performanceInsightsEnabled !== true) report("Performance Insights is off");
        if (!(Number(props.monitoringInterval ?? 0) > 0)) report("enhanced monitoring is off");
    }),
};

export const rdsProxyTls: ResourceValidationPolicy = {
    name: "rds-proxy-requires-tls",
    description: "RDS Proxy accepts TLS connections only.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.rds.Proxy, (props, _, report) => {
        if (props.requireTls !== true) report("RDS Proxy does not require TLS");
    }),
};

export const elasticacheEncryption: ResourceValidationPolicy = {
    name: "elasticache-encryption-and-auth",
    description: "ElastiCache encrypts in transit and at rest and requires authentication (RBAC user groups or an auth token).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.elasticache.ReplicationGroup, (props, _, report) => {
        if (props.transitEncryptionEnabled !== true) report("in-transit encryption is off");
        if (props.atRestEncryptionEnabled !== true) report("at-rest encryption is off");
        const userGroups = Array.isArray(props.userGroupIds) ? props.userGroupIds : [];
        if (!props.authToken && userGroups.length === 0) report("no user group or auth token: the cache accepts unauthenticated clients");
    }),
};

export const elasticacheHighAvailability: ResourceValidationPolicy = {
    name: "elasticache-multi-az-failover",
    description: "In production ElastiCache is Multi-AZ with automatic failover.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: validateResourceOfType(aws.elasticache.ReplicationGroup, (props, args, report) => {
        if (isProduction(args) && (props.multiAzEnabled !== true || props.automaticFailoverEnabled !== true))
            report("not Multi-AZ with automatic failover");
    }),
};

export const noPublicIngress: ResourceValidationPolicy = {
    name: "security-group-no-public-ingress",
    description: "Security groups admit no traffic from 0.0.0.0/0 or ::/0 (databases and caches admit only the nodes).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.SecurityGroup, (props, _, report) => {
        for (const rule of (props.ingress ?? []) as aws.types.input.ec2.SecurityGroupIngress[]) {
            if (((rule.cidrBlocks ?? []) as string[]).includes("0.0.0.0/0") || ((rule.ipv6CidrBlocks ?? []) as string[]).includes("::/0"))
                report(`ingress on ${rule.fromPort}-${rule.toPort} is open to the internet`);
        }
    }),
};

const OPEN = ["0.0.0.0/0", "::/0"];

export const noPublicIngressRules: ResourceValidationPolicy = {
    name: "security-group-rules-no-public-ingress",
    description: "Standalone ingress rules (SecurityGroupIngressRule, SecurityGroupRule) admit no traffic from 0.0.0.0/0 or ::/0.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.vpc.SecurityGroupIngressRule, (props, _, report) => {
            if (OPEN.includes(String(props.cidrIpv4)) || OPEN.includes(String(props.cidrIpv6)))
                report(`ingress on ${props.fromPort}-${props.toPort} is open to the internet`);
        }),
        validateResourceOfType(aws.ec2.SecurityGroupRule, (props, _, report) => {
            const cidrs = [...((props.cidrBlocks ?? []) as string[]), ...((props.ipv6CidrBlocks ?? []) as string[])];
            if (props.type === "ingress" && cidrs.some((c) => OPEN.includes(c)))
                report(`ingress on ${props.fromPort}-${props.toPort} is open to the internet`);
        }),
    ],
};

/** Managed policies that give a role (nearly) everything. */
const ADMIN_POLICIES = /:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$/;

export const iamNoAdmin: ResourceValidationPolicy = {
    name: "iam-no-admin-policies",
    description:
        "No role, user or group gets AdministratorAccess, PowerUserAccess or IAMFullAccess, and no managed policy allows everything.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.iam.RolePolicyAttachment, (props, _, report) => {
            if (ADMIN_POLICIES.test(String(props.policyArn))) report(`attaches ${props.policyArn}`);
        }),
        validateResourceOfType(aws.iam.PolicyAttachment, (props, _, report) => {
            if (ADMIN_POLICIES.test(String(props.policyArn))) report(`attaches ${props.policyArn}`);
        }),
        validateResourceOfType(aws.iam.Policy, (props, _, report) => {
            for (const problem of wildcardProblems(props.policy)) report(problem);
        }),
    ],
};

/** Read-only actions IAM cannot scope to a resource: `*` is their only Resource (EC2's and ELB's Describe calls, the price list). */
const UNSCOPED_READS = /^(ec2:Describe[A-Za-z]+|elasticloadbalancing:Describe[A-Za-z]+|pricing:GetProducts)$/;

interface Statement {
    Sid?: string;
    Effect?: string;
    Action?: unknown;
    Resource?: unknown;
    Condition?: unknown;
}

/** The statements of an IAM or bucket policy document (a JSON string; anything else has none). */
const statementsOf = (policy: unknown): Statement[] =>
    typeof policy === "string" ? ([].concat(JSON.parse(policy).Statement ?? []) as Statement[]) : [];

/** The Allow statements of a policy document. */
const allowStatements = (policy: unknown): Statement[] => statementsOf(policy).filter((s) => s.Effect === "Allow");

/** A statement's field that may be one string or a list of them, as a list. */
const listOf = (value: unknown): string[] => [].concat(value as never);

/** Runs `problemsOf` on the document of every inline role policy, reporting each problem. */
const validateRolePolicies = (problemsOf: (policy: unknown) => string[]) =>
    validateResourceOfType(aws.iam.RolePolicy, (props, _, report) => {
        for (const problem of problemsOf(props.policy)) report(problem);
    });

/** What an IAM policy document allows too broadly: every action, or every resource. */
function wildcardProblems(policy: unknown): string[] {
    const problems: string[] = [];
    for (const s of allowStatements(policy)) {
        const actions = listOf(s.Action);
        if (actions.some((a) => a === "*" || a.endsWith(":*"))) problems.push("a statement allows every action");
        if (listOf(s.Resource).some((r) => r === "*") && !actions.every((a) => UNSCOPED_READS.test(a)))
            problems.push("a statement applies to every resource");
    }
    return problems;
}

export const iamNoWildcards: ResourceValidationPolicy = {
    name: "iam-no-wildcard-actions",
    description:
        "Inline IAM policies grant named actions on named resources, never `*` (but for reads IAM cannot scope: EC2 and ELB Describe*, pricing).",
    enforcementLevel: "mandatory",
    validateResource: validateRolePolicies(wildcardProblems),
};

/** Actions that write tags, which other statements of a policy trust to mean "owned". */
const TAG_WRITES = /^(ec2:CreateTags|iam:Tag[A-Za-z]+|elasticloadbalancing:AddTags)$/;

/**
 * Statements that may write tags on anything: a tag write must be tied to creating the resource
 * (`...:CreateAction`) or to a resource already carrying a tag (`aws:ResourceTag/...`); otherwise
 * a role scoped by tags can tag any resource as its own, then delete it.
 */
function unscopedTagWrites(policy: unknown): string[] {
    return allowStatements(policy)
        .filter((s) => listOf(s.Action).some((a) => TAG_WRITES.test(a)))
        .filter((s) => {
            const keys = Object.values((s.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap((c) => Object.keys(c));
            return !keys.some((k) => /:CreateAction$/.test(k) || k.startsWith("aws:ResourceTag/"));
        })
        .map((s) => `statement ${s.Sid ?? "(no Sid)"} may tag resources it neither creates nor owns`);
}

export const iamTaggingScoped: ResourceValidationPolicy = {
    name: "iam-tag-writes-scoped",
    description:
        "Inline IAM policies write tags only while creating a resource or on resources already tagged as their own: tags are what the other statements trust.",
    enforcementLevel: "mandatory",
    validateResource: validateRolePolicies(unscopedTagWrites),
};

export const secretsRecoveryWindow: ResourceValidationPolicy = {
    name: "secretsmanager-recovery-window",
    description: "Secrets Manager secrets can be recovered for at least 7 days after deletion.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.secretsmanager.Secret, (props, _, report) => {
        if (props.recoveryWindowInDays !== undefined && Number(props.recoveryWindowInDays) < 7)
            report(`recovery window of ${props.recoveryWindowInDays} days`);
    }),
};

export const cloudfrontHttps: ResourceValidationPolicy = {
    name: "cloudfront-https-only",
    description: "CloudFront serves HTTPS only (viewers redirected) with TLS 1.2 or newer.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.cloudfront.Distribution, (props, _, report) => {
        const behaviours = [
            props.defaultCacheBehavior,
            ...((props.orderedCacheBehaviors ?? []) as aws.types.input.cloudfront.DistributionOrderedCacheBehavior[]),
        ] as Array<{ viewerProtocolPolicy?: string; pathPattern?: string }>;
        for (const b of behaviours) {
            if (b && b.viewerProtocolPolicy === "allow-all") report(`behaviour ${b.pathPattern ?? "default"} allows plain HTTP`);
        }
        const minimum = (props.viewerCertificate as { minimumProtocolVersion?: string } | undefined)?.minimumProtocolVersion;
        if (!minimum || !/^TLSv1\.[23]/.test(minimum)) report(`minimum TLS version ${minimum ?? "unset"}`);
    }),
};

export const cloudfrontEdge: StackValidationPolicy = {
    name: "cloudfront-acm-waf-logs",
    description:
        "In production CloudFront serves its aliases with an ACM certificate, a WAF web ACL filters it, and its access logs are delivered.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, report) => {
        if (!isProduction(args)) return;
        const logged = ofType(args.resources, "aws:cloudwatch/logDeliverySource:LogDeliverySource").some(
            (s) => s.props.logType === "ACCESS_LOGS",
        );
        for (const d of ofType(args.resources, "aws:cloudfront/distribution:Distribution")) {
            const certificate = d.props.viewerCertificate ?? {};
            if (!certificate.acmCertificateArn) report(`distribution ${d.name} uses CloudFront's default certificate`);
            if (!d.props.webAclId) report(`distribution ${d.name} has no WAF web ACL`);
            if (!logged) report(`distribution ${d.name} has no access log delivery`);
        }
    },
};

/**
 * A bucket's companion resources (public access block, versioning, policy) by the bucket they name:
 * the program names buckets explicitly, so the name is known in a preview.
 */
function byBucket(resources: PolicyResource[], type: string): Map<string, PolicyResource["props"]> {
    return new Map(ofType(resources, type).map((r) => [r.props.bucket as string, r.props]));
}

export const s3Private: StackValidationPolicy = {
    name: "s3-buckets-private-versioned-encrypted",
    description: "Every S3 bucket blocks all public access, is versioned and encrypted.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const blocks = byBucket(args.resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
        const versioning = byBucket(args.resources, "aws:s3/bucketVersioning:BucketVersioning");
        const encryption = byBucket(
            args.resources,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        );
        for (const bucket of ofType(args.resources, "aws:s3/bucket:Bucket")) {
            const id = bucket.props.bucket as string;
            const block = blocks.get(id);
            if (
                !block ||
                !["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => block[k] === true)
            )
                report(`bucket ${id} does not block all public access`, bucket.urn);
            if (versioning.get(id)?.versioningConfiguration?.status !== "Enabled") report(`bucket ${id} is not versioned`, bucket.urn);
            if (!encryption.has(id)) report(`bucket ${id} has no default encryption`, bucket.urn);
        }
    },
};

export const backupsKmsEncrypted: StackValidationPolicy = {
    name: "backups-kms-encrypted",
    description:
        "Backup data (snapshot buckets, AWS Backup vaults) is encrypted with a customer-managed KMS key: reading it then takes kms:Decrypt on that key, which only the roles that back up and restore hold, not S3 or Backup read rights alone.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const encryption = byBucket(
            args.resources,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        );
        for (const bucket of ofType(args.resources, "aws:s3/bucket:Bucket")) {
            const id = String(bucket.props.bucket ?? "");
            if (!/snapshot|backup/.test(id)) continue;
            const sse = encryption.get(id)?.rules?.[0]?.applyServerSideEncryptionByDefault;
            if (sse?.sseAlgorithm !== "aws:kms" || !sse.kmsMasterKeyId)
                report(`backup bucket ${id} is not encrypted with a KMS key`, bucket.urn);
        }
        for (const vault of ofType(args.resources, "aws:backup/vault:Vault"))
            if (!vault.props.kmsKeyArn) report(`backup vault ${vault.props.name} uses AWS's default key`, vault.urn);
    },
};

export const s3TlsOnly: StackValidationPolicy = {
    name: "s3-tls-only",
    description:
        "Every S3 bucket's policy denies requests that do not come over TLS (aws:SecureTransport false): S3 answers plain HTTP otherwise.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const policies = byBucket(args.resources, "aws:s3/bucketPolicy:BucketPolicy");
        for (const bucket of ofType(args.resources, "aws:s3/bucket:Bucket")) {
            const id = bucket.props.bucket as string;
            const policy = policies.get(id)?.policy;
            const deniesPlainHttp = statementsOf(policy).some(
                (st) => st.Effect === "Deny" && JSON.stringify(st.Condition ?? {}).includes('"aws:SecureTransport":"false"'),
            );
            if (!deniesPlainHttp) report(`bucket ${id} accepts requests without TLS (no Deny on aws:SecureTransport false)`, bucket.urn);
        }
    },
};

export const codebuildRunnerPrivate: ResourceValidationPolicy = {
    name: "codebuild-runner-private",
    description:
        "A CodeBuild project (the deploy runner) runs in a VPC, never in privileged mode, and builds only from the source it names: what its jobs reach is the VPC's, not the internet's.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.codebuild.Project, (props, _, report) => {
        if (!props.vpcConfig?.vpcId)
            report("runs outside a VPC (no vpcConfig): it cannot reach a private cluster, and what it reaches is unbounded");
        if (props.environment?.privilegedMode === true) report("privileged mode: a job is root on the build host");
    }),
};

/** The session tags a Pod Identity trust must pin (any one of each group): its namespace, the one service account, the cluster. */
const POD_IDENTITY_TAGS = [
    ["aws:RequestTag/kubernetes-namespace"],
    ["aws:RequestTag/kubernetes-service-account"],
    ["aws:RequestTag/eks-cluster-name", "aws:RequestTag/eks-cluster-arn"],
];

export const podIdentityTrustScoped: ResourceValidationPolicy = {
    name: "pod-identity-trust-scoped",
    description:
        "A role EKS Pod Identity hands out trusts only one service account, in its namespace, of one cluster (session-tag conditions): otherwise any association in the account takes it.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.iam.Role, (props, _, report) => {
        for (const s of statementsOf(props.assumeRolePolicy)) {
            const principal = (s as { Principal?: { Service?: unknown } }).Principal?.Service;
            if (!listOf(principal).includes("pods.eks.amazonaws.com")) continue;
            const equals = ((s.Condition ?? {}) as Record<string, Record<string, unknown>>).StringEquals ?? {};
            const missing = POD_IDENTITY_TAGS.filter((keys) => !keys.some((key) => key in equals));
            if (missing.length) report(`trusts any pod identity: no condition on ${missing.map((keys) => keys.join(" or ")).join(", ")}`);
        }
    }),
};

export const route53ChangesScoped: ResourceValidationPolicy = {
    name: "route53-changes-scoped",
    description:
        "Inline policies change Route 53 records only by name (ChangeResourceRecordSetsNormalizedRecordNames): an ACME solver writes its _acme-challenge records, never the zone's aliases.",
    enforcementLevel: "mandatory",
    validateResource: validateRolePolicies((policy) =>
        allowStatements(policy)
            .filter((s) => listOf(s.Action).includes("route53:ChangeResourceRecordSets"))
            .filter((s) => !JSON.stringify(s.Condition ?? {}).includes("route53:ChangeResourceRecordSetsNormalizedRecordNames"))
            .map((s) => `statement ${s.Sid ?? "(no Sid)"} may change any record of the zone (no condition on record names)`),
    ),
};

export const backupVaultsLocked: StackValidationPolicy = {
    name: "backup-vaults-locked",
    description:
        "Every AWS Backup vault is locked (governance mode: a minimum retention no one without the lock permission can cut short), so a stolen deploy identity cannot delete the backups with the database.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const locked = new Set(
            ofType(args.resources, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").map((l) => l.props.backupVaultName),
        );
        for (const vault of ofType(args.resources, "aws:backup/vault:Vault"))
            if (!locked.has(vault.props.name)) report(`backup vault ${vault.props.name} has no vault lock`, vault.urn);
    },
};
