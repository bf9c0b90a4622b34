// IAM trust policies: which AWS service may assume a role.

/**
 * A trust policy letting an AWS service (`rds.amazonaws.com`, ...) assume the role; `sourceAccount`
 * limits it to calls made for that account (the confused-deputy guard AWS recommends).
 */
export function serviceTrust(service: string, action: string | string[] = ["sts:AssumeRole"], sourceAccount?: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: service },
                Action: action,
                ...(sourceAccount ? { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } } : {}),
            },
        ],
    });
}
