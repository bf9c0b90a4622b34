// The program run offline: the real `buildPlatform` under Pulumi's mocks, recording every
// registered resource with its inputs and options. The mocks behave like the providers where the
// program depends on it (offlineProviders.ts); stack files are read as the plan reads them
// (offlineStacks.ts); secrets are recognised, redacted or revealed (offlineSecrets.ts). The offline
// plan (`npm run plan`) and the tests both use it.
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig } from "../../components/config/schema";
import { offlineFetcher } from "../../components/lib/manifest";
import { Platform, buildPlatform } from "../../components/platform";
import { ACCOUNT, REGION, mockState } from "./offlineProviders";

export * from "./offlineSecrets";
export * from "./offlineStacks";

export const PROJECT = "finbot";

/** A resource as the engine saw it: inputs are resolved values, secrets still wrapped. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource, if any. */
    parent?: string;
    /** URNs of the resources this one waits for (`dependsOn`). */
    dependsOn: string[];
    protect: boolean;
    /** Pulumi forgets rather than deletes it (`retainOnDelete`). */
    retainOnDelete: boolean;
    /** Custom (provider) resource, or component. */
    custom: boolean;
    /** Inputs as sent to the provider; secrets are `{ [sig]: secretSig, value }` objects. */
    inputs: Record<string, unknown>;
    /** What the mock provider returned. */
    state: Record<string, unknown>;
}

/** Everything one run of the program registered, with queries tests need. */
export class PlatformRun {
    constructor(
        public readonly stack: string,
        public readonly config: PlatformConfig,
        public readonly platform: Platform,
        public readonly resources: RecordedResource[],
    ) {}

    /** Resources of a Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource of a type and Pulumi name; throws (failing the test) when absent. */
    get(type: string, name: string): RecordedResource {
        const found = this.resources.find((r) => r.type === type && r.name === name);
        if (!found) {
            const names = this.ofType(type).map((r) => r.name);
            throw new Error(`no ${type} named "${name}" (${names.length ? `have: ${names.join(", ")}` : "none of that type"})`);
        }
        return found;
    }

    /** Kubernetes objects (not Helm releases, not components) with their resolved inputs. */
    kubernetesObjects(): RecordedResource[] {
        return this.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh/"));
    }

    /** The resource a URN names. */
    byUrn(urn: string): RecordedResource | undefined {
        return this.resources.find((r) => r.urn === urn);
    }
}

