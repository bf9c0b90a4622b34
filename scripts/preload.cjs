// What Node loads first for the project's own tools (`node --require ./scripts/preload.cjs`: the
// npm scripts and the tests). All of it is for start-up time (docs/benchmarks.md); none of it
// changes what the program does, and `pulumi up` runs without it:
// - The project's TypeScript: each .ts file is compiled by esbuild (types stripped, imports made
//   requires, as tsconfig.json says) and cached under node_modules/.cache; JavaScript is left to
//   Node. A general loader such as tsx also scans every one of the SDKs' ~1,300 JavaScript
//   modules for ES module syntax, which was a third of a plan's start-up.
// - The SDKs' JavaScript, and the project's own unless source maps are on: V8's compiled code is
//   cached beside it, so that later runs skip parsing.
// - The Pulumi SDKs' namespaces (`aws.rds`, `k8s.apps`) load when first used: the AWS SDK's root
//   loads all of its ~250 services where the program uses a dozen.
// - What the SDKs load as they start for work offline tools never do (the Pulumi SDK's TypeScript
//   compiler, gRPC and OpenTelemetry, the Kubernetes SDK's API groups and glob, Grafana's v2
//   dashboards) and zod's messages in other languages than English: only when used (below).
"use strict";
const { createHash } = require("node:crypto");
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");

const PROJECT_DIR = path.resolve(__dirname, "..");
const TS_CACHE_DIR = path.join(PROJECT_DIR, "node_modules", ".cache", "finbot-ts");
const CODE_CACHE_DIR = path.join(PROJECT_DIR, "node_modules", ".cache", "finbot-v8");
const tsconfigRaw = readFileSync(path.join(PROJECT_DIR, "tsconfig.json"), "utf8");
const OPTIONS = { loader: "ts", format: "cjs", target: "es2022", platform: "node", sourcemap: "inline", tsconfigRaw };
const OPTIONS_KEY = `${require("esbuild/package.json").version}\0${JSON.stringify(OPTIONS)}`;

/** A cache file's name: a hash of everything its contents depend on. */
function cacheKey(...parts) {
    const hash = createHash("sha256");
    for (const part of parts) hash.update(part).update("\0");
    return hash.digest("hex");
}

/** A cache file's contents (text with an encoding), or undefined when there is none. */
function readCacheFile(file, encoding) {
    try {
        return readFileSync(file, encoding);
    } catch {
        return undefined;
    }
}

/** The compiled JavaScript of a TypeScript file, from the cache when its source has not changed. */
function compile(source, filename) {
    const cached = path.join(TS_CACHE_DIR, `${cacheKey(OPTIONS_KEY, filename, source)}.js`);
    const code = readCacheFile(cached, "utf8");
    if (code !== undefined) return code;
    // esbuild itself only when there is something to compile.
    const compiled = require("esbuild").transformSync(source, { ...OPTIONS, sourcefile: filename }).code;
    writeCacheFile(cached, compiled);
    return compiled;
}

/** Writes aside and renames, so that parallel test workers never read half a file. */
function writeCacheFile(file, data) {
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, data);
    renameSync(partial, file);
}

function loadTypeScript(module, filename) {
    module._compile(compile(readFileSync(filename, "utf8"), filename), filename);
}

// V8 checks a code cache against the source's length only: the key is the whole source, with the
// Node version and flags (which V8 also checks, rejecting the cache).
const CODE_CACHE_KEY = `${process.version}\0${process.execArgv.join(" ")}`;
const compileJavaScript = Module.prototype._compile;
/** Scripts compiled without a usable cache; their code is cached as the process exits. */
const uncached = [];

/** `require` as Node makes it for a module. */
function requireFor(module) {
    const require = (id) => module.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, module);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return require;
}

