// Rules for the AWS resource types the project creates: the checks AWSGuard makes for them, and
// FinBot's production requirements.
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { CONFIG_SCHEMA, isProduction, ofType } from "./support";

const isReplica = (props: aws.rds.InstanceArgs) => props.replicateSourceDb !== undefined;

export const rdsEncrypted: ResourceValidationPolicy = {
    name: "rds-storage-encrypted",
    description: "RDS storage is encrypted at rest.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.rds.Instance, (props, _, report) => {
        if (props.storageEncrypted !== true) report("RDS instance storage is not encrypted");
    }),
};

export const rdsNotPublic: ResourceValidationPolicy = {
    name: "rds-not-publicly-accessible",
    description: "RDS instances are not publicly accessible.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.rds.Instance, (props, _, report) => {
        if (props.publiclyAccessible === true) report("RDS instance is publicly accessible");
    }),
};

export const rdsMultiAz: ResourceValidationPolicy = {
    name: "rds-multi-az",
    description: "In production the RDS primary is Multi-AZ.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: validateResourceOfType(aws.rds.Instance, (props, args, report) => {
        if (isProduction(args) && !isReplica(props) && props.multiAz !== true) report("RDS primary is not Multi-AZ");
    }),
};

export const rdsBackups: ResourceValidationPolicy = {
    name: "rds-backup-retention",
    description: "RDS primaries keep automated backups for at least 7 days.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.rds.Instance, (props, _, report) => {
        const days = Number(props.backupRetentionPeriod ?? 0);
        if (!isReplica(props) && !(days >= 7)) report(`backup retention ${days} days is under 7`);
    }),
};

export const rdsDeletionProtection: ResourceValidationPolicy = {
    name: "rds-deletion-protection",
    description: "In production RDS instances have deletion protection and the primary keeps a final snapshot.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: validateResourceOfType(aws.rds.Instance, (props, args, report) => {
        if (!isProduction(args)) return;
        if (props.deletionProtection !== true) report("RDS instance has no deletion protection");
        if (!isReplica(props) && props.skipFinalSnapshot === true) report("RDS primary skips its final snapshot");
    }),
};

export const rdsMonitoring: ResourceValidationPolicy = {
    name: "rds-performance-insights-and-enhanced-monitoring",
    description: "RDS instances have Performance Insights and enhanced monitoring.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(aws.rds.Instance, (props, _, report) => {
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

export const iamNoWildcards: ResourceValidationPolicy = {
    name: "iam-no-wildcard-actions",
    description: "Inline IAM policies grant named actions on named resources, never `*`.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.iam.RolePolicy, (props, _, report) => {
        if (typeof props.policy !== "string") return;
        const statements = [].concat(JSON.parse(props.policy).Statement ?? []) as Array<{
            Effect?: string;
            Action?: unknown;
            Resource?: unknown;
        }>;
        for (const s of statements.filter((x) => x.Effect === "Allow")) {
            if ([].concat(s.Action as never).some((a: string) => a === "*" || a.endsWith(":*"))) report("a statement allows every action");
            if ([].concat(s.Resource as never).some((r: string) => r === "*")) report("a statement applies to every resource");
        }
    }),
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

export const s3Private: StackValidationPolicy = {
    name: "s3-buckets-private-versioned-encrypted",
    description: "Every S3 bucket blocks all public access, is versioned and encrypted.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const byBucket = (type: string) => new Map(ofType(args.resources, type).map((r) => [r.props.bucket as string, r.props]));
        const blocks = byBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
        const versioning = byBucket("aws:s3/bucketVersioning:BucketVersioning");
        const encryption = byBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
        for (const bucket of ofType(args.resources, "aws:s3/bucket:Bucket")) {
            // Companion resources name the bucket (the program names buckets explicitly, so the name is known in a preview).
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
