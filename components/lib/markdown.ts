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
