// npm run plan -- --stack <name> [--out <dir>]
// The offline plan: runs the real program under the mock harness (no cluster, cloud or Pulumi
// CLI) and writes plan.json, manifests/, helm/ and summary.md to <dir> (default plan/<stack>/).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { readStackFile } from "../components/config/load";
import { validateConfig } from "../components/config/validate";
import { renderSummary } from "../components/platform/summary";
import { PROJECT, PlatformRun, RecordedResource, redactSecrets, runPlatform } from "../test/harness";

export const USAGE = "usage: npm run plan -- --stack <name> [--out <dir>]";

export interface PlanArgs {
    stack: string;
    out: string;
}

/** Parses the command line; returns the problems instead when it is wrong. */
export function parsePlanArgs(argv: string[]): PlanArgs | { errors: string[] } {
    const errors: string[] = [];
    let stack: string | undefined;
    let out: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        if (flag === "--stack" || flag === "--out") {
            const value = inline ?? argv[++i];
            if (value === undefined || value === "" || value.startsWith("--")) errors.push(`${flag} needs a value`);
            else if (flag === "--stack") stack = value;
            else out = value;
        } else {
            errors.push(`unknown argument "${arg}"`);
        }
    }
    if (stack === undefined && !errors.some((e) => e.startsWith("--stack"))) errors.push("--stack is required");
    if (stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(stack)) errors.push(`--stack "${stack}" is not a stack name`);
    if (errors.length > 0) return { errors };
    return { stack: stack!, out: out ?? path.join("plan", stack!) };
}

/** The plan.json document (DESIGN.md's contract), secrets replaced by "[secret]". */
export function planDocument(run: PlatformRun): object {
    return {
        stack: run.stack,
        project: PROJECT,
        resources: run.resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent ?? null,
            dependsOn: r.dependsOn,
            protect: r.protect,
            inputs: redactSecrets(r.inputs),
        })),
    };
}

const fileSafe = (text: string) => text.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");

/** File name of a Kubernetes object's manifest: `<kind>-<namespace>-<name>.yaml`. */
export function manifestFileName(resource: RecordedResource): string {
    const inputs = resource.inputs as { kind?: string; metadata?: { name?: string; namespace?: string } };
    const metadata = (resource.state.metadata ?? inputs.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = inputs.kind ?? resource.type.split(":").pop()!;
    return `${fileSafe([kind, metadata.namespace, metadata.name ?? resource.name].filter(Boolean).join("-"))}.yaml`;
}

/** Writes the plan of a finished run into `outDir` (replacing what was there). */
export function writePlan(run: PlatformRun, outDir: string, placeholders: string[]): string[] {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(path.join(outDir, "manifests"), { recursive: true });
    mkdirSync(path.join(outDir, "helm"), { recursive: true });
    const written: string[] = [];
    const write = (file: string, text: string) => {
        writeFileSync(path.join(outDir, file), text);
        written.push(file);
    };
    write("plan.json", `${JSON.stringify(planDocument(run), null, 2)}\n`);
    for (const resource of run.kubernetesObjects()) {
        const inputs = redactSecrets(resource.inputs) as Record<string, unknown>;
        const metadata = { ...(inputs.metadata as object), ...(redactSecrets(resource.state.metadata) as object) };
        write(path.join("manifests", manifestFileName(resource)), YAML.stringify({ ...inputs, metadata }));
    }
    for (const release of run.ofType("kubernetes:helm.sh/v3:Release")) {
        const values = redactSecrets(release.inputs.values ?? {});
        const header = `# chart ${String(release.inputs.chart)} ${String(release.inputs.version)} from ${String((release.inputs.repositoryOpts as { repo?: string } | undefined)?.repo ?? "")}\n`;
        write(path.join("helm", `${fileSafe(release.name)}.yaml`), header + YAML.stringify(values));
    }
    write("summary.md", renderSummary({ stack: run.stack, config: run.config, resources: run.resources, placeholders }));
    return written;
}

async function main(argv: string[]): Promise<number> {
    const args = parsePlanArgs(argv);
    if ("errors" in args) {
        for (const error of args.errors) console.error(`plan: ${error}`);
        console.error(USAGE);
        return 2;
    }
    // Like the Pulumi CLI, the stack files are those of the current directory.
    const read = readStackFile(args.stack, process.cwd());
    const result = read.ok ? validateConfig(read.raw, "allow") : { ok: false as const, errors: read.errors };
    if (!result.ok) {
        for (const error of result.errors) console.error(error);
        return 1;
    }
    const run = await runPlatform(result.config, args.stack);
    const outDir = path.resolve(args.out);
    const written = writePlan(run, outDir, result.placeholders);
    console.log(
        `plan of stack ${args.stack}: ${run.resources.length} resources, ${written.length} files in ${path.relative(process.cwd(), outDir) || "."}`,
    );
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            console.error(`plan: ${error instanceof Error ? error.message : String(error)}`);
            process.exit(1);
        },
    );
}