/** Awaits an output's value, failing (not hanging) when it never resolves. */
export async function awaitOutput<T>(output: pulumi.Output<T>, timeoutMs = 10_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`output did not resolve within ${timeoutMs} ms`)), timeoutMs);
    });
    // `promise()` is the SDK's own way to read an output in tests; it is not in the public typings.
    const value = (output as unknown as { promise(): Promise<T> }).promise();
    try {
        return await Promise.race([value, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

interface OptionsRecord {
    resource: pulumi.Resource;
    opts: pulumi.ResourceOptions;
}

/** Waits until every registration the program started has reached the mocks. */
export function waitForRegistrations(): Promise<void> {
    // The SDK's own drain of outstanding RPCs (what `disconnect` waits for); not in its public typings.
    return (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

// Runs share Pulumi's global mock state: one at a time.
let queue: Promise<unknown> = Promise.resolve();

/** Runs `work` after every earlier mocked run has finished, so runs never share mock state. */
export function exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
}

/** The last runs, by the key their callers gave. */
const recentRuns = new Map<string, Promise<PlatformRun>>();
const RECENT_RUNS = 8;

/** How to run the program offline. */
export interface RunOptions {
    /**
     * Determines the config (the stack file it was read from: a config holds secrets as outputs,
     * which no key could show). A run with the same key among the last few is returned instead of
     * running the program again: the tests plan the committed stacks many times in one process.
     */
    key?: string;
    /**
     * The run takes the offline short cuts: the mock provider returns only what a provider
     * computes (see mockState), and the SDK's messages to it carry copies rather than protobuf
     * encodings (see encodeStructs). Without them it runs as against a provider, only slower.
     * @default true
     */
    shortCuts?: boolean;
}

/** Runs `buildPlatform(config)` under mocks and records what it registers. */
export function runPlatform(config: PlatformConfig, stack: string, options: RunOptions = {}): Promise<PlatformRun> {
    const shortCuts = options.shortCuts ?? true;
    const start = () => exclusively(() => runPlatformNow(config, stack, shortCuts));
    if (options.key === undefined) return start();
    const cacheKey = `${stack}\0${shortCuts}\0${options.key}`;
    const recent = recentRuns.get(cacheKey);
    if (recent) return recent;
    const run = start();
    recentRuns.set(cacheKey, run);
    if (recentRuns.size > RECENT_RUNS) recentRuns.delete(recentRuns.keys().next().value!);
    // A failed run is not kept: the next call runs again.
    run.catch(() => recentRuns.delete(cacheKey));
    return run;
}

interface Registration {
    type: string;
    name: string;
    custom: boolean;
    inputs: Record<string, unknown>;
    state: Record<string, unknown>;
}

/**
 * Source positions tell the engine where in the program a resource was declared; offline there
 * is no engine to tell. Capturing them costs a full, source-mapped stack trace per resource,
 * which is most of an offline run's time, so the mocked runs skip it.
 */
function skipSourcePositions(): void {
    (pulumi.Resource as unknown as { callsites(): unknown[] }).callsites = () => [];
}

/**
 * The SDK marks every promise it makes (an id, a context, a stack) and tracks it until it settles,
 * to name the ones still pending when a program exits. An offline run waits for every registration
 * itself, and fails on one that never resolves (awaitOutput): the marks only cost it time, a
 * twentieth of a plan.
 */
function skipPromiseTracking(): void {
    // The module object the SDK's runtime calls it through (an import would be a read-only view of it).
    const debuggable = createRequire(__filename)("@pulumi/pulumi/runtime/debuggable") as {
        debuggablePromise<T>(promise: Promise<T>): Promise<T>;
    };
    debuggable.debuggablePromise = (promise) => promise;
}

/**
 * What a value becomes on its way through protobuf's Struct (google-protobuf 3.21
 * struct_pb.js): a copy whose objects list their enumerable keys, own and inherited, in sorted
 * order (jspb.Map sorts them); anything but null, a string, a number, a boolean, an array or an
 * object is refused with protobuf's error.
 */
function structCopy(value: unknown): unknown {
    if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
    if (Array.isArray(value)) {
        const copy: unknown[] = [];
        for (let i = 0; i < value.length; i++) copy.push(structCopy(value[i]));
        return copy;
    }
    if (typeof value === "object") {
        const keys: string[] = [];
        for (const key in value) keys.push(key);
        keys.sort();
        const copy: Record<string, unknown> = {};
        for (const key of keys) copy[key] = structCopy((value as Record<string, unknown>)[key]);
        return copy;
    }
    throw new Error("Unexpected struct type.");
}

interface StructMessage {
    toJavaScript(): unknown;
    getFieldsMap(): unknown;
}
interface StructClass {
    new (): StructMessage;
    fromJavaScript(value: unknown): StructMessage;
}
const { Struct } = createRequire(__filename)("google-protobuf/google/protobuf/struct_pb") as { Struct: StructClass };
const encodeStruct = Struct.fromJavaScript;

/**
 * A Struct carrying a copy of the value as the encoding would make it; its fields are encoded when
 * something reads them. Its one reader (the SDK's deserializeProperties, runtime/rpc.js) only
 * reads the value it decodes and builds its own, so the first decoding hands out the copy itself.
 */
function carryingCopy(value: unknown): StructMessage {
    const snapshot = structCopy(value);
    const struct = new Struct();
    let encoded: StructMessage | undefined;
    let handedOut = false;
    struct.toJavaScript = () => (handedOut ? structCopy(snapshot) : ((handedOut = true), snapshot));
    struct.getFieldsMap = () => (encoded ??= encodeStruct(snapshot)).getFieldsMap();
    return struct;
}

/**
 * The SDK encodes every registration's inputs, and the mock monitor every result, as protobuf
 * Structs, and decodes them on the other side: the wire format between the program and the
 * engine. Offline both sides share one process, so a Struct can carry a copy of the plain value
 * instead, made as the encoding would (structCopy). That was a sixth of an offline run, with the
 * garbage it made.
 */
function encodeStructs(encode: boolean): void {
    Struct.fromJavaScript = encode ? encodeStruct : carryingCopy;
}

/** Installs the provider-like mocks; every registration is appended to the returned list. */
export async function installMocks(stack: string, shortCuts = true): Promise<Registration[]> {
    skipSourcePositions();
    skipPromiseTracking();
    encodeStructs(!shortCuts);
    const registered: Registration[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const { id, state } = mockState(args.type, args.name, args.inputs, !shortCuts);
                registered.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs, state });
                return { id: args.custom === false ? "" : id, state };
            },
            call(args) {
                if (args.token === "aws:index/getRegion:getRegion") return { name: REGION, region: REGION, id: REGION };
                if (args.token === "aws:index/getCallerIdentity:getCallerIdentity")
                    return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, userId: "mock" };
                if (args.token === "aws:ec2/getManagedPrefixList:getManagedPrefixList")
                    return { id: "pl-0c0ffee0cf0r161n", name: args.inputs.name, entries: [] };
                if (args.token === "aws:eks/getCluster:getCluster")
                    return {
                        name: args.inputs.name,
                        identities: [
                            { oidcs: [{ issuer: `https://oidc.eks.${REGION}.amazonaws.com/id/C0FFEE0C0FFEE0C0FFEE0C0FFEE0C0FF` }] },
                        ],
                    };
                return {};
            },
        },
        PROJECT,
        stack,
        false,
    );
    return registered;
}

