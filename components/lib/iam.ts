// IAM trust policies: which AWS service may assume a role.

/** A trust policy letting an AWS service (`rds.amazonaws.com`, ...) assume the role. */
export function serviceTrust(service: string, action: string | string[] = ["sts:AssumeRole"]): string {
    return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: action }] });
}
