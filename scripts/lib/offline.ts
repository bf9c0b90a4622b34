// The program run offline: the real `buildPlatform` under Pulumi's mocks, with mocks that behave
// like the providers where the program depends on it (Kubernetes names, ids, AWS ARNs and
// endpoints, random results as secrets), recording every registered resource with its inputs
// and options. The offline plan (`npm run plan`) and the tests both use it.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile, readStackFileAt } from "../../components/config/load";
import { PlatformConfig } from "../../components/config/schema";
import { validateConfig } from "../../components/config/validate";
import { offlineFetcher } from "../../components/lib/manifest";
import { Platform, buildPlatform } from "../../components/platform";

export const PROJECT = "finbot";
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;
const ACCOUNT = "123456789012";
const REGION = "eu-central-1";

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

const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

/** A stable pseudo-random hex string, so that plans are reproducible. */
function stableHex(seed: string, length: number): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/**
 * A deep copy of plain data; anything else (a resource a remote component is handed, such as
 * eks.ManagedNodeGroup's `cluster`) becomes its class name.
 */
function plainCopy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plainCopy);
    if (value === null || typeof value !== "object") return value;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `[${(value as object).constructor?.name ?? "object"}]`;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainCopy(v)]));
}

/**
 * What a provider would return for a new resource: the outputs it computes (ids, names it
 * chooses, ARNs, endpoints, random results). A property it does not return resolves to its input,
 * as the engine resolves it, so the program sees its inputs as outputs either way; echoing them
 * (`echoInputs`, what a provider does) only costs time: a tenth of a plan.
 */
function mockState(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    echoInputs = false,
): { id: string; state: Record<string, unknown> } {
    const { id, state } = computedState(type, name, inputs);
    return { id, state: echoInputs ? { ...(plainCopy(inputs) as Record<string, unknown>), ...state } : state };
}

