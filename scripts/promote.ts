// npm run promote -- --from dev --to prod [--check] [--prometheus-url <url>]
// Copies what promotion moves (`finbot:releases`: images, chart versions, Elastic Stack version)
// from one stack file to another, leaving every other key, comment and line as it is.
// --check changes nothing and fails when the target carries a release the source never had.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Io, argumentError, runCli } from "./lib/cli";
import { writeFileAtomic } from "./lib/files";
import { sloHealth } from "./lib/healthGate";
import {
    PromotionError,
    ahead,
    diff,
    effectiveReleaseHistory,
    effectiveReleases,
    leaves,
    parseDocument,
    readText,
    releasesOf,
    renderDiff,
    runPromotionCommand,
    schemaProblems,
    stackFileNameOrError,
    unpinned,
    withReleases,
} from "./lib/promotion";

const USAGE = "usage: npm run promote -- --from <stack> --to <stack> [--check] [--prometheus-url <url>]";

export interface PromoteArgs {
    from: string;
    to: string;
    check: boolean;
    prometheusUrl?: string;
}

export function parsePromoteArgs(argv: string[]): PromoteArgs | { errors: string[] } {
    let values: { from?: string; to?: string; check?: boolean; "prometheus-url"?: string };
    try {
        ({ values } = parseArgs({
            args: argv,
            options: { from: { type: "string" }, to: { type: "string" }, check: { type: "boolean" }, "prometheus-url": { type: "string" } },
        }));
    } catch (error) {
        return { errors: [argumentError(error)] };
    }
    const errors: string[] = [];
    for (const flag of ["from", "to"] as const) if (!values[flag]) errors.push(`--${flag} is required`);
    if (values.from && values.from === values.to) errors.push("--from and --to name the same stack");
    if (errors.length > 0) return { errors };
    return { from: values.from!, to: values.to!, check: values.check ?? false, prometheusUrl: values["prometheus-url"] };
}

export async function promote(projectDir: string, args: PromoteArgs, log: (line: string) => void): Promise<void> {
    const fromFile = stackFileNameOrError(args.from);
    const toFile = stackFileNameOrError(args.to);
    // The source runs the release defaults with its own pins on top; the target pins everything it runs.
    const source = effectiveReleases(projectDir, args.from);
    const toText = readText(projectDir, args.to);
    const target = releasesOf(parseDocument(toText, toFile), toFile);

    if (args.check) {
        // Every release the target carries must have been in the source at some point.
        const seen = new Map<string, Set<string>>();
        for (const { releases } of effectiveReleaseHistory(projectDir, args.from))
            for (const [k, v] of leaves(releases)) seen.set(k, (seen.get(k) ?? new Set()).add(v));
        for (const [k, v] of leaves(source)) seen.set(k, (seen.get(k) ?? new Set()).add(v));
        const foreign = [...leaves(target)]
            .filter(([k, v]) => !seen.get(k)?.has(v))
            .map(([k, v]) => `${toFile}: finbot:releases.${k} is ${v}, which ${fromFile} never had`);
        if (foreign.length) throw new PromotionError(foreign);
        log(`${toFile}: every release was proven in ${fromFile}`);
        return;
    }

    const problems = [...unpinned(source, fromFile), ...ahead(source, target, fromFile, toFile)];
    if (problems.length) throw new PromotionError(problems);

    if (args.prometheusUrl) {
        const health = await sloHealth(args.prometheusUrl);
        if (!health.reachable)
            throw new PromotionError([
                `${args.from}'s Prometheus at ${args.prometheusUrl} is unreachable (${health.why}): its SLOs are unknown, promotion refused`,
            ]);
        if (health.burning.length) throw new PromotionError(health.burning.map((b) => `${fromFile}: SLO burning, promotion refused: ${b}`));
        log(`health gate: no SLO of ${args.from} is burning`);
    } else {
        log(`health gate skipped: no --prometheus-url for ${args.from} (offline)`);
    }

    const text = withReleases(toText, source, true);
    const rejected = schemaProblems(projectDir, args.to, text);
    if (rejected.length) throw new PromotionError(rejected);
    const changes = diff(target, releasesOf(parseDocument(text, toFile), toFile));
    log(renderDiff(toFile, changes));
    if (changes.length) writeFileAtomic(path.join(projectDir, toFile), text);
}

export async function main(argv: string[], io: Io): Promise<number> {
    const args = parsePromoteArgs(argv);
    if ("errors" in args) {
        for (const e of args.errors) io.err(`promote: ${e}`);
        io.err(USAGE);
        return 2;
    }
    return runPromotionCommand(io, () => promote(io.cwd, args, io.out));
}

if (require.main === module) runCli("promote", main);
