// npm run plan -- --stack <name> [--stack <name>...] [--config <file>...] [--out <dir>] [--against <dir>]
// The offline plan: runs the real program under Pulumi's mocks (no cluster, cloud or Pulumi CLI)
// and writes plan.json, fingerprints.json, manifests/, helm/ and summary.md for each stack, plus
// diff.md against an earlier plan. One stack goes to <dir> (default plan/<stack>/); several go
// to <dir>/<stack>/ (default plan/). It only writes into a missing or empty folder or an earlier
// plan, never the current directory, a parent of it or a path git tracks.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
// The manifests and Helm values are written with js-yaml: the Kubernetes SDK loads it anyway,
// and it writes them four times faster than `yaml` (which reads the stack files).
import { dump } from "js-yaml";
import { STACK_NAME, readStackFile, readStackFileAt } from "../components/config/load";
import { validateConfig } from "../components/config/validate";
import { renderSummary } from "../components/platform/summary";
import { Io, argumentError, runCli } from "./lib/cli";
import { outputDirProblem, replaceOwned, unsafeLocation } from "./lib/files";
import { PROJECT, PlatformRun, RecordedResource, isSecretValue, redactSecrets, runPlatform, stackFileKey } from "./lib/offline";
import { PlanSide, readPlanSide, renderPlanDiff } from "./lib/planDiff";

export const USAGE = "usage: npm run plan -- --stack <name> [--stack <name>...] [--config <file>...] [--out <dir>] [--against <dir>]";

/** What one plan writes; an earlier plan is a folder holding only these. */
export const PLAN_ENTRIES = ["plan.json", "fingerprints.json", "summary.md", "diff.md", "manifests", "helm"] as const;

/** A stack to plan: a stack of the current project, or any stack file. */
export interface PlanTarget {
    stack: string;
    /** The stack file, when given with --config. */
    file?: string;
    out: string;
    against?: string;
}

/** The stack a file plans as: `Pulumi.<stack>.yaml`, or the file's name without `.yaml`. */
export function stackOfFile(file: string): string {
    const base = path.basename(file);
    return /^Pulumi\.(.+)\.ya?ml$/.exec(base)?.[1] ?? base.replace(/\.ya?ml$/, "");
}

/** Parses the command line; returns the problems instead when it is wrong. */
export function parsePlanArgs(argv: string[]): { targets: PlanTarget[] } | { errors: string[] } {
    let values: { stack?: string[]; config?: string[]; out?: string; against?: string };
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                stack: { type: "string", multiple: true },
                config: { type: "string", multiple: true },
                out: { type: "string" },
                against: { type: "string" },
            },
        }));
    } catch (error) {
        return { errors: [argumentError(error)] };
    }
    const errors: string[] = [];
    const sources = [
        ...(values.stack ?? []).map((stack) => ({ stack, file: undefined as string | undefined })),
        ...(values.config ?? []).map((file) => ({ stack: stackOfFile(file), file })),
    ];
    if (sources.length === 0) errors.push("--stack or --config is required");
    for (const { stack, file } of sources) {
        if (!STACK_NAME.test(stack)) errors.push(`${file ? `--config ${file}` : `--stack "${stack}"`}: "${stack}" is not a stack name`);
    }
    for (const [flag, value] of [
        ["--out", values.out],
        ["--against", values.against],
    ] as const) {
        if (value === "") errors.push(`${flag} needs a value`);
    }
    const names = sources.map((s) => s.stack);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length > 0) errors.push(`stack "${twice[0]}" is named twice`);
    if (errors.length > 0) return { errors };
    const single = sources.length === 1;
    return {
        targets: sources.map(({ stack, file }) => ({
            stack,
            file,
            out: single ? (values.out ?? path.join("plan", stack)) : path.join(values.out ?? "plan", stack),
            against: values.against === undefined ? undefined : single ? values.against : path.join(values.against, stack),
        })),
    };
}

/** The plan.json document (the offline plan contract), secrets replaced by "[secret]". */
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
            retainOnDelete: r.retainOnDelete,
            inputs: redactSecrets(r.inputs),
        })),
    };
}

/**
 * A fingerprint of every secret input, so that a later diff can say "[secret] changed" without
 * showing it. The offline plan only ever holds stand-ins for secrets (stack files keep real ones
 * encrypted; generated passwords are mock results), never a real value.
 */
export function secretFingerprints(run: PlatformRun): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    const walk = (urn: string, value: unknown, at: string) => {
        if (isSecretValue(value)) {
            out[urn] ??= {};
            out[urn][at] = createHash("sha256").update(JSON.stringify(value.value)).digest("hex").slice(0, 16);
        } else if (Array.isArray(value)) value.forEach((v, i) => walk(urn, v, `${at}[${i}]`));
        else if (value !== null && typeof value === "object")
            for (const [k, v] of Object.entries(value)) walk(urn, v, at ? `${at}.${k}` : k);
    };
    for (const r of run.resources) walk(r.urn, r.inputs, "");
    return out;
}

/** A YAML document: no folded lines, no anchors. */
const toYaml = (value: unknown) => dump(value, { lineWidth: -1, noRefs: true });

const fileSafe = (text: string) => text.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");

