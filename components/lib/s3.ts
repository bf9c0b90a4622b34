// Bucket policy statements every bucket of the platform carries.
import * as pulumi from "@pulumi/pulumi";

/** Refuses every request that does not come over TLS (S3 also answers plain HTTP unless a policy says no). */
export function denyInsecureTransport(bucketArn: pulumi.Input<string>) {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, pulumi.interpolate`${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