// What the project installed, and its own modules unless source maps are on (the tests'
// `--enable-source-maps`): only Node's compile maps their stack traces to the TypeScript. A module
// that imports dynamically needs Node's import callback.
const INSTALLED = path.join(PROJECT_DIR, "node_modules") + path.sep;
const sourceMapped = (filename) => !filename.startsWith(INSTALLED) && process.sourceMapsEnabled !== false;
Module.prototype._compile = function compileWithCodeCache(content, filename) {
    if (sourceMapped(filename) || content.includes("import(")) {
        return compileJavaScript.call(this, content, filename);
    }
    const file = path.join(CODE_CACHE_DIR, cacheKey(CODE_CACHE_KEY, filename, content));
    const cachedData = readCacheFile(file);
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) uncached.push({ script, file });
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename));
};

// At exit the cache also holds the functions the run compiled, not only the top level.
process.on("exit", () => {
    for (const { script, file } of uncached.splice(0)) {
        try {
            writeCacheFile(file, script.createCachedData());
        } catch {
            // A cache that cannot be written only costs the next run its start-up time.
        }
    }
});

// The roots of the Pulumi SDKs import every namespace as they load (`exports.rds =
// require("./rds")`); each becomes a getter that loads it when first read. A namespace registers
// its resource types with the SDK as it loads, which offline only matters for types it holds.
const PULUMI_SDK_ROOT = /[\\/]node_modules[\\/]@pulumi[\\/][^\\/]+[\\/]index\.js$/;
const EAGER_NAMESPACE = /^const (\w+) = __importStar\(require\("\.\/(\w+)"\)\);\nexports\.\1 = \1;$/gm;
const loadJavaScript = Module._extensions[".js"];
Module._extensions[".js"] = function loadJavaScriptLazily(module, filename) {
    if (!PULUMI_SDK_ROOT.test(filename)) return loadJavaScript(module, filename);
    const source = readFileSync(filename, "utf8").replace(
        EAGER_NAMESPACE,
        (_, name, folder) =>
            `Object.defineProperty(exports, "${name}", { enumerable: true, configurable: true, get() {` +
            ` const value = __importStar(require("./${folder}"));` +
            ` Object.defineProperty(exports, "${name}", { enumerable: true, value }); return value; } });`,
    );
    module._compile(source, filename);
};

// Node tries the extensions in the order they were registered. TypeScript's `./releases` means
// releases.ts even beside a releases.json, so .ts comes before .json; .js comes first, as the
// installed packages' requires (all but the project's own) find their file on the first try.
const extensions = Module._extensions;
const loaders = { ...extensions, ".ts": loadTypeScript };
for (const extension of Object.keys(extensions)) delete extensions[extension];
for (const extension of [".js", ".ts", ...Object.keys(loaders)]) extensions[extension] ??= loaders[extension];

/**
 * Puts a stand-in for the module at `modulePath` in Node's cache: it loads the real module the
 * first time anything reads from it. `deferred(key, real)` may answer a key without loading it.
 */
function loadWhenUsed(modulePath, deferred = () => undefined, { callable = false } = {}) {
    let loaded;
    const real = () => {
        if (!loaded) {
            delete require.cache[modulePath];
            loaded = require(modulePath);
        }
        return loaded;
    };
    const standIn = new Module(modulePath);
    standIn.filename = modulePath;
    standIn.loaded = true;
    // A module that exports a function gets a stand-in that can be called (an arrow function has
    // no key a proxy must report); a proxy of an object is never called.
    standIn.exports = new Proxy(callable ? () => undefined : {}, {
        apply: (_, self, args) => Reflect.apply(real(), self, args),
        get: (_, key) => deferred(key, real) ?? real()[key],
        has: (_, key) => key in real(),
        ownKeys: () => Reflect.ownKeys(real()),
        getOwnPropertyDescriptor: (_, key) => {
            const descriptor = Object.getOwnPropertyDescriptor(real(), key);
            return descriptor && { ...descriptor, configurable: true };
        },
    });
    require.cache[modulePath] = standIn;
}

/** What an `import` reads first of a compiled ES module, answered without loading it. */
const esModuleFlag = (key) => (key === "__esModule" ? true : undefined);
/** The same for a CommonJS module, which an `import` then wraps as its default. */
const commonJsFlag = (key) => (key === "__esModule" ? false : undefined);

