// Rules for the AWS resource types the project creates: the checks AWSGuard makes for them, and
// FinBot's production requirements.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { CONFIG_SCHEMA, isProduction, ofType } from "./support";

const RDS = "aws:rds/instance:Instance";
const isReplica = (props: Record<string, unknown>) => props.replicateSourceDb !== undefined;

export const rdsEncrypted: ResourceValidationPolicy = {
    name: "rds-storage-encrypted",
    description: "RDS storage is encrypted at rest.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type === RDS && props.storageEncrypted !== true) report("RDS instance storage is not encrypted");
    },
};

export const rdsNotPublic: ResourceValidationPolicy = {
    name: "rds-not-publicly-accessible",
    description: "RDS instances are not publicly accessible.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type === RDS && props.publiclyAccessible === true) report("RDS instance is publicly accessible");
    },
};

export const rdsMultiAz: ResourceValidationPolicy = {
    name: "rds-multi-az",
    description: "In production the RDS primary is Multi-AZ.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, report) => {
        if (args.type === RDS && isProduction(args) && !isReplica(args.props) && args.props.multiAz !== true)
            report("RDS primary is not Multi-AZ");
    },
};

export const rdsBackups: ResourceValidationPolicy = {
    name: "rds-backup-retention",
    description: "RDS primaries keep automated backups for at least 7 days.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type === RDS && !isReplica(props) && !((props.backupRetentionPeriod ?? 0) >= 7))
            report(`backup retention ${props.backupRetentionPeriod ?? 0} days is under 7`);
    },
};

export const rdsDeletionProtection: ResourceValidationPolicy = {
    name: "rds-deletion-protection",
    description: "In production RDS instances have deletion protection and the primary keeps a final snapshot.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, report) => {
        if (args.type !== RDS || !isProduction(args)) return;
        if (args.props.deletionProtection !== true) report("RDS instance has no deletion protection");
        if (!isReplica(args.props) && args.props.skipFinalSnapshot === true) report("RDS primary skips its final snapshot");
    },
};

export const rdsMonitoring: ResourceValidationPolicy = {
    name: "rds-performance-insights-and-enhanced-monitoring",
    description: "RDS instances have Performance Insights and enhanced monitoring.",
    enforcementLevel: "advisory",
    validateResource: ({ type, props }, report) => {
        if (type !== RDS) return;
        if (props.performanceInsightsEnabled !== true) report("Performance Insights is off");
        if (!(props.monitoringInterval > 0)) report("enhanced monitoring is off");
    },
};

export const rdsProxyTls: ResourceValidationPolicy = {
    name: "rds-proxy-requires-tls",
    description: "RDS Proxy accepts TLS connections only.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type === "aws:rds/proxy:Proxy" && props.requireTls !== true) report("RDS Proxy does not require TLS");
    },
};

const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";

export const elasticacheEncryption: ResourceValidationPolicy = {
    name: "elasticache-encryption-and-auth",
    description: "ElastiCache encrypts in transit and at rest and requires an auth token.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== REPLICATION_GROUP) return;
        if (props.transitEncryptionEnabled !== true) report("in-transit encryption is off");
        if (props.atRestEncryptionEnabled !== true) report("at-rest encryption is off");
        if (!props.authToken) report("no auth token: the cache accepts unauthenticated clients");
    },
};

export const elasticacheHighAvailability: ResourceValidationPolicy = {
    name: "elasticache-multi-az-failover",
    description: "In production ElastiCache is Multi-AZ with automatic failover.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, report) => {
        if (args.type !== REPLICATION_GROUP || !isProduction(args)) return;
        if (args.props.multiAzEnabled !== true || args.props.automaticFailoverEnabled !== true)
            report("not Multi-AZ with automatic failover");
    },
};

export const noPublicIngress: ResourceValidationPolicy = {
    name: "security-group-no-public-ingress",
    description: "Security groups admit no traffic from 0.0.0.0/0 or ::/0 (databases and caches admit only the nodes).",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== "aws:ec2/securityGroup:SecurityGroup") return;
        for (const rule of props.ingress ?? []) {
            if ((rule.cidrBlocks ?? []).includes("0.0.0.0/0") || (rule.ipv6CidrBlocks ?? []).includes("::/0"))
                report(`ingress on ${rule.fromPort}-${rule.toPort} is open to the internet`);
        }
    },
};

export const iamNoWildcards: ResourceValidationPolicy = {
    name: "iam-no-wildcard-actions",
    description: "Inline IAM policies grant named actions on named resources, never `*`.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== "aws:iam/rolePolicy:RolePolicy" || typeof props.policy !== "string") return;
        const statements = [].concat(JSON.parse(props.policy).Statement ?? []) as Array<{
            Effect?: string;
            Action?: unknown;
            Resource?: unknown;
        }>;
        for (const s of statements.filter((x) => x.Effect === "Allow")) {
            if ([].concat(s.Action as never).some((a: string) => a === "*" || a.endsWith(":*"))) report("a statement allows every action");
            if ([].concat(s.Resource as never).some((r: string) => r === "*")) report("a statement applies to every resource");
        }
    },
};

export const secretsRecoveryWindow: ResourceValidationPolicy = {
    name: "secretsmanager-recovery-window",
    description: "Secrets Manager secrets can be recovered for at least 7 days after deletion.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type === "aws:secretsmanager/secret:Secret" && props.recoveryWindowInDays !== undefined && props.recoveryWindowInDays < 7) {
            report(`recovery window of ${props.recoveryWindowInDays} days`);
        }
    },
};

export const cloudfrontHttps: ResourceValidationPolicy = {
    name: "cloudfront-https-only",
    description: "CloudFront serves HTTPS only (viewers redirected) with TLS 1.2 or newer.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== "aws:cloudfront/distribution:Distribution") return;
        for (const b of [props.defaultCacheBehavior, ...(props.orderedCacheBehaviors ?? [])]) {
            if (b && b.viewerProtocolPolicy === "allow-all") report(`behaviour ${b.pathPattern ?? "default"} allows plain HTTP`);
        }
        const minimum = props.viewerCertificate?.minimumProtocolVersion;
        if (!minimum || !/^TLSv1\.[23]/.test(minimum)) report(`minimum TLS version ${minimum ?? "unset"}`);
    },
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