function computedState(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
    const state: Record<string, unknown> = {};
    const hex = stableHex(`${type}::${name}`, 8);
    if (type.startsWith("random:")) {
        const length = typeof inputs.length === "number" ? inputs.length : 16;
        const value = stableHex(`random::${name}`, 64).repeat(2).slice(0, length);
        if (type.endsWith(":RandomPassword")) {
            // The engine marks these secret (additionalSecretOutputs); the mocks alone would not.
            state.result = secret(value);
            state.bcryptHash = secret(`$2a$10$${stableHex(`bcrypt::${name}`, 53)}`);
        } else if (type.endsWith(":RandomId")) {
            state.hex = value;
            state.b64Url = Buffer.from(value, "hex").toString("base64url");
        } else {
            state.result = value;
        }
        return { id: `${name}-${hex}`, state };
    }
    if (type.startsWith("tls:")) {
        // Stand-ins shaped like PEM, marked as offline so they are never mistaken for real keys.
        const pem = (label: string) =>
            `-----BEGIN ${label}-----\n${Buffer.from(`offline stand-in ${type} ${name}`).toString("base64")}\n-----END ${label}-----\n`;
        if (type === "tls:index/privateKey:PrivateKey") {
            state.privateKeyPem = secret(pem("PRIVATE KEY"));
            state.publicKeyPem = pem("PUBLIC KEY");
        }
        if (type === "tls:index/selfSignedCert:SelfSignedCert") state.certPem = pem("CERTIFICATE");
        return { id: `${name}-${hex}`, state };
    }
    if (type === "kubernetes:helm.sh/v3:Release") {
        const releaseName = typeof inputs.name === "string" ? inputs.name : `${name}-${hex}`;
        const namespace = typeof inputs.namespace === "string" ? inputs.namespace : "default";
        state.name = releaseName;
        state.status = { name: releaseName, namespace, chart: inputs.chart, version: inputs.version, status: "deployed", revision: 1 };
        return { id: `${namespace}/${releaseName}`, state };
    }
    if (type.startsWith("kubernetes:")) {
        const metadata = { ...((inputs.metadata as Record<string, unknown>) ?? {}) };
        // Kubernetes auto-naming: the Pulumi name plus a random suffix.
        if (typeof metadata.name !== "string") metadata.name = `${name}-${hex}`;
        metadata.uid = `${stableHex(`uid::${type}::${name}`, 8)}-0000-4000-8000-000000000000`;
        state.metadata = metadata;
        const id = typeof metadata.namespace === "string" ? `${metadata.namespace}/${metadata.name}` : String(metadata.name);
        return { id, state };
    }
    if (type.startsWith("aws:")) {
        const service = type.split(":")[1].split("/")[0];
        // AWS auto-naming: the Pulumi name plus a random suffix, when no name is given.
        if (inputs.name === undefined) state.name = `${name}-${hex}`;
        const given =
            inputs.identifier ?? inputs.clusterIdentifier ?? inputs.dbProxyEndpointName ?? inputs.bucket ?? inputs.name ?? state.name;
        const id = type === "aws:ec2/securityGroup:SecurityGroup" ? `sg-0${hex}` : String(given);
        state.arn = `arn:aws:${service}:${REGION}:${ACCOUNT}:${id}`;
        state.id = id;
        Object.assign(state, awsEndpoints(type, id), awsComputed(type, inputs));
        return { id, state };
    }
    if (type === "awsx:ec2:Vpc") {
        // One private and one public subnet per zone.
        const zones = (inputs.availabilityZoneNames as string[] | undefined) ?? ["a", "b", "c"];
        state.vpcId = `vpc-0${hex}`;
        state.privateSubnetIds = zones.map((_, i) => `subnet-0${stableHex(`${name}::private::${i}`, 8)}`);
        state.publicSubnetIds = zones.map((_, i) => `subnet-0${stableHex(`${name}::public::${i}`, 8)}`);
    }
    if (type === "eks:index:Cluster") {
        const clusterName = String(inputs.name ?? `${name}-${hex}`);
        state.eksCluster = { name: clusterName, arn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${clusterName}` };
        state.clusterSecurityGroupId = `sg-0${hex}`;
        state.kubeconfigJson = secret(JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: clusterName }] }));
    }
    if (type === "sentry:index/sentryKey:SentryKey") {
        // Sentry returns the client key's DSN (the engine keeps it secret).
        state.dsnPublic = secret(`https://${stableHex(`dsn::${name}`, 32)}@o100000.ingest.sentry.io/${parseInt(hex, 16) % 1000000}`);
    }
    return { id: `${name}-${hex}`, state };
}

/** Other values AWS computes from a resource's inputs. */
function awsComputed(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (type === "aws:acm/certificate:Certificate") {
        const names = [inputs.domainName, ...((inputs.subjectAlternativeNames as string[] | undefined) ?? [])] as string[];
        return {
            domainValidationOptions: names.map((domainName) => ({
                domainName,
                resourceRecordName: `_${stableHex(`acm::${domainName}`, 32)}.${domainName}.`,
                resourceRecordType: "CNAME",
                resourceRecordValue: `_${stableHex(`acm-value::${domainName}`, 32)}.acm-validations.aws.`,
            })),
        };
    }
    if (type === "aws:route53/record:Record") return { fqdn: inputs.name };
    return {};
}

/** The endpoints AWS assigns to the data stores the program creates. */
function awsEndpoints(type: string, id: string): Record<string, unknown> {
    switch (type) {
        case "aws:rds/cluster:Cluster":
            return {
                clusterIdentifier: id,
                endpoint: `${id}.cluster-c0ffee0c0ffee.${REGION}.rds.amazonaws.com`,
                readerEndpoint: `${id}.cluster-ro-c0ffee0c0ffee.${REGION}.rds.amazonaws.com`,
                port: 5432,
            };
        case "aws:rds/proxy:Proxy":
            return { endpoint: `${id}.proxy-c0ffee0c0ffee.${REGION}.rds.amazonaws.com` };
        case "aws:rds/proxyEndpoint:ProxyEndpoint":
            return { endpoint: `${id}.endpoint.proxy-c0ffee0c0ffee.${REGION}.rds.amazonaws.com` };
        case "aws:s3/bucket:Bucket":
            return { bucket: id, bucketRegionalDomainName: `${id}.s3.${REGION}.amazonaws.com` };
        case "aws:cloudfront/distribution:Distribution":
            // CloudFront's fixed hosted zone for alias records.
            return { domainName: `d${id.replace(/[^a-z0-9]/g, "").slice(-12)}.cloudfront.net`, hostedZoneId: "Z2FDTNDATAQYW2" };
        case "aws:elasticache/replicationGroup:ReplicationGroup":
            return {
                primaryEndpointAddress: `master.${id}.c0ffee.euc1.cache.amazonaws.com`,
                readerEndpointAddress: `replica.${id}.c0ffee.euc1.cache.amazonaws.com`,
            };
        default:
            return {};
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
const RECENT_RUNS = 4;

/** How to run the program offline. */
export interface RunOptions {
    /**
     * Determines the config (the stack file it was read from: a config holds secrets as outputs,
     * which no key could show). A run with the same key among the last few is returned instead of
     * running the program again: the tests plan the committed stacks many times in one process.
     */
    key?: string;
    /**
     * The mock provider echoes every resource's inputs in its state, as a real provider does
     * (see mockState).
     * @default false
     */
    echoInputs?: boolean;
}

/** Runs `buildPlatform(config)` under mocks and records what it registers. */
export function runPlatform(config: PlatformConfig, stack: string, options: RunOptions = {}): Promise<PlatformRun> {
    const echoInputs = options.echoInputs ?? false;
    const start = () => exclusively(() => runPlatformNow(config, stack, echoInputs));
    if (options.key === undefined) return start();
    const cacheKey = `${stack}\0${echoInputs}\0${options.key}`;
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

/** Installs the provider-like mocks; every registration is appended to the returned list. */
export async function installMocks(stack: string, echoInputs = false): Promise<Registration[]> {
    skipSourcePositions();
    skipPromiseTracking();
    const registered: Registration[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const { id, state } = mockState(args.type, args.name, args.inputs, echoInputs);
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

async function runPlatformNow(config: PlatformConfig, stack: string, echoInputs: boolean): Promise<PlatformRun> {
    // The SDK makes an Error for every resource (to report where a failed registration came
    // from); source-mapping their stacks would be most of an offline run's time. Stacks are plain
    // and empty while the program runs here: with no frames to capture, that costs nothing.
    const sourceMaps = (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled ?? false;
    const stackTraceLimit = Error.stackTraceLimit;
    process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = 0;
    try {
        return await recordRun(config, stack, echoInputs);
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

async function recordRun(config: PlatformConfig, stack: string, echoInputs: boolean): Promise<PlatformRun> {
    const registered = await installMocks(stack, echoInputs);

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

/** Validates a stack file read as the offline plan does (placeholders allowed); throws on problems. */
function validatedStackFile(read: ReturnType<typeof readStackFile>): { config: PlatformConfig; placeholders: string[] } {
    if (!read.ok) throw new Error(read.errors.join("\n"));
    const result = validateConfig(read.raw, "allow");
    if (!result.ok) throw new Error(result.errors.join("\n"));
    return { config: result.config, placeholders: result.placeholders };
}

/** Reads and validates `Pulumi.<stack>.yaml` as the offline plan does (placeholders allowed). */
export function loadStackConfig(stack: string, projectDir = PROJECT_DIR): { config: PlatformConfig; placeholders: string[] } {
    return validatedStackFile(readStackFile(stack, projectDir));
}

/** Reads and validates any stack file (an absolute path, or relative to the project) as the offline plan does. */
export function loadStackFileConfig(file: string): { config: PlatformConfig; placeholders: string[] } {
    return validatedStackFile(readStackFileAt(file, PROJECT_DIR));
}

/** True for a secret as the engine sends it: `{ [sig]: secretSig, value }`. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return value !== null && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Replaces every secret by "[secret]" (what the offline plan writes). */
export function redactSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactSecrets);
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SIG_KEY] === SECRET_SIG) return "[secret]";
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, redactSecrets(v)]));
    }
    return value;
}

/** Removes the secret wrappers, keeping the values (for checks on what would reach the cluster). */
export function revealSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revealSecrets);
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SIG_KEY] === SECRET_SIG) return revealSecrets(record.value);
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealSecrets(v)]));
    }
    return value;
}
