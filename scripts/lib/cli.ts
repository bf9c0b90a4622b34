// How the command-line scripts run: `main(argv, io)` returns the exit code and writes through `io`,
// so tests call it in-process; `runCli` wires it to the process. An unexpected failure is one
// line on stderr and exit 1, never a stack trace.
export interface Io {
    cwd: string;
    out(line: string): void;
    err(line: string): void;
}

export type Main = (argv: string[], io: Io) => Promise<number> | number;

export function processIo(): Io {
    return { cwd: process.cwd(), out: (line) => console.log(line), err: (line) => console.error(line) };
}

/** Runs `main` with the process' arguments and exits with its code. */
export function runCli(name: string, main: Main): void {
    Promise.resolve()
        .then(() => main(process.argv.slice(2), processIo()))
        .then(
            (code) => process.exit(code),
            (error: unknown) => {
                console.error(`${name}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
                process.exit(1);
            },
        );
}

/** node:util parseArgs' first line, without its advice about `--`. */
export function argumentError(error: unknown): string {
    return (error as Error).message.split("\n")[0].replace(/\. To specify a positional argument.*$/, "");
}
