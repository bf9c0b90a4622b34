// Stack files read and validated as the offline plan does: placeholders allowed, problems thrown.
import * as path from "node:path";
import { readStackFile, readStackFileAt } from "../../components/config/load";
import { PlatformConfig } from "../../components/config/schema";
import { RawStackConfig, validateConfig } from "../../components/config/validate";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/**
 * The key of an offline run of a stack file's config (`RunOptions.key`): the values as read. The
 * plan, preflight and the tests key their runs alike, so that one process runs a stack file once.
 */
export const stackFileKey = (raw: RawStackConfig): string => JSON.stringify(raw);

/** A stack file's validated config, its placeholders, and the key of its runs (stackFileKey). */
export interface LoadedStack {
    config: PlatformConfig;
    placeholders: string[];
    key: string;
}

/** Validates a stack file read as the offline plan does (placeholders allowed); throws on problems. */
function validatedStackFile(read: ReturnType<typeof readStackFile>): LoadedStack {
    if (!read.ok) throw new Error(read.errors.join("\n"));
    const result = validateConfig(read.raw, "allow");
    if (!result.ok) throw new Error(result.errors.join("\n"));
    return { config: result.config, placeholders: result.placeholders, key: stackFileKey(read.raw) };
}

/** Reads and validates `Pulumi.<stack>.yaml` as the offline plan does (placeholders allowed). */
export function loadStackConfig(stack: string, projectDir = PROJECT_DIR): LoadedStack {
    return validatedStackFile(readStackFile(stack, projectDir));
}

/** Reads and validates any stack file (an absolute path, or relative to the project) as the offline plan does. */
export function loadStackFileConfig(file: string): LoadedStack {
    return validatedStackFile(readStackFileAt(file, PROJECT_DIR));
}
