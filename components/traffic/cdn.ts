import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport } from "../lib/s3";

export interface CdnArgs {
    /** `staging` or `production`: part of the asset bucket's name. */
    environment: string;
    /** Production: the assets bucket and the access logs survive a mistaken up or destroy. */
    production: boolean;
    /** Paths served from the static-asset bucket, e.g. `/static/*`. */
    staticPaths: string[];
    /** CloudFront price class (which edge locations serve). */
    priceClass: string;
    /** The gateway's public hostname: everything else goes there, uncached. */
    originHost: string;
    /**
     * Host of the RUM intake route: `/intake/*` of the aliases goes there (same origin as the pages, through the WAF).
     * @default no RUM behaviour
     */
    rumOriginHost?: string;
    /** Sent to the origin in ORIGIN_KEY_HEADER: the public gateway refuses requests without it. */
    originKey: pulumi.Output<string>;
    /**
     * Domain names CloudFront serves, with an ACM certificate (us-east-1) validated in `hostedZoneId`.
     * @default none: CloudFront's own domain and certificate (staging)
     */
    aliases?: string[];
    /**
     * Route 53 zone of the aliases (certificate validation and alias records).
     * @default none
     */
    hostedZoneId?: string;
    /** Days the access logs are kept. */
    logRetentionDays: number;
    /** Requests per client IP per 5 minutes before the web ACL blocks it. */
    rateLimitPer5Minutes: number;
}

/** The header carrying the origin key from CloudFront to the gateway. */
export const ORIGIN_KEY_HEADER = "x-finbot-origin-key";
/** CloudFront's ACM certificates and web ACLs live in us-east-1. */
const EDGE_REGION = "us-east-1";

/** CloudFront's managed policies: no caching, and all viewer headers except Host to the origin. */
export const MANAGED_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
export const MANAGED_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/** Hashed asset file names never change: cache them for a year, in CloudFront and in browsers. */
export const STATIC_MAX_AGE_SECONDS = 31_536_000;

/** A cache behaviour that passes every method through to a gateway origin, uncached, with the viewer's headers. */
const passThrough = (targetOriginId: string) => ({
    targetOriginId,
    viewerProtocolPolicy: "redirect-to-https",
    allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
    cachedMethods: ["GET", "HEAD"],
    cachePolicyId: MANAGED_CACHING_DISABLED,
    originRequestPolicyId: MANAGED_ALL_VIEWER_EXCEPT_HOST,
});

/**
 * The CDN in production: CloudFront in front of the load balancer, static asset paths from a
 * private, versioned, encrypted S3 bucket reached through origin access control, cached for a
 * year with compression; the API passes through uncached. The domain's aliases are served with
 * an ACM certificate (TLS 1.2 at least), a WAF web ACL (AWS managed rules and a rate limit)
 * filters requests, access logs are kept for a set time, and a secret header proves to the
 * gateway that a request came through CloudFront.
 */
export class Cdn extends pulumi.ComponentResource {
    public readonly domainName: pulumi.Output<string>;
    public readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: CdnArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:Cdn", name, {}, opts);
        const parent = { parent: this };
        const { bucket, oac } = this.assetBucket(name, args);
        const { staticCache, staticHeaders, apiHeaders } = this.responsePolicies(name);
        const certificateArn = this.certificate(name, args);
        const webAcl = this.webAcl(name, args);
        const distribution = new aws.cloudfront.Distribution(
            `${name}-distribution`,
            {
                enabled: true,
                isIpv6Enabled: true,
                comment: "FinBot",
                aliases: args.aliases ?? [],
                webAclId: webAcl.arn,
                priceClass: args.priceClass,
                httpVersion: "http2and3",
                origins: [
                    { originId: "assets", domainName: bucket.bucketRegionalDomainName, originAccessControlId: oac.id },
                    gatewayOrigin("gateway", args.originHost, args.originKey),
                    ...(args.rumOriginHost ? [gatewayOrigin("rum", args.rumOriginHost, args.originKey)] : []),
                ],
                defaultCacheBehavior: { ...passThrough("gateway"), responseHeadersPolicyId: apiHeaders.id, compress: true },
                orderedCacheBehaviors: [
                    ...(args.rumOriginHost ? [{ pathPattern: "/intake/*", ...passThrough("rum"), compress: false }] : []),
                    ...args.staticPaths.map((pathPattern) => ({
                        pathPattern,
                        targetOriginId: "assets",
                        viewerProtocolPolicy: "redirect-to-https",
                        allowedMethods: ["GET", "HEAD"],
                        cachedMethods: ["GET", "HEAD"],
                        cachePolicyId: staticCache.id,
                        responseHeadersPolicyId: staticHeaders.id,
                        compress: true,
                    })),
                ],
                restrictions: { geoRestriction: { restrictionType: "none" } },
                // CloudFront's own certificate ignores the minimum protocol; an ACM certificate enforces it.
                viewerCertificate: certificateArn
                    ? { acmCertificateArn: certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
                    : { cloudfrontDefaultCertificate: true },
            },
            parent,
        );
        this.bucketPolicy(name, bucket, distribution);
        this.accessLogs(name, args, distribution);
        this.aliasRecords(name, args, distribution);
        this.domainName = distribution.domainName;
        this.bucketName = bucket.bucket;
        this.registerOutputs({ domainName: this.domainName, bucketName: this.bucketName });
    }

