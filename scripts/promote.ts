// npm run promote -- --from dev --to prod [--check] [--prometheus-url <url>]
// Copies what promotion moves (`finbot:releases`: images, chart versions, Elastic Stack version)
// from one stack file to another, leaving every other key, comment and line as it is.
// --check changes nothing and fails when the target carries a release the source never had.
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { stackFileName } from "../components/config/load";
import {
    PromotionError,
    runPromotionCommand,
    ahead,
    withReleases,
    diff,
    leaves,
    parseDocument,
    readText,
    releaseHistory,
    releasesOf,
    renderDiff,
    schemaProblems,
    unpinned,
} from "./lib/promotion";
import { burningSlos } from "./lib/healthGate";

const USAGE = "usage: npm run promote -- --from <stack> --to <stack> [--check] [--prometheus-url <url>]";

interface Args {
    from: string;
    to: string;
    check: boolean;
    prometheusUrl?: string;
}

export function parseArgs(argv: string[]): Args | { errors: string[] } {
    const values: Record<string, string> = {};
    const errors: string[] = [];
    let check = false;
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].includes("=")
            ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)]
            : [argv[i], undefined];
        if (flag === "--check") check = true;
        else if (["--from", "--to", "--prometheus-url"].includes(flag)) {
            const value = inline ?? argv[++i];
            if (!value || value.startsWith("--")) errors.push(`${flag} needs a value`);
            else values[flag] = value;
        } else errors.push(`unknown argument "${argv[i]}"`);
    }
    for (const required of ["--from", "--to"])
        if (!values[required] && !errors.some((e) => e.startsWith(required))) errors.push(`${required} is required`);
    if (values["--from"] && values["--from"] === values["--to"]) errors.push("--from and --to name the same stack");
    return errors.length ? { errors } : { from: values["--from"], to: values["--to"], check, prometheusUrl: values["--prometheus-url"] };
}

export async function promote(projectDir: string, args: Args, log: (line: string) => void): Promise<void> {
    const fromFile = stackFileName(args.from);
    const toFile = stackFileName(args.to);
    const fromDoc = parseDocument(readText(projectDir, args.from), fromFile);
    const toText = readText(projectDir, args.to);
    const toDoc = parseDocument(toText, toFile);
    const source = releasesOf(fromDoc, fromFile);
    const target = releasesOf(toDoc, toFile);

    if (args.check) {
        // Every release the target carries must have been in the source at some point.
        const seen = new Map<string, Set<string>>();
        for (const { releases } of releaseHistory(projectDir, args.from))
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
        const burning = await burningSlos(args.prometheusUrl);
        if (burning.length) throw new PromotionError(burning.map((b) => `${fromFile}: SLO burning, promotion refused: ${b}`));
        log(`health gate: no SLO of ${args.from} is burning`);
    } else {
        log(`health gate skipped: no --prometheus-url for ${args.from} (offline)`);
    }

    const text = withReleases(toText, source);
    const rejected = schemaProblems(projectDir, args.to, text);
    if (rejected.length) throw new PromotionError(rejected);
    const changes = diff(target, source);
    log(renderDiff(toFile, changes));
    if (changes.length) writeFileSync(path.join(projectDir, toFile), text);
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    if ("errors" in args) {
        for (const e of args.errors) console.error(`promote: ${e}`);
        console.error(USAGE);
        return 2;
    }
    return runPromotionCommand(() => promote(process.cwd(), args, (line) => console.log(line)));
}

if (require.main === module) void main().then((code) => process.exit(code));
