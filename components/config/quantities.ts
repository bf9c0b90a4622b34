// Parsers for Kubernetes quantities and Prometheus durations. Config validation uses them to
// reject values the cluster would refuse, and sizing code uses them to add requests up.

const CPU = /^(\d+(?:\.\d+)?)(m?)$/;
const MEMORY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;
const MEMORY_FACTORS: Record<string, number> = {
    "": 1,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
};

/** Millicores of a CPU quantity ("250m", "0.5", "2"), or undefined when it does not parse. */
export function parseCpu(quantity: string): number | undefined {
    const m = CPU.exec(quantity);
    if (!m) return undefined;
    const value = Number(m[1]);
    return m[2] === "m" ? value : value * 1000;
}

/** Bytes of a memory or storage quantity ("128Mi", "1Gi", "500M"), or undefined. */
export function parseBytes(quantity: string): number | undefined {
    const m = MEMORY.exec(quantity);
    if (!m) return undefined;
    return Number(m[1]) * MEMORY_FACTORS[m[2] ?? ""];
}

/** Bytes of a Prometheus size ("8GB" = 8e9, "500MiB" = 500 * 2^20), or undefined. */
export function parsePrometheusSize(size: string): number | undefined {
    if (size === "0") return 0;
    const m = /^(\d*\.?\d+)(?:([KMGTPE])(i?))?B$/.exec(size);
    if (!m) return undefined;
    if (!m[2]) return Number(m[1]);
    const power = "KMGTPE".indexOf(m[2]) + 1;
    return Number(m[1]) * (m[3] ? 1024 ** power : 1000 ** power);
}

const DURATION = /^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;
const DURATION_PART = /(\d+)(ms|y|w|d|h|m|s)/g;
const DURATION_SECONDS: Record<string, number> = {
    ms: 0.001,
    s: 1,
    m: 60,
    h: 3600,
    d: 86400,
    w: 7 * 86400,
    y: 365 * 86400,
};

/** Seconds of a Prometheus duration ("30d", "1h30m", "15s"), or undefined. */
export function parseDuration(duration: string): number | undefined {
    if (duration === "" || !DURATION.test(duration)) return undefined;
    let seconds = 0;
    for (const [, n, unit] of duration.matchAll(DURATION_PART)) seconds += Number(n) * DURATION_SECONDS[unit];
    return seconds;
}

/** "1.5 vCPU" style rendering of millicores, for summaries. */
export function formatCpu(millicores: number): string {
    return `${Number((millicores / 1000).toFixed(3))} vCPU`;
}

/** "3.5 GiB" style rendering of bytes, for summaries. */
export function formatBytes(bytes: number): string {
    const gib = bytes / 2 ** 30;
    return gib >= 1 ? `${Number(gib.toFixed(2))} GiB` : `${Number((bytes / 2 ** 20).toFixed(1))} MiB`;
}