/** File name of a Kubernetes object's manifest: `<kind>-<namespace>-<name>.yaml`. */
export function manifestFileName(resource: RecordedResource): string {
    const inputs = resource.inputs as { kind?: string; metadata?: { name?: string; namespace?: string } };
    const metadata = (resource.state.metadata ?? inputs.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = inputs.kind ?? resource.type.split(":").pop()!;
    return `${fileSafe([kind, metadata.namespace, metadata.name ?? resource.name].filter(Boolean).join("-"))}.yaml`;
}

/** Writes the plan of a finished run into `outDir` (an earlier plan there is replaced); returns the files it holds. */
export function writePlan(run: PlatformRun, outDir: string, placeholders: string[], against?: PlanSide): string[] {
    const files = new Map<string, string>();
    const write = (file: string, text: string) => files.set(file, text);
    const doc = planDocument(run) as { resources: Array<{ inputs: Record<string, unknown> }> };
    write("plan.json", `${JSON.stringify(doc, null, 2)}\n`);
    // Redacted once, for plan.json and the files written from the same inputs.
    const redactedInputs = new Map(run.resources.map((resource, i) => [resource, doc.resources[i].inputs]));
    const fingerprints = secretFingerprints(run);
    write("fingerprints.json", `${JSON.stringify(fingerprints, null, 2)}\n`);
    for (const resource of run.kubernetesObjects()) {
        const inputs = redactedInputs.get(resource)!;
        const metadata = { ...(inputs.metadata as object), ...(redactSecrets(resource.state.metadata) as object) };
        write(path.join("manifests", manifestFileName(resource)), toYaml({ ...inputs, metadata }));
    }
    for (const release of run.ofType("kubernetes:helm.sh/v3:Release")) {
        const values = redactedInputs.get(release)!.values ?? {};
        const header = `# chart ${String(release.inputs.chart)} ${String(release.inputs.version)} from ${String((release.inputs.repositoryOpts as { repo?: string } | undefined)?.repo ?? "")}\n`;
        write(path.join("helm", `${fileSafe(release.name)}.yaml`), header + toYaml(values));
    }
    const summary = renderSummary({ stack: run.stack, config: run.config, platform: run.platform, resources: run.resources, placeholders });
    write("summary.md", summary);
    if (against) {
        const resources = (doc as { resources: PlanSide["resources"] }).resources;
        write("diff.md", renderPlanDiff(run.stack, against, { resources, fingerprints, summary }));
    }
    replaceOwned(outDir, PLAN_ENTRIES, files);
    for (const folder of ["manifests", "helm"]) mkdirSync(path.join(outDir, folder), { recursive: true });
    return [...files.keys()];
}

export async function main(argv: string[], io: Io): Promise<number> {
    const cwd = io.cwd;
    const args = parsePlanArgs(argv);
    if ("errors" in args) {
        for (const error of args.errors) io.err(`plan: ${error}`);
        io.err(USAGE);
        return 2;
    }
    // Where it would write, checked before anything runs.
    // Several stacks share the folder that holds theirs (--out).
    const parents = args.targets.length > 1 ? [...new Set(args.targets.map((t) => path.dirname(t.out)))] : [];
    const parentProblems = parents.flatMap((parent) => {
        const unsafe = unsafeLocation(parent, cwd);
        return unsafe ? [`--out ${unsafe}`] : [];
    });
    // Below a safe shared folder (one git call for all stacks), only what each stack's folder holds is left to check.
    const safeFolder = parents.length === 1 && parentProblems.length === 0 ? parents[0] : undefined;
    const problems = [
        ...parentProblems,
        ...args.targets.flatMap((t) => {
            const problem = outputDirProblem(t.out, cwd, PLAN_ENTRIES, "plan.json", safeFolder);
            const againstMissing = t.against !== undefined && !existsSync(path.resolve(cwd, t.against, "plan.json"));
            return [...(problem ? [`--out ${problem}`] : []), ...(againstMissing ? [`--against ${t.against} holds no plan.json`] : [])];
        }),
    ];
    if (problems.length > 0) {
        for (const problem of [...new Set(problems)]) io.err(`plan: ${problem}`);
        return 2;
    }
    // Every stack file is read and validated before any program runs: bad config writes nothing.
    const loaded = args.targets.map((t) => {
        // Like the Pulumi CLI, the stack files are those of the current directory.
        const read = t.file ? readStackFileAt(t.file, cwd) : readStackFile(t.stack, cwd);
        const result = read.ok ? validateConfig(read.raw, "allow") : { ok: false as const, errors: read.errors };
        return { target: t, result, key: read.ok ? stackFileKey(read.raw) : undefined };
    });
    const errors = loaded.flatMap(({ result }) => (result.ok ? [] : result.errors));
    if (errors.length > 0) {
        for (const error of errors) io.err(error);
        return 1;
    }
    for (const { target, result, key } of loaded) {
        if (!result.ok) continue;
        const run = await runPlatform(result.config, target.stack, { key });
        const outDir = path.resolve(cwd, target.out);
        mkdirSync(outDir, { recursive: true });
        const written = writePlan(
            run,
            outDir,
            result.placeholders,
            target.against ? readPlanSide(path.resolve(cwd, target.against)) : undefined,
        );
        io.out(
            `plan of stack ${target.stack}: ${run.resources.length} resources, ${written.length} files in ${path.relative(cwd, outDir) || "."}`,
        );
    }
    return 0;
}

if (require.main === module) runCli("plan", main);
