// Secrets as the engine sends them (`{ [sig]: secretSig, value }`): recognised, redacted for what
// the offline plan writes, or revealed for checks on what would reach the cluster.
import * as pulumi from "@pulumi/pulumi";

const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

/** True for a secret as the engine sends it: `{ [sig]: secretSig, value }`. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return value !== null && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Replaces every secret by "[secret]" (what the offline plan writes). */
export function redactSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactSecrets);
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SIG_KEY] === SECRET_SIG) return "[secret]";
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, redactSecrets(v)]));
    }
    return value;
}

/** Removes the secret wrappers, keeping the values (for checks on what would reach the cluster). */
export function revealSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revealSecrets);
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SIG_KEY] === SECRET_SIG) return revealSecrets(record.value);
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealSecrets(v)]));
    }
    return value;
}
