// Secrets as the engine sends them (`{ [sig]: secretSig, value }`): recognised, redacted for what
// the offline plan writes, or revealed for checks on what would reach the cluster.
import * as pulumi from "@pulumi/pulumi";

const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

/** True for a secret as the engine sends it: `{ [sig]: secretSig, value }`. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return value !== null && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/**
 * A copy of a value with each secret replaced by `replace(secret)`. Loops rather than
 * Object.entries: a plan redacts every input of every resource, and the entry arrays were most of
 * that time.
 */
function mapSecrets(value: unknown, replace: (secret: Record<string, unknown>) => unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) {
        const copy: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) copy[i] = mapSecrets(value[i], replace);
        return copy;
    }
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return replace(record);
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
        const mapped = mapSecrets(record[key], replace);
        // `copy.__proto__ = ...` would set the prototype; the key stays a key.
        if (key === "__proto__") Object.defineProperty(copy, key, { value: mapped, enumerable: true, writable: true, configurable: true });
        else copy[key] = mapped;
    }
    return copy;
}

/** Replaces every secret by "[secret]" (what the offline plan writes). */
export function redactSecrets(value: unknown): unknown {
    return mapSecrets(value, () => "[secret]");
}

/** Removes the secret wrappers, keeping the values (for checks on what would reach the cluster). */
export function revealSecrets(value: unknown): unknown {
    return mapSecrets(value, (secret) => revealSecrets(secret.value));
}
