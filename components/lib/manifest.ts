// Release manifests applied as published (e.g. an operator's `cluster-operator.yml`): fetched by
// the program, checked against the SHA-256 pinned in finbot:releases, then applied from the very
// bytes that were checked. The fetcher is handed in (the program downloads; the offline plan and
// tests stand in), so nothing here reaches the network by itself.
import { createHash } from "node:crypto";

/** Downloads a URL's text. */
export type ManifestFetcher = (url: string) => Promise<string>;

export interface PinnedManifest {
    url: string;
    /** SHA-256 of the asset; null when not recorded yet (refused in production by the config check). */
    sha256: string | null;
}

export class ManifestChecksumError extends Error {}

export function sha256Of(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The manifest's text when it matches its pin (or carries none); throws on a mismatch. */
export function verifyManifest(manifest: PinnedManifest, text: string): string {
    const actual = sha256Of(text);
    if (manifest.sha256 !== null && actual !== manifest.sha256) {
        throw new ManifestChecksumError(`${manifest.url}: SHA-256 is ${actual}, the pin is ${manifest.sha256}; refusing to apply it`);
    }
    return text;
}

/** The real download, bounded in time. */
export const httpFetcher: ManifestFetcher = async (url) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000), redirect: "follow" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.text();
};

/** What the offline plan applies in place of a manifest it cannot download: a comment naming what `pulumi up` verifies. */
export const offlineFetcher: ManifestFetcher = async (url) => `# fetched and verified against its pinned SHA-256 by pulumi up: ${url}\n`;
