// Validation of a stack's raw `finbot:` config against the schema, with one readable line per
// problem: "<stack file>: <key path>: expected <what>, given <what>". Secret values are never
// echoed.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { SECRET_STAND_IN } from "./standIn";
import { checkedPlatformSchema } from "./checks";
import { PlatformConfig, isSecretSchema, platformSchema } from "./schema";
import { isProduction } from "./resolve";

/** A stack's `finbot:` config as read from the stack file or the Pulumi engine. */
export interface RawStackConfig {
    /** The stack file the values come from, named in every error. */
    file: string;
    /** Values by key without the `finbot:` prefix (`services`, `releases`, ...). */
    values: Record<string, unknown>;
    /**
     * Top-level keys (without `finbot:`) the Pulumi engine holds encrypted; undefined for a stack
     * file read directly, where encrypted values are stand-ins.
     */
    secretKeys?: string[];
}

/**
 * How strict to be about placeholders (`REPLACE_ME`) left in a stack file: a real deployment
 * refuses them; the offline plan accepts them and lists them in its summary.
 */
export type PlaceholderPolicy = "reject" | "allow";

export type ValidationResult = { ok: true; config: PlatformConfig; placeholders: string[] } | { ok: false; errors: string[] };

/** Values a user must replace: `REPLACE_ME`, or `replace-me` where only DNS characters fit. */
export const PLACEHOLDER = /REPLACE_ME|replace-me/;

export function validateConfig(raw: RawStackConfig, placeholders: PlaceholderPolicy = "reject"): ValidationResult {
    // zod (4.6, core/schemas.cjs) compiles a parser for each object schema with `new Function` the
    // first time it parses one. A process parses a stack's config once or a few times: compiling
    // costs more than it saves (validating dev and prod took 48 ms with it, 17 ms without).
    const parsed = checkedPlatformSchema.safeParse(raw.values, { jitless: true });
    const found = findPlaceholders(raw.values);
    const errors = parsed.success ? [] : parsed.error.issues.flatMap((issue) => describeIssue(raw, issue));
    if (placeholders === "reject") {
        for (const path of found) {
            errors.push(
                `${raw.file}: ${keyPath(path)}: expected a real value in place of the placeholder, given ${describeValue(valueAt(raw.values, path))}`,
            );
        }
    }
    // Production applies release manifests only when their checksum is recorded: like a placeholder,
    // listed by the offline plan and refused by a deployment.
    // A secret in plain text would be committed to git with the stack file: refused, placeholders aside.
    if (parsed.success) {
        for (const path of plainSecrets(raw, parsed.data).filter((p) => !found.some((f) => keyPath(f) === keyPath(p))))
            errors.push(
                `${raw.file}: ${keyPath(path)}: expected a secret (pulumi config set --secret --path '${keyPath(path)}' <value>), given plain text that would be committed with the stack file`,
            );
    }
    const unpinned = parsed.success && isProduction(parsed.data) ? unpinnedManifests(parsed.data) : [];
    if (placeholders === "reject") {
        for (const p of unpinned)
            errors.push(
                `${raw.file}: ${keyPath(p)}: expected the SHA-256 of the release asset in production (npm run manifests:pin), given nothing`,
            );
    }
    if (errors.length > 0 || !parsed.success) return { ok: false, errors: [...new Set(errors)] };
    return { ok: true, config: parsed.data, placeholders: [...found, ...unpinned].map(keyPath) };
}

/** `["services", 0, "replicas"]` -> `finbot:services[0].replicas`. */
export function keyPath(path: readonly PropertyKey[]): string {
    let out = "finbot:";
    path.forEach((segment, i) => {
        if (typeof segment === "number") out += `[${segment}]`;
        else out += i === 0 ? String(segment) : `.${String(segment)}`;
    });
    return path.length === 0 ? "finbot" : out;
}

/**
 * Keys that moved, by their old path: a stack file that still sets one is told where it went
 * (docs/config.md lists them under "Moved keys").
 */
export const MOVED_KEYS: Record<string, string> = {
    "traffic.metricsServer": "autoscaling.metricsServer",
};

