// Markdown tables for summary.md.

/** A Markdown table from a header row and data rows. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
    const escape = (cell: string | number) => String(cell).replace(/\|/g, "\\|");
    return [
        `| ${header.map(escape).join(" | ")} |`,
        `| ${header.map(() => "---").join(" | ")} |`,
        ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
    ].join("\n");
}

/**
 * A whole number with its thousands grouped by commas, as `toLocaleString("en-US")` writes it,
 * without loading the locale data that costs a plan 15 ms.
 */
export function groupThousands(count: number): string {
    if (!Number.isSafeInteger(count)) throw new Error(`${count} is not a whole number`);
    return String(count).replace(/\B(?=(\d{3})+$)/g, ",");
}

/**
 * Orders text the same on every machine: case-insensitively, then by code point. localeCompare
 * would follow the runner's locale (Swedish puts å after z, Danish capitals first), so two
 * engineers' plans of one commit could differ.
 */
export function byText(a: string, b: string): number {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    if (x !== y) return x < y ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
}