async function runPlatformNow(config: PlatformConfig, stack: string, shortCuts: boolean): Promise<PlatformRun> {
    // The SDK makes an Error for every resource (to report where a failed registration came
    // from); source-mapping their stacks would be most of an offline run's time. Stacks are plain
    // and empty while the program runs here: with no frames to capture, that costs nothing.
    const sourceMaps = (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled ?? false;
    const stackTraceLimit = Error.stackTraceLimit;
    process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = 0;
    try {
        return await recordRun(config, stack, shortCuts);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
        process.setSourceMapsEnabled(sourceMaps);
    }
}

/**
 * The resources an option's `dependsOn` names, as the engine gathers them. Not through
 * `pulumi.output`: an output's value is searched whole for unknowns, and a resource's whole
 * object graph (its parent, their children, ...) is a large thing to search once per resource.
 */
async function explicitDependencies(dependsOn: pulumi.ResourceOptions["dependsOn"]): Promise<pulumi.Resource[]> {
    const value: unknown = pulumi.Output.isInstance(dependsOn) ? await awaitOutput(dependsOn as pulumi.Output<unknown>) : await dependsOn;
    if (Array.isArray(value)) return (await Promise.all(value.map((d) => explicitDependencies(d as pulumi.Input<pulumi.Resource>)))).flat();
    return pulumi.Resource.isInstance(value) ? [value] : [];
}

async function recordRun(config: PlatformConfig, stack: string, shortCuts: boolean): Promise<PlatformRun> {
    const registered = await installMocks(stack, shortCuts);

    // A legacy transformation on the root component sees every child's options (dependsOn, protect).
    const options = new Map<string, OptionsRecord>();
    const recordOptions: pulumi.ResourceTransformation = ({ resource, type, name, opts }) => {
        const key = `${type}::${name}`;
        if (options.has(key))
            throw new Error(`two resources of type ${type} are named "${name}": derive child names from the component's name`);
        options.set(key, { resource, opts });
        return undefined;
    };
    const platform = buildPlatform(config, { fetchManifest: offlineFetcher }, { transformations: [recordOptions] });
    await awaitOutput(platform.urn);
    await waitForRegistrations();

    const urnOf = (resource: pulumi.Resource) => awaitOutput(resource.urn);
    const resources: RecordedResource[] = [];
    for (const entry of registered) {
        const recorded = options.get(`${entry.type}::${entry.name}`);
        if (!recorded) throw new Error(`no options recorded for ${entry.type} "${entry.name}"`);
        const dependencies = await explicitDependencies(recorded.opts.dependsOn);
        resources.push({
            urn: await urnOf(recorded.resource),
            type: entry.type,
            name: entry.name,
            parent: recorded.opts.parent ? await urnOf(recorded.opts.parent) : undefined,
            dependsOn: await Promise.all(dependencies.map(urnOf)),
            protect: recorded.opts.protect === true,
            retainOnDelete: recorded.opts.retainOnDelete === true,
            custom: entry.custom,
            inputs: entry.inputs,
            state: entry.state,
        });
    }
    return new PlatformRun(stack, config, platform, resources);
}
