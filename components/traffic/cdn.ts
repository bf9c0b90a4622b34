import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface CdnArgs {
    /** `staging` or `production`: part of the asset bucket's name. */
    environment: string;
    /** Paths served from the static-asset bucket, e.g. `/static/*`. */
    staticPaths: string[];
    /** CloudFront price class (which edge locations serve). */
    priceClass: string;
    /** The gateway's public hostname: everything else goes there, uncached. */
    originHost: string;
}

/** CloudFront's managed policies: no caching, and all viewer headers except Host to the origin. */
export const MANAGED_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
export const MANAGED_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/** Hashed asset file names never change: cache them for a year, in CloudFront and in browsers. */
export const STATIC_MAX_AGE_SECONDS = 31_536_000;

/**
 * The CDN in production: CloudFront in front of the load balancer, static asset paths from a
 * private, versioned, encrypted S3 bucket reached through origin access control, cached for a
 * year with compression; the API passes through uncached.
 */
export class Cdn extends pulumi.ComponentResource {
    public readonly domainName: pulumi.Output<string>;
    public readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: CdnArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:Cdn", name, {}, opts);
        const parent = { parent: this };
        // An explicit, account-scoped name: known before the bucket exists, so every companion
        // resource (and the policy pack) can name it in a preview.
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const bucket = new aws.s3.Bucket(
            `${name}-assets`,
            { bucket: pulumi.interpolate`finbot-${args.environment}-assets-${account}`, forceDestroy: false },
            parent,
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
        const distribution = new aws.cloudfront.Distribution(
            `${name}-distribution`,
            {
                enabled: true,
                isIpv6Enabled: true,
                comment: "FinBot",
                priceClass: args.priceClass,
                httpVersion: "http2and3",
                origins: [
                    { originId: "assets", domainName: bucket.bucketRegionalDomainName, originAccessControlId: oac.id },
                    {
                        originId: "gateway",
                        domainName: args.originHost,
                        customOriginConfig: {
                            httpPort: 80,
                            httpsPort: 443,
                            originProtocolPolicy: "https-only",
                            originSslProtocols: ["TLSv1.2"],
                        },
                    },
                ],
                defaultCacheBehavior: {
                    targetOriginId: "gateway",
                    viewerProtocolPolicy: "redirect-to-https",
                    allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                    cachedMethods: ["GET", "HEAD"],
                    cachePolicyId: MANAGED_CACHING_DISABLED,
                    originRequestPolicyId: MANAGED_ALL_VIEWER_EXCEPT_HOST,
                    responseHeadersPolicyId: apiHeaders.id,
                    compress: true,
                },
                orderedCacheBehaviors: args.staticPaths.map((pathPattern) => ({
                    pathPattern,
                    targetOriginId: "assets",
                    viewerProtocolPolicy: "redirect-to-https",
                    allowedMethods: ["GET", "HEAD"],
                    cachedMethods: ["GET", "HEAD"],
                    cachePolicyId: staticCache.id,
                    responseHeadersPolicyId: staticHeaders.id,
                    compress: true,
                })),
                restrictions: { geoRestriction: { restrictionType: "none" } },
                viewerCertificate: { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1.2_2021" },
            },
            parent,
        );
        // Only this distribution may read the bucket (origin access control).
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
                    ],
                }),
            },
            parent,
        );
        this.domainName = distribution.domainName;
        this.bucketName = bucket.bucket;
        this.registerOutputs({ domainName: this.domainName, bucketName: this.bucketName });
    }
}
