// Reading a stack's `finbot:` config: from the stack file (the offline plan and tests), or from
// the values the Pulumi engine hands the program (`pulumi up`/`preview`).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { RawStackConfig } from "./validate";

export const NAMESPACE = "finbot";
const PREFIX = `${NAMESPACE}:`;

import { SECRET_STAND_IN } from "./standIn";

export { SECRET_STAND_IN };

export type ReadResult = { ok: true; raw: RawStackConfig } | { ok: false; errors: string[] };

/** A stack name as the tools accept it: letters, digits, `_`, `.` and `-`, never a path. */
export const STACK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Stack names are the suffix of `Pulumi.<stack>.yaml`; only plain names are accepted. */
export function stackFileName(stack: string): string {
    if (!STACK_NAME.test(stack)) throw new Error(`"${stack}" is not a stack name (letters, digits, "_", "." and "-")`);
    return `Pulumi.${stack}.yaml`;
}

/**
 * Reads `Pulumi.<stack>.yaml` from `projectDir` (or parses `content` as that file). Encrypted values (`secure: ...`) can only be
 * decrypted by the Pulumi CLI, so they are read as present-but-secret stand-ins.
 */
export function readStackFile(stack: string, projectDir: string, content?: string): ReadResult {
    const file = stackFileName(stack);
    return parseStackFile(
        file,
        content ?? (() => readFileSync(path.join(projectDir, file), "utf8")),
        `is "${stack}" a stack of this project?`,
    );
}

/** Reads any stack file by its path (a test stack, another project's stack); errors name the path as given. */
export function readStackFileAt(file: string, cwd = process.cwd()): ReadResult {
    return parseStackFile(file, () => readFileSync(path.resolve(cwd, file), "utf8"), "does the file exist?");
}

function parseStackFile(file: string, content: string | (() => string), hint: string): ReadResult {
    let text: string;
    try {
        text = typeof content === "string" ? content : content();
    } catch {
        return { ok: false, errors: [`${file}: cannot read the stack file (${hint})`] };
    }
    const lineCounter = new YAML.LineCounter();
    const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
    if (doc.errors.length > 0) {
        return {
            ok: false,
            errors: doc.errors.map(
                (e) => `${file}: not valid YAML at line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`,
            ),
        };
    }
    const parsed: unknown = doc.toJS();
    const config = (parsed as { config?: unknown } | null)?.config ?? {};
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
        return { ok: false, errors: [`${file}: config: expected a map of config keys, given ${typeof config}`] };
    }
    return { ok: true, raw: { file, values: finbotValues(config as Record<string, unknown>, replaceSecure) } };
}

/**
 * The config the Pulumi engine hands the program: every value is a string, structured values are
 * JSON, secrets are already decrypted (the schema marks which values are secret).
 */
export function fromEngineConfig(all: Record<string, string>, stack: string, isSecret: (key: string) => boolean): RawStackConfig {
    return {
        file: stackFileName(stack),
        secretKeys: Object.keys(all)
            .filter((key) => key.startsWith(PREFIX) && isSecret(key))
            .map((key) => key.slice(PREFIX.length)),
        values: finbotValues(all, (value) => {
            if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return value;
            try {
                return JSON.parse(value);
            } catch {
                return value;
            }
        }),
    };
}

function finbotValues(config: Record<string, unknown>, convert: (value: unknown) => unknown): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(PREFIX)) values[key.slice(PREFIX.length)] = convert(value);
    }
    return values;
}

function replaceSecure(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(replaceSecure);
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value);
        if (entries.length === 1 && entries[0][0] === "secure") return SECRET_STAND_IN;
        return Object.fromEntries(entries.map(([k, v]) => [k, replaceSecure(v)]));
    }
    return value;
}