/** A class made by `make` when first constructed or read from. */
function classWhenUsed(make) {
    let made;
    const real = () => (made ??= make());
    return new Proxy(function Deferred() {}, {
        construct: (_, args, newTarget) => Reflect.construct(real(), args, newTarget),
        apply: (_, self, args) => Reflect.apply(real(), self, args),
        get: (_, key) => real()[key],
    });
}

// The Pulumi SDK loads the TypeScript compiler (9 MB, 0.35 s) as it starts, for serializing
// functions into cloud code, which no offline tool does.
loadWhenUsed(require.resolve("typescript", { paths: [PROJECT_DIR] }));

// It also loads gRPC (0.07 s), the wire to the Pulumi engine, which offline tools do not use
// either: its generated clients (proto/*_grpc_pb.js) only make their classes as they load, so
// a class is made when first used.
// OpenTelemetry (0.02 s) only traces calls on that wire (runtime/settings.js).
const PULUMI_SDK_DIR = path.dirname(require.resolve("@pulumi/pulumi", { paths: [PROJECT_DIR] }));
loadWhenUsed(require.resolve("@opentelemetry/api", { paths: [PULUMI_SDK_DIR] }));
loadWhenUsed(require.resolve("@grpc/grpc-js", { paths: [PULUMI_SDK_DIR] }), (key, real) =>
    key === "makeGenericClientConstructor"
        ? (...args) => classWhenUsed(() => real().makeGenericClientConstructor(...args))
        : esModuleFlag(key),
);

// zod 4.6 loads its messages in 63 languages (0.04 s) where the project uses English, which its
// schemas load themselves (zod/v4/classic/schemas.cjs).
loadWhenUsed(path.join(path.dirname(require.resolve("zod", { paths: [PROJECT_DIR] })), "v4", "locales", "index.cjs"), esModuleFlag);

// What else the SDKs load as they start and offline tools never use: the Pulumi SDK's package
// reader for cloud code (normalize-package-data, 0.02 s, runtime/closure/codePaths.js), and the
// Kubernetes SDK's glob (0.015 s) for the files of a yaml.ConfigFile (yaml/yaml.js).
loadWhenUsed(require.resolve("normalize-package-data", { paths: [PULUMI_SDK_DIR] }), commonJsFlag, { callable: true });
const KUBERNETES_SDK_DIR = path.dirname(require.resolve("@pulumi/kubernetes", { paths: [PROJECT_DIR] }));
loadWhenUsed(require.resolve("glob", { paths: [KUBERNETES_SDK_DIR] }), esModuleFlag);
// The same module loads each of the SDK's 25 API groups as it loads (yaml/yaml.js: a ConfigFile may
// hold any kind), and the Helm namespace loads it: an API group loads when first used.
const KUBERNETES_YAML = readFileSync(path.join(KUBERNETES_SDK_DIR, "yaml", "yaml.js"), "utf8");
for (const [, group] of KUBERNETES_YAML.matchAll(/^const (\w+) = __importStar\(require\("\.\.\/\1"\)\);$/gm))
    loadWhenUsed(path.join(KUBERNETES_SDK_DIR, group, "index.js"), esModuleFlag);

// The Grafana SDK's panels and queries (0.0.21) also build dashboards of schema v2, whose builders
// load both v2 schemas (131 modules, 0.05 s) where the project builds v1 dashboards
// (dashboards/common.ts): the v2 schemas load when first used.
const GRAFANA_SDK_DIST = path.dirname(path.dirname(require.resolve("@grafana/grafana-foundation-sdk/dashboard", { paths: [PROJECT_DIR] })));
for (const schema of ["dashboardv2", "dashboardv2beta1"]) loadWhenUsed(path.join(GRAFANA_SDK_DIST, schema, "index.js"), esModuleFlag);

module.exports = { CACHE_DIRS: [TS_CACHE_DIR, CODE_CACHE_DIR] };
