// What Node loads first for the project's own tools (`node --require ./scripts/preload.cjs`: the
// npm scripts and the tests). Two things, both for start-up time (docs/benchmarks.md):
// - The project's TypeScript: each .ts file is compiled by esbuild (types stripped, imports made
//   requires, as tsconfig.json says) and cached under node_modules/.cache; JavaScript is left to
//   Node. A general loader such as tsx also scans every one of the SDKs' ~1,300 JavaScript
//   modules for ES module syntax, which was a third of a plan's start-up.
// - The TypeScript compiler, loaded by the Pulumi SDK, only when something uses it (below).
"use strict";
const { createHash } = require("node:crypto");
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const PROJECT_DIR = path.resolve(__dirname, "..");
const CACHE_DIR = path.join(PROJECT_DIR, "node_modules", ".cache", "finbot-ts");
const tsconfigRaw = readFileSync(path.join(PROJECT_DIR, "tsconfig.json"), "utf8");
const OPTIONS = { loader: "ts", format: "cjs", target: "es2022", platform: "node", sourcemap: "inline", tsconfigRaw };
const OPTIONS_KEY = `${require("esbuild/package.json").version}\0${JSON.stringify(OPTIONS)}`;

/** The compiled JavaScript of a TypeScript file, from the cache when its source has not changed. */
function compile(source, filename) {
    const key = createHash("sha256").update(OPTIONS_KEY).update("\0").update(filename).update("\0").update(source).digest("hex");
    const cached = path.join(CACHE_DIR, `${key}.js`);
    try {
        return readFileSync(cached, "utf8");
    } catch {
        // esbuild itself only when there is something to compile.
        const { code } = require("esbuild").transformSync(source, { ...OPTIONS, sourcefile: filename });
        // Written aside and renamed, so that parallel test workers never read half a file.
        mkdirSync(CACHE_DIR, { recursive: true });
        const partial = `${cached}.${process.pid}`;
        writeFileSync(partial, code);
        renameSync(partial, cached);
        return code;
    }
}

function loadTypeScript(module, filename) {
    module._compile(compile(readFileSync(filename, "utf8"), filename), filename);
}

// TypeScript's `./releases` means releases.ts even beside a releases.json: Node tries the
// extensions in the order they were registered, so .ts goes first.
const extensions = Module._extensions;
const registered = Object.entries(extensions);
for (const [extension] of registered) delete extensions[extension];
extensions[".ts"] = loadTypeScript;
for (const [extension, load] of registered) if (extension !== ".ts") extensions[extension] = load;

// The Pulumi SDK loads the TypeScript compiler (9 MB, 0.35 s) as it starts, for serializing
// functions into cloud code, which no offline tool does: it gets a stand-in that loads the real
// compiler the first time anything reads from it.
const typescriptPath = require.resolve("typescript", { paths: [PROJECT_DIR] });
let typescript;
const real = () => {
    if (!typescript) {
        delete require.cache[typescriptPath];
        typescript = require(typescriptPath);
    }
    return typescript;
};
const lazy = new Module(typescriptPath);
lazy.filename = typescriptPath;
lazy.loaded = true;
lazy.exports = new Proxy(
    {},
    {
        get: (_, key) => real()[key],
        has: (_, key) => key in real(),
        ownKeys: () => Reflect.ownKeys(real()),
        getOwnPropertyDescriptor: (_, key) => {
            const descriptor = Object.getOwnPropertyDescriptor(real(), key);
            return descriptor && { ...descriptor, configurable: true };
        },
    },
);
require.cache[typescriptPath] = lazy;
