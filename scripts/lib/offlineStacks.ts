// Stack files read and validated as the offline plan does: placeholders allowed, problems thrown.
import * as path from "node:path";
import { readStackFile, readStackFileAt } from "../../components/config/load";
import { PlatformConfig } from "../../components/config/schema";
import { validateConfig } from "../../components/config/validate";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** Validates a stack file read as the offline plan does (placeholders allowed); throws on problems. */
function validatedStackFile(read: ReturnType<typeof readStackFile>): { config: PlatformConfig; placeholders: string[] } {
    if (!read.ok) throw new Error(read.errors.join("\n"));
    const result = validateConfig(read.raw, "allow");
    if (!result.ok) throw new Error(result.errors.join("\n"));
    return { config: result.config, placeholders: result.placeholders };
}

/** Reads and validates `Pulumi.<stack>.yaml` as the offline plan does (placeholders allowed). */
export function loadStackConfig(stack: string, projectDir = PROJECT_DIR): { config: PlatformConfig; placeholders: string[] } {
    return validatedStackFile(readStackFile(stack, projectDir));
}

/** Reads and validates any stack file (an absolute path, or relative to the project) as the offline plan does. */
export function loadStackFileConfig(file: string): { config: PlatformConfig; placeholders: string[] } {
    return validatedStackFile(readStackFileAt(file, PROJECT_DIR));
}