function describeIssue(raw: RawStackConfig, issue: z.core.$ZodIssue): string[] {
    const where = (path: readonly PropertyKey[]) => `${raw.file}: ${keyPath(path)}`;
    const secret = isSecretPath(issue.path);
    const given = secret ? "a secret (not shown)" : describeValue(valueAt(raw.values, issue.path));
    switch (issue.code) {
        case "unrecognized_keys": {
            const known = knownKeys(issue.path);
            return issue.keys.map((key) => {
                const movedTo = MOVED_KEYS[[...issue.path, key].join(".")];
                return movedTo
                    ? `${where([...issue.path, key])}: moved to finbot:${movedTo} (set it there; docs/config.md, "Moved keys")`
                    : `${where([...issue.path, key])}: unknown key (expected one of: ${known.map((k) => (issue.path.length === 0 ? `finbot:${k}` : k)).join(", ")})`;
            });
        }
        case "invalid_type":
            return [`${where(issue.path)}: expected ${article(issue.expected)}, given ${given}`];
        case "too_small":
        case "too_big": {
            const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
            const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
            const what =
                issue.origin === "array"
                    ? `a list with ${issue.code === "too_small" ? "at least" : "at most"} ${bound} items`
                    : issue.origin === "string"
                      ? `a string of ${issue.code === "too_small" ? "at least" : "at most"} ${bound} characters`
                      : `a number ${op} ${bound}`;
            return [`${where(issue.path)}: expected ${secret ? issue.message : what}, given ${given}`];
        }
        case "invalid_value":
            return [`${where(issue.path)}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, given ${given}`];
        case "invalid_key":
            return [`${where(issue.path)}: expected a key that is ${issue.issues[0]?.message ?? "valid"}, given ${given}`];
        default:
            // Custom checks, formats and refinements carry their own "expected" text.
            return [`${where(issue.path)}: expected ${issue.message}, given ${given}`];
    }
}

function article(type: string): string {
    if (type === "int") return "a whole number";
    if (type === "object") return "a map";
    if (type === "array") return "a list";
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** What was given, short: a JSON rendering cut at 60 characters, or "nothing". */
export function describeValue(value: unknown): string {
    if (value === undefined) return "nothing";
    if (Array.isArray(value)) return `a list ${truncate(JSON.stringify(value))}`;
    if (value !== null && typeof value === "object") return `a map ${truncate(JSON.stringify(value))}`;
    return truncate(JSON.stringify(value));
}

function truncate(text: string): string {
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let current: unknown = root;
    for (const segment of path) {
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<PropertyKey, unknown>)[segment];
    }
    return current;
}

// ---- schema introspection: which paths are secret, which keys exist ----

type AnyDef = {
    type: string;
    innerType?: z.ZodType;
    in?: z.ZodType;
    element?: z.ZodType;
    valueType?: z.ZodType;
    shape?: Record<string, z.ZodType>;
};
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: AnyDef } })._zod.def;

/** Unwraps optional/default/prefault/pipe wrappers down to the schema that has the structure. */
function unwrap(schema: z.ZodType, stopAtSecret = false): z.ZodType {
    let current = schema;
    for (;;) {
        if (stopAtSecret && isSecretSchema(current)) return current;
        const def = defOf(current);
        if (def.innerType) current = def.innerType;
        else if (def.type === "pipe" && def.in) current = def.in;
        else return current;
    }
}

/** The schema that validates the value at `path`, or undefined when the path leaves the schema. */
export function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
    let current: z.ZodType | undefined = platformSchema;
    for (const segment of path) {
        if (!current) return undefined;
        const def = defOf(unwrap(current));
        if (def.type === "object") current = def.shape?.[String(segment)];
        else if (def.type === "array") current = def.element;
        else if (def.type === "record") current = def.valueType;
        else return undefined;
    }
    return current;
}

function isSecretPath(path: readonly PropertyKey[]): boolean {
    for (let i = path.length; i >= 1; i--) {
        const schema = schemaAt(path.slice(0, i));
        if (schema && isSecretSchema(unwrap(schema, true))) return true;
    }
    return false;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
    const schema = schemaAt(path);
    const def = schema ? defOf(unwrap(schema)) : undefined;
    return def?.type === "object" ? Object.keys(def.shape ?? {}) : [];
}

/** Key paths of the secrets in a parsed config (they became Pulumi secrets). */
function secretPaths(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
    if (pulumi.Output.isInstance(value)) return [path];
    if (Array.isArray(value)) return value.flatMap((item, i) => secretPaths(item, [...path, i]));
    if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => secretPaths(v, [...path, k]));
    return [];
}

/** Secrets given as plain text: not a `secure:` stand-in (stack file), or under a key the engine does not hold encrypted. */
function plainSecrets(raw: RawStackConfig, config: PlatformConfig): PropertyKey[][] {
    return secretPaths(config).filter((path) =>
        raw.secretKeys === undefined ? valueAt(raw.values, path) !== SECRET_STAND_IN : !raw.secretKeys.includes(String(path[0])),
    );
}

/** Key paths of release manifests without a recorded SHA-256. */
export function unpinnedManifests(config: PlatformConfig): PropertyKey[][] {
    return Object.entries(config.releases.manifests)
        .filter(([, m]) => m.sha256 === null)
        .map(([name]) => ["releases", "manifests", name, "sha256"]);
}

/** Key paths of string values that still hold a placeholder. */
export function findPlaceholders(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
    if (typeof value === "string") return PLACEHOLDER.test(value) ? [path] : [];
    if (Array.isArray(value)) return value.flatMap((item, i) => findPlaceholders(item, [...path, i]));
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([key, item]) => findPlaceholders(item, [...path, key]));
    }
    return [];
}
