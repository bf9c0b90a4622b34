// npm run manifests:pin [-- <name>...]
// Records the SHA-256 of each pinned release manifest (components/config/releases.json) after
// downloading it and checking that it is a Kubernetes manifest. Run it once per new version, on a
// machine with network access, and commit the result: the program then applies only those bytes.
// Only the checksum values change in the file (atomic write).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { ManifestSource, manifestUrl } from "../components/config/releases";
import { ManifestFetcher, httpFetcher, sha256Of } from "../components/lib/manifest";
import { Io, runCli } from "./lib/cli";
import { writeFileAtomic } from "./lib/files";
import { RELEASE_DEFAULTS_FILE } from "./lib/promotion";

/** Why `text` is not a Kubernetes manifest, or undefined. */
export function manifestProblem(text: string): string | undefined {
    let docs: unknown[];
    try {
        docs = YAML.parseAllDocuments(text).map((d) => d.toJS());
    } catch (error) {
        return `not YAML (${(error as Error).message.split("\n")[0]})`;
    }
    const objects = docs.filter((d): d is { kind?: unknown; apiVersion?: unknown } => d !== null && typeof d === "object");
    if (objects.length === 0) return "holds no Kubernetes object";
    const bad = objects.find((o) => typeof o.kind !== "string" || typeof o.apiVersion !== "string");
    return bad ? "holds a document without apiVersion and kind" : undefined;
}

export async function main(argv: string[], io: Io, fetcher: ManifestFetcher = httpFetcher): Promise<number> {
    const file = path.join(io.cwd, RELEASE_DEFAULTS_FILE);
    const text = readFileSync(file, "utf8");
    const manifests = (JSON.parse(text) as { manifests: Record<string, ManifestSource> }).manifests;
    const unknown = argv.filter((name) => !(name in manifests));
    if (unknown.length > 0) {
        for (const name of unknown) io.err(`manifests:pin: no manifest "${name}" (have: ${Object.keys(manifests).join(", ")})`);
        return 2;
    }
    let out = text;
    for (const [name, manifest] of Object.entries(manifests).filter(([n]) => argv.length === 0 || argv.includes(n))) {
        const url = manifestUrl(manifest);
        let body: string;
        try {
            body = await fetcher(url);
        } catch (error) {
            io.err(`manifests:pin: ${name}: cannot download ${url}: ${(error as Error).message}`);
            return 1;
        }
        const problem = manifestProblem(body);
        if (problem) {
            io.err(`manifests:pin: ${name}: ${url} ${problem}`);
            return 1;
        }
        const sha256 = sha256Of(body);
        // The one "sha256" value of this manifest's block changes; nothing else in the file does.
        const block = new RegExp(`("${name}":\\s*\\{[^}]*?"sha256":\\s*)(null|"[a-f0-9]*")`);
        out = out.replace(block, `$1"${sha256}"`);
        io.out(`${name} ${manifest.version}: sha256 ${sha256}${manifest.sha256 === sha256 ? " (unchanged)" : ""}`);
    }
    if (out !== text) writeFileAtomic(file, out);
    return 0;
}

if (require.main === module) runCli("manifests:pin", (argv, io) => main(argv, io));