    /** The private, versioned, encrypted bucket of static assets, and CloudFront's access to it. */
    private assetBucket(name: string, args: CdnArgs) {
        const parent = { parent: this };
        // An explicit, account-scoped name: known before the bucket exists, so every companion
        // resource (and the policy pack) can name it in a preview.
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        // The site's assets are state like any other: a mistaken up or destroy stops at them in production.
        const bucket = new aws.s3.Bucket(
            `${name}-assets`,
            { bucket: pulumi.interpolate`finbot-${args.environment}-assets-${account}`, forceDestroy: false },
            { parent: this, protect: args.production, retainOnDelete: args.production },
        );
        new aws.s3.BucketPublicAccessBlock(
            `${name}-assets`,
            { bucket: bucket.bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            parent,
        );
        new aws.s3.BucketOwnershipControls(
            `${name}-assets`,
            { bucket: bucket.bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
            parent,
        );
        new aws.s3.BucketVersioning(`${name}-assets`, { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } }, parent);
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-assets`,
            { bucket: bucket.bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
            parent,
        );
        const oac = new aws.cloudfront.OriginAccessControl(
            `${name}-assets`,
            {
                description: "FinBot static assets",
                originAccessControlOriginType: "s3",
                signingBehavior: "always",
                signingProtocol: "sigv4",
            },
            parent,
        );
        return { bucket, oac };
    }

    /** Caching of hashed static assets for a year; API responses never cached; HSTS on both. */
    private responsePolicies(name: string) {
        const parent = { parent: this };
        const staticCache = new aws.cloudfront.CachePolicy(
            `${name}-static`,
            {
                comment: "FinBot hashed static assets: a year",
                minTtl: 86_400,
                defaultTtl: STATIC_MAX_AGE_SECONDS,
                maxTtl: STATIC_MAX_AGE_SECONDS,
                parametersInCacheKeyAndForwardedToOrigin: {
                    cookiesConfig: { cookieBehavior: "none" },
                    headersConfig: { headerBehavior: "none" },
                    queryStringsConfig: { queryStringBehavior: "none" },
                    enableAcceptEncodingGzip: true,
                    enableAcceptEncodingBrotli: true,
                },
            },
            parent,
        );
        const staticHeaders = new aws.cloudfront.ResponseHeadersPolicy(
            `${name}-static`,
            {
                comment: "Browser caching of hashed static assets",
                customHeadersConfig: {
                    items: [{ header: "Cache-Control", value: `public, max-age=${STATIC_MAX_AGE_SECONDS}, immutable`, override: true }],
                },
                securityHeadersConfig: {
                    strictTransportSecurity: { accessControlMaxAgeSec: 63_072_000, includeSubdomains: true, preload: true, override: true },
                    contentTypeOptions: { override: true },
                },
            },
            parent,
        );
        const apiHeaders = new aws.cloudfront.ResponseHeadersPolicy(
            `${name}-api`,
            {
                comment: "API responses are never cached by browsers or proxies",
                customHeadersConfig: { items: [{ header: "Cache-Control", value: "no-store", override: false }] },
                securityHeadersConfig: {
                    strictTransportSecurity: { accessControlMaxAgeSec: 63_072_000, includeSubdomains: true, preload: true, override: true },
                    contentTypeOptions: { override: true },
                },
            },
            parent,
        );
        return { staticCache, staticHeaders, apiHeaders };
    }

    /** Only this distribution may read the bucket (origin access control), and only over TLS. */
    private bucketPolicy(name: string, bucket: aws.s3.Bucket, distribution: aws.cloudfront.Distribution): void {
        const parent = { parent: this };
        new aws.s3.BucketPolicy(
            `${name}-assets`,
            {
                bucket: bucket.bucket,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "CloudFrontReadOnly",
                            Effect: "Allow",
                            Principal: { Service: "cloudfront.amazonaws.com" },
                            Action: "s3:GetObject",
                            Resource: pulumi.interpolate`${bucket.arn}/*`,
                            Condition: { StringEquals: { "AWS:SourceArn": distribution.arn } },
                        },
                        denyInsecureTransport(bucket.arn),
                    ],
                }),
            },
            parent,
        );
    }

    /** An ACM certificate of the aliases in us-east-1, validated by DNS records in the zone (none without aliases). */
    private certificate(name: string, args: CdnArgs): pulumi.Output<string> | undefined {
        const aliases = args.aliases ?? [];
        if (aliases.length === 0 || !args.hostedZoneId) return undefined;
        const zoneId = args.hostedZoneId;
        const certificate = new aws.acm.Certificate(
            `${name}-certificate`,
            {
                region: EDGE_REGION,
                domainName: aliases[0],
                subjectAlternativeNames: aliases.slice(1),
                validationMethod: "DNS",
                keyAlgorithm: "EC_prime256v1",
            },
            { parent: this },
        );
        const records = aliases.map(
            (alias, i) =>
                new aws.route53.Record(
                    `${name}-certificate-validation-${i}`,
                    {
                        zoneId,
                        name: certificate.domainValidationOptions.apply(
                            (o) => o.find((v) => v.domainName === alias)?.resourceRecordName ?? "",
                        ),
                        type: certificate.domainValidationOptions.apply(
                            (o) => o.find((v) => v.domainName === alias)?.resourceRecordType ?? "CNAME",
                        ),
                        records: [
                            certificate.domainValidationOptions.apply(
                                (o) => o.find((v) => v.domainName === alias)?.resourceRecordValue ?? "",
                            ),
                        ],
                        ttl: 300,
                        allowOverwrite: true,
                    },
                    { parent: this },
                ),
        );
        return new aws.acm.CertificateValidation(
            `${name}-certificate`,
            { region: EDGE_REGION, certificateArn: certificate.arn, validationRecordFqdns: records.map((r) => r.fqdn) },
            { parent: this },
        ).certificateArn;
    }

    /** AWS managed rule groups (common exploits, known bad inputs) and a per-IP rate limit, in front of everything. */
    private webAcl(name: string, args: CdnArgs): aws.wafv2.WebAcl {
        const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
        const managed = (ruleName: string, priority: number) => ({
            name: ruleName,
            priority,
            overrideAction: { none: {} },
            statement: { managedRuleGroupStatement: { vendorName: "AWS", name: ruleName } },
            visibilityConfig: visibility(ruleName),
        });
        return new aws.wafv2.WebAcl(
            `${name}-web-acl`,
            {
                region: EDGE_REGION,
                scope: "CLOUDFRONT",
                description: "FinBot edge: managed rules and a rate limit",
                defaultAction: { allow: {} },
                visibilityConfig: visibility("finbot-edge"),
                rules: [
                    managed("AWSManagedRulesCommonRuleSet", 1),
                    managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
                    {
                        name: "rate-limit-per-ip",
                        priority: 3,
                        action: { block: {} },
                        statement: {
                            rateBasedStatement: { limit: args.rateLimitPer5Minutes, aggregateKeyType: "IP", evaluationWindowSec: 300 },
                        },
                        visibilityConfig: visibility("rate-limit-per-ip"),
                    },
                ],
            },
            { parent: this },
        );
    }

    /** Standard logging v2 into a CloudWatch log group (us-east-1) that expires them. */
    private accessLogs(name: string, args: CdnArgs, distribution: aws.cloudfront.Distribution): void {
        const group = new aws.cloudwatch.LogGroup(
            `${name}-access-logs`,
            { region: EDGE_REGION, name: `/finbot/${args.environment}/cloudfront-access`, retentionInDays: args.logRetentionDays },
            { parent: this, retainOnDelete: args.production },
        );
        const source = new aws.cloudwatch.LogDeliverySource(
            `${name}-access-logs`,
            { region: EDGE_REGION, name: `finbot-${args.environment}-cloudfront`, logType: "ACCESS_LOGS", resourceArn: distribution.arn },
            { parent: this },
        );
        const destination = new aws.cloudwatch.LogDeliveryDestination(
            `${name}-access-logs`,
            {
                region: EDGE_REGION,
                name: `finbot-${args.environment}-cloudfront-logs`,
                outputFormat: "json",
                deliveryDestinationConfiguration: { destinationResourceArn: group.arn },
            },
            { parent: this },
        );
        new aws.cloudwatch.LogDelivery(
            `${name}-access-logs`,
            { region: EDGE_REGION, deliverySourceName: source.name, deliveryDestinationArn: destination.arn },
            { parent: this },
        );
    }

    /** The aliases point at the distribution (A and AAAA alias records). */
    private aliasRecords(name: string, args: CdnArgs, distribution: aws.cloudfront.Distribution): void {
        if (!args.hostedZoneId) return;
        for (const [i, alias] of (args.aliases ?? []).entries()) {
            for (const type of ["A", "AAAA"]) {
                new aws.route53.Record(
                    `${name}-alias-${i}-${type.toLowerCase()}`,
                    {
                        zoneId: args.hostedZoneId,
                        name: alias,
                        type,
                        aliases: [{ name: distribution.domainName, zoneId: distribution.hostedZoneId, evaluateTargetHealth: false }],
                    },
                    { parent: this },
                );
            }
        }
    }
}

/** A host on the public gateway as CloudFront's origin: HTTPS only, with the key the gateway checks. */
function gatewayOrigin(originId: string, host: string, originKey: pulumi.Input<string>) {
    return {
        originId,
        domainName: host,
        customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
        customHeaders: [{ name: ORIGIN_KEY_HEADER, value: originKey }],
    };
}
