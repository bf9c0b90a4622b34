// The conformance check of a plan: every custom resource against the structural schema of its
// CRD, every Helm release's values against its chart's default values, with the semantics of the
// API server and of Helm. It reads only the generated files in schemas/ (made from the pinned
// upstream artefacts by conformance/generate.ts), never the artefacts themselves, so it
// runs wherever the tests run.
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import {
    ANY_KEY,
    ChartFile,
    ChartValues,
    CrdSetFile,
    EXAMPLES_KEY,
    OPEN_LEAVES,
    SCHEMA_DIR,
    StructuralSchema,
    ValueMap,
    ValueNode,
} from "./format";

/** A resource as plan.json holds it. */
export interface PlanResource {
    type: string;
    name: string;
    inputs: unknown;
}

export interface Finding {
    /** The resource's Pulumi name. */
    resource: string;
    /** What was checked: `Cluster postgresql.cnpg.io/v1`, `Release kube-prometheus-stack 88.5.3`. */
    kind: string;
    /** Where in the inputs: `.spec.instances`, `.values.grafana.persistence`. */
    path: string;
    message: string;
}

export interface ConformanceReport {
    /** Custom resources of known groups and Helm releases looked at. */
    checked: number;
    findings: Finding[];
}

/** What plan.json writes for a secret. */
export const SECRET = "[secret]";
/** Pulumi's placeholder for a value unknown until the resource exists (preview). */
export const PULUMI_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
// A secret as the engine sends it, before the plan redacts it.
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

const HELM_TYPES = new Set(["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart"]);

type Segment = string | number;

const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** A value nobody can check: a secret or a value unknown until deployment. */
const isOpaque = (value: unknown) => value === SECRET || value === PULUMI_UNKNOWN;

const has = (map: object, key: string) => Object.prototype.hasOwnProperty.call(map, key);

function describeValue(value: unknown): string {
    const type = value === null ? "null" : Array.isArray(value) ? "list" : isMap(value) ? "map" : typeof value;
    const text = JSON.stringify(value) ?? String(value);
    return `${type} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/** `.spec.nodeSets[0].count`, `.values["grafana.ini"]`. */
export function formatPath(segments: Segment[]): string {
    return (
        segments
            .map((s) => (typeof s === "number" ? `[${s}]` : /^[A-Za-z_$][\w$-]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`))
            .join("") || "."
    );
}

export const formatFinding = (f: Finding) => `${f.resource} (${f.kind}): ${f.path}: ${f.message}`;

// ---------------------------------------------------------------------------------------------
// The generated files, read once and on demand.

/** How the schemas are read: the file system by default; a test hands in one that records each read. */
export interface SchemaReader {
    list(dir: string): string[];
    read(file: string): string;
}

export const fileSystemReader: SchemaReader = {
    list: (dir) => readdirSync(dir),
    read: (file) => readFileSync(file, "utf8"),
};

interface KindEntry {
    set: CrdSetFile;
    schema: StructuralSchema;
}

export class Schemas {
    private kindIndex?: Map<string, Map<string, Map<string, KindEntry>>>;
    private sets?: CrdSetFile[];
    private chartFiles = new Map<string, ChartFile | undefined>();

    constructor(
        readonly dir: string = SCHEMA_DIR,
        private readonly reader: SchemaReader = fileSystemReader,
    ) {}

    private json<T>(file: string): T {
        return JSON.parse(this.reader.read(file)) as T;
    }

    /** Every CRD set file. */
    crdSets(): CrdSetFile[] {
        this.sets ??= this.reader
            .list(path.join(this.dir, "crds"))
            .filter((f) => f.endsWith(".json"))
            .sort()
            .map((f) => this.json<CrdSetFile>(path.join(this.dir, "crds", f)));
        return this.sets;
    }

    /** Group -> kind -> version -> schema. */
    private kinds(): Map<string, Map<string, Map<string, KindEntry>>> {
        if (!this.kindIndex) {
            this.kindIndex = new Map();
            for (const set of this.crdSets()) {
                for (const [key, schema] of Object.entries(set.kinds)) {
                    const [group, version, kind] = splitKindKey(key);
                    const kinds = this.kindIndex.get(group) ?? new Map<string, Map<string, KindEntry>>();
                    this.kindIndex.set(group, kinds);
                    const versions = kinds.get(kind) ?? new Map<string, KindEntry>();
                    kinds.set(kind, versions);
                    versions.set(version, { set, schema });
                }
            }
        }
        return this.kindIndex;
    }

    /** The kinds of a group the schemas know, by kind and version; undefined for a group they do not know. */
    group(group: string): Map<string, Map<string, KindEntry>> | undefined {
        return this.kinds().get(group);
    }

    /** A chart's file, by chart name; undefined when there is none. */
    chart(name: string): ChartFile | undefined {
        if (!this.chartFiles.has(name)) {
            const file = `${name}.json`;
            const exists = /^[\w.-]+$/.test(name) && this.reader.list(path.join(this.dir, "charts")).includes(file);
            this.chartFiles.set(name, exists ? this.json<ChartFile>(path.join(this.dir, "charts", file)) : undefined);
        }
        return this.chartFiles.get(name);
    }
}

/** `<group>/<version>/<Kind>`; the group holds dots, never slashes. */
function splitKindKey(key: string): [string, string, string] {
    const [group, version, kind] = key.split("/");
    return [group, version, kind];
}

let defaultSchemas: Schemas | undefined;

/** The committed schemas, read once per process. */
export const committedSchemas = () => (defaultSchemas ??= new Schemas());

// ---------------------------------------------------------------------------------------------
// Custom resources: Kubernetes structural-schema semantics.

interface Problem {
    at: Segment[];
    message: string;
}

/** What reaches the API server: null fields dropped (the API server prunes them), engine secrets as "[secret]". */
function normalizeObject(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(normalizeObject);
    if (!isMap(value)) return value;
    if (value[SECRET_SIG_KEY] === SECRET_SIG) return SECRET;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = normalizeObject(v);
    return out;
}

const containsOpaque = (value: unknown): boolean =>
    isOpaque(value) || (Array.isArray(value) ? value.some(containsOpaque) : isMap(value) && Object.values(value).some(containsOpaque));

function typeMatches(type: string, value: unknown): boolean {
    switch (type) {
        case "object":
            return isMap(value);
        case "array":
            return Array.isArray(value);
        case "integer":
            return typeof value === "number" && Number.isInteger(value);
        case "number":
            return typeof value === "number" && Number.isFinite(value);
        case "null":
            return value === null;
        default:
            return typeof value === type;
    }
}

function deepEqual(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
    if (isMap(a) && isMap(b)) {
        const keys = Object.keys(a);
        return keys.length === Object.keys(b).length && keys.every((k) => has(b, k) && deepEqual(a[k], b[k]));
    }
    return false;
}

const EMBEDDED_PROPERTIES: Record<string, StructuralSchema> = {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
};

/** Numeric and length bounds (the messages are ajv's, like the outside checker's). */
function boundProblems(s: StructuralSchema, value: unknown): string[] {
    const problems: string[] = [];
    const got = isMap(value) || Array.isArray(value) ? "" : `; got ${describeValue(value)}`;
    if (typeof value === "number") {
        if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum))
            problems.push(`must be ${s.exclusiveMinimum ? ">" : ">="} ${s.minimum}${got}`);
        if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum))
            problems.push(`must be ${s.exclusiveMaximum ? "<" : "<="} ${s.maximum}${got}`);
    }
    const size =
        typeof value === "string"
            ? { count: [...value].length, min: s.minLength, max: s.maxLength, unit: "characters" }
            : Array.isArray(value)
              ? { count: value.length, min: s.minItems, max: s.maxItems, unit: "items" }
              : isMap(value)
                ? { count: Object.keys(value).length, min: s.minProperties, max: s.maxProperties, unit: "properties" }
                : undefined;
    if (size?.min !== undefined && size.count < size.min) problems.push(`must NOT have fewer than ${size.min} ${size.unit}${got}`);
    if (size?.max !== undefined && size.count > size.max) problems.push(`must NOT have more than ${size.max} ${size.unit}${got}`);
    return problems;
}

/** One CRD version's schema with the file's shared subtrees. */
class StructuralValidator {
    constructor(private readonly defs: Record<string, StructuralSchema>) {}

    resolve(schema: StructuralSchema): StructuralSchema {
        let s = schema;
        for (let depth = 0; s.$ref !== undefined && depth < 64; depth++) {
            const target = this.defs[s.$ref];
            if (!target) throw new Error(`conformance schema: unknown $ref ${s.$ref}`);
            s = target;
        }
        return s;
    }

    private properties(s: StructuralSchema): Record<string, StructuralSchema> | undefined {
        return s["x-kubernetes-embedded-resource"] ? { ...EMBEDDED_PROPERTIES, ...s.properties } : s.properties;
    }

    /** The API server defaults absent fields before it validates (never inside allOf/anyOf/oneOf/not). */
    applyDefaults(schema: StructuralSchema, value: unknown): void {
        const s = this.resolve(schema);
        if (Array.isArray(value)) {
            if (s.items) for (const item of value) this.applyDefaults(s.items, item);
            return;
        }
        if (!isMap(value)) return;
        const properties = s.properties ?? {};
        for (const [key, p] of Object.entries(properties)) {
            const property = this.resolve(p);
            if (!has(value, key) && property.default !== undefined) value[key] = structuredClone(property.default);
            if (has(value, key)) this.applyDefaults(property, value[key]);
        }
        if (isMap(s.additionalProperties)) {
            for (const [key, v] of Object.entries(value)) if (!has(properties, key)) this.applyDefaults(s.additionalProperties, v);
        }
    }

    /**
     * Problems of `value` against `schema`. `structural` is false inside allOf/anyOf/oneOf/not: there
     * an object's undeclared fields are not errors (the schema validates values, it does not describe the shape).
     */
    validate(schema: StructuralSchema, value: unknown, at: Segment[], structural: boolean): Problem[] {
        if (isOpaque(value)) return [];
        const s = this.resolve(schema);
        const problems: Problem[] = [];
        const types = s["x-kubernetes-int-or-string"]
            ? ["integer", "string"]
            : s["x-kubernetes-embedded-resource"]
              ? ["object"]
              : s.type
                ? [s.type]
                : undefined;
        if (types && s.nullable) types.push("null");
        if (types && !types.some((t) => typeMatches(t, value))) {
            problems.push({ at, message: `must be ${types.join(" or ")}, got ${describeValue(value)}` });
        }
        if (s.enum && !s.enum.some((e) => deepEqual(e, value)) && !(s.nullable && value === null)) {
            problems.push({
                at,
                message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}; got ${describeValue(value)}`,
            });
        }
        problems.push(...boundProblems(s, value).map((message) => ({ at, message })));
        if (isMap(value)) {
            const properties = this.properties(s);
            for (const name of s.required ?? [])
                if (!has(value, name)) problems.push({ at: [...at, name], message: "missing required field" });
            const objectLike =
                s.type === "object" || s["x-kubernetes-embedded-resource"] || (s.type === undefined && properties !== undefined);
            const closed =
                s.additionalProperties === false ||
                (structural &&
                    objectLike &&
                    !s["x-kubernetes-preserve-unknown-fields"] &&
                    properties !== undefined &&
                    Object.keys(properties).length > 0 &&
                    s.additionalProperties === undefined);
            for (const [key, v] of Object.entries(value)) {
                if (properties && has(properties, key)) problems.push(...this.validate(properties[key], v, [...at, key], structural));
                else if (isMap(s.additionalProperties))
                    problems.push(...this.validate(s.additionalProperties, v, [...at, key], structural));
                else if (closed) problems.push({ at: [...at, key], message: "unknown field" });
            }
        }
        if (Array.isArray(value) && s.items)
            value.forEach((item, i) => problems.push(...this.validate(s.items!, item, [...at, i], structural)));
        for (const branch of s.allOf ?? []) problems.push(...this.validate(branch, value, at, false));
        // A combination over a value holding a secret cannot be decided.
        const decidable = !containsOpaque(value);
        const passes = (branch: StructuralSchema) => this.validate(branch, value, at, false).length === 0;
        if (decidable && s.anyOf && !s.anyOf.some(passes)) problems.push({ at, message: "must match a schema in anyOf" });
        if (decidable && s.oneOf && s.oneOf.filter(passes).length !== 1)
            problems.push({ at, message: "must match exactly one schema in oneOf" });
        if (decidable && s.not && passes(s.not)) problems.push({ at, message: "must NOT be valid" });
        return problems;
    }
}

/** Group, version and kind: from the inputs' apiVersion/kind, else from the type token `kubernetes:<group>/<version>:<Kind>`. */
function groupVersionKind(resource: PlanResource): { group: string; version: string; kind: string; apiVersion: string } | undefined {
    const inputs = isMap(resource.inputs) ? resource.inputs : {};
    const token = /^kubernetes:([^:/]+)\/([^:]+):(.+)$/.exec(resource.type);
    const tokenGroup = token?.[1] === "core" ? "" : token?.[1];
    const apiVersion =
        typeof inputs.apiVersion === "string"
            ? inputs.apiVersion
            : token
              ? tokenGroup
                  ? `${tokenGroup}/${token[2]}`
                  : token[2]
              : undefined;
    const kind = typeof inputs.kind === "string" ? inputs.kind : token?.[3];
    if (!apiVersion || !kind) return undefined;
    const slash = apiVersion.lastIndexOf("/");
    return { group: slash < 0 ? "" : apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind, apiVersion };
}

function checkCustomResource(resource: PlanResource, schemas: Schemas): Finding[] | undefined {
    const gvk = groupVersionKind(resource);
    const kinds = gvk && schemas.group(gvk.group);
    if (!gvk || !kinds) return undefined;
    const finding = (at: Segment[] | string, message: string): Finding => ({
        resource: resource.name,
        kind: `${gvk.kind} ${gvk.apiVersion}`,
        path: typeof at === "string" ? at : formatPath(at),
        message,
    });
    const versions = kinds.get(gvk.kind);
    if (!versions) {
        const known = [...kinds.keys()].sort().join(", ");
        return [finding(".kind", `unknown kind: "${gvk.kind}" is not a kind of ${gvk.group} in the schemas (known kinds: ${known})`)];
    }
    const entry = versions.get(gvk.version);
    if (!entry) {
        const set = [...versions.values()][0].set;
        return [
            finding(
                ".apiVersion",
                `unknown version: ${gvk.kind} has no served version "${gvk.version}" in ${set.set} ${set.version} (served: ${[...versions.keys()].join(", ")})`,
            ),
        ];
    }
    const validator = new StructuralValidator(entry.set.defs);
    // metadata is ObjectMeta, checked by the API server itself and often completed by Pulumi's auto-naming.
    const data = normalizeObject({ ...(isMap(resource.inputs) ? resource.inputs : {}), metadata: undefined }) as Record<string, unknown>;
    const shown = structuredClone(data);
    validator.applyDefaults(entry.schema, data);
    const root = validator.resolve(entry.schema);
    const rootSchema = { ...root, required: root.required?.filter((r) => r !== "metadata") };
    const findings = validator
        .validate(rootSchema, data, [], true)
        .filter((p) => !underOpaque(shown, p.at))
        .map((p) => finding(p.at, p.message));
    return findings.filter((f, i) => findings.findIndex((g) => g.path === f.path && g.message === f.message) === i);
}

/** Whether a path is at or below a secret or unknown value. */
function underOpaque(data: unknown, at: Segment[]): boolean {
    let current = data;
    for (const segment of at) {
        if (isOpaque(current)) return true;
        current = Array.isArray(current) || isMap(current) ? (current as Record<Segment, unknown>)[segment] : undefined;
    }
    return isOpaque(current);
}

// ---------------------------------------------------------------------------------------------
// Helm: values against the chart's default values.

/** Keys below which values are free-form in every chart (maps of labels, selectors, resources...). */
const FREE_FORM_KEYS = new Set([
    "annotations",
    "labels",
    "podAnnotations",
    "podLabels",
    "nodeSelector",
    "extraArgs",
    "extraEnv",
    "env",
    "additionalLabels",
    "resources",
    "securityContext",
    "affinity",
    "tolerations",
    "serviceAnnotations",
]);
const FREE_FORM_SUFFIX = /(Annotations|Labels|Selector|SecurityContext)$/;
const isFreeFormKey = (key: string) => FREE_FORM_KEYS.has(key) || FREE_FORM_SUFFIX.test(key);

/** The chart a release names: `name`, `repo/name`, `oci://…/name[:version]`, `…/name-1.2.3.tgz`; and its version. */
export function chartReference(inputs: Record<string, unknown>): { name: string; version?: string } | undefined {
    const reference = typeof inputs.chart === "string" ? inputs.chart.trim() : "";
    if (!reference) return undefined;
    const fetchOpts = isMap(inputs.fetchOpts) ? inputs.fetchOpts : {};
    const given = inputs.version ?? fetchOpts.version;
    let version = given === undefined || given === null || given === "" ? undefined : String(given);
    let name = reference;
    if (/^oci:\/\//i.test(reference)) {
        const match = /^(.*)\/([^/:@]+)(?::([^/@]+))?(?:@.*)?$/.exec(reference);
        if (match) {
            name = match[2];
            version ??= match[3];
        }
    } else if (/^https?:\/\//i.test(reference) || reference.endsWith(".tgz")) {
        const base = reference
            .split(/[?#]/)[0]
            .split("/")
            .pop()!
            .replace(/\.tgz$/, "");
        const match = /^(.+?)-v?(\d+\.\d+\.\d+.*)$/.exec(base);
        name = match ? match[1] : base;
        version ??= match?.[2];
    } else if (reference.includes("/")) name = reference.split("/").pop()!;
    return { name, version };
}

/** Where the defaults for one map of the user's values live: a chart (or subchart) at a path. */
interface Layer {
    chart: ChartValues;
    at: string[];
    node: ValueMap;
}

const isValueMap = (node: ValueNode | string[] | undefined): node is ValueMap => isMap(node);
const leafDescription = (node: ValueNode) => (isValueMap(node) ? "a map" : node);

const samePath = (a: string[], b: string[]) => a.length === b.length && a.every((s, i) => s === b[i]);

/** Keys values.yaml shows in commented-out examples anywhere in a map's block. */
function exampleKeys(node: ValueMap, cache: WeakMap<ValueMap, Set<string>>): Set<string> {
    let keys = cache.get(node);
    if (!keys) {
        keys = new Set(Array.isArray(node[EXAMPLES_KEY]) ? node[EXAMPLES_KEY] : []);
        for (const [key, child] of Object.entries(node))
            if (key !== EXAMPLES_KEY && isValueMap(child)) exampleKeys(child, cache).forEach((k) => keys!.add(k));
        cache.set(node, keys);
    }
    return keys;
}

interface ValuesReport {
    unknownKey(at: string[]): void;
    typeMismatch(at: string[], message: string): void;
}

const examplesCache = new WeakMap<ValueMap, Set<string>>();

/**
 * Checks one map of user values against the defaults of every layer: a key must be declared by
 * one of them (or be free-form); below a free-form default anything goes; a subchart's key is
 * checked against the subchart's own defaults, `global` against every chart's.
 */
function walkValues(user: Record<string, unknown>, layers: Layer[], at: string[], report: ValuesReport): void {
    for (const [key, value] of Object.entries(user)) {
        const here = [...at, key];
        const children: { layer: Layer; node: ValueNode }[] = [];
        let open = false;
        let declared = false;
        for (const layer of layers) {
            const defaults = layer.node;
            const subchartKey =
                layer.at.length === 0 &&
                Object.keys(layer.chart.subcharts).length > 0 &&
                (key === "global" || has(layer.chart.subcharts, key));
            let lookup = key;
            if (!has(defaults, key)) {
                const template = layer.chart.namedMaps.find((m) => samePath(m.path, layer.at))?.template;
                if (template !== undefined && has(defaults, template)) lookup = template;
            }
            const childAt = [...layer.at, lookup];
            const child = lookup === EXAMPLES_KEY || lookup === ANY_KEY ? undefined : (defaults[lookup] as ValueNode | undefined);
            if (layer.chart.freeForm.some((p) => samePath(p, childAt))) {
                declared = true;
                open = true;
            } else if (child !== undefined) {
                declared = true;
                const openLeaf = !isValueMap(child) && OPEN_LEAVES.has(child);
                if (openLeaf && subchartKey && (child === "null" || child === "map")) {
                    // An empty default for a subchart: the subchart's own defaults decide.
                } else if (openLeaf || isFreeFormKey(key)) open = true;
                else children.push({ layer: { chart: layer.chart, at: childAt, node: isValueMap(child) ? child : {} }, node: child });
            } else if (defaults[ANY_KEY] === "any") {
                declared = true;
                open = true;
            }
            if (subchartKey) {
                for (const [alias, sub] of Object.entries(layer.chart.subcharts)) {
                    if (key === alias) {
                        declared = true;
                        children.push({ layer: { chart: sub, at: [], node: sub.values }, node: sub.values });
                    } else if (key === "global") {
                        const global = sub.values.global as ValueNode | undefined;
                        if (isValueMap(global) || global === "map") {
                            declared = true;
                            const node = isValueMap(global) ? global : {};
                            children.push({ layer: { chart: sub, at: ["global"], node }, node });
                        }
                    }
                }
            }
        }
        if (open) continue;
        if (!declared) {
            // Keys shown in commented-out examples of that block, and free-form names, are accepted.
            if (!layers.some((l) => exampleKeys(l.node, examplesCache).has(key)) && !isFreeFormKey(key)) report.unknownKey(here);
            continue;
        }
        if (value === null || isOpaque(value)) continue; // null removes a default in Helm
        if (isMap(value)) {
            if (children.length > 0 && children.every((c) => !isValueMap(c.node))) {
                report.typeMismatch(here, `value is a map, but the chart default is ${leafDescription(children[0].node)}`);
            } else {
                const maps = children.filter((c) => isValueMap(c.node)).map((c) => c.layer);
                if (maps.length > 0) walkValues(value, maps, here, report);
            }
        } else if (children.length > 0 && children.every((c) => isValueMap(c.node))) {
            report.typeMismatch(here, `value is ${describeValue(value)}, but the chart default is a map`);
        }
    }
}

/** Values as Helm gets them: engine secrets as "[secret]"; nulls kept (they remove a default). */
function normalizeValues(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(normalizeValues);
    if (!isMap(value)) return value;
    if (value[SECRET_SIG_KEY] === SECRET_SIG) return SECRET;
    return Object.fromEntries(
        Object.entries(value)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, normalizeValues(v)]),
    );
}

const sameVersion = (a: string, b: string) => a.trim().replace(/^v/i, "") === b.trim().replace(/^v/i, "");

function checkHelm(resource: PlanResource, schemas: Schemas): Finding[] {
    const inputs = isMap(resource.inputs) ? resource.inputs : {};
    const what = resource.type.endsWith(":Release") ? "Release" : "Chart";
    const reference = chartReference(inputs);
    const kind = reference
        ? `${what} ${reference.name}${reference.version && !isOpaque(reference.version) ? ` ${reference.version}` : ""}`
        : what;
    const finding = (at: string, message: string): Finding => ({ resource: resource.name, kind, path: at, message });
    if (!reference) return [finding(".chart", "no chart given")];
    if (!reference.version) return [finding(".version", `unpinned chart: no explicit version for chart "${reference.name}"`)];
    const chart = schemas.chart(reference.name);
    if (!chart) return [finding(".chart", `no schema for chart ${reference.name} version ${reference.version}`)];
    const findings: Finding[] = [];
    if (!isOpaque(reference.version) && !sameVersion(reference.version, chart.version)) {
        findings.push(finding(".version", `chart version ${reference.version} differs from the schema's ${chart.version}`));
    }
    const values = normalizeValues(inputs.values);
    if (values === undefined || values === null || isOpaque(values)) return findings;
    if (!isMap(values)) return [...findings, finding(".values", `values must be a map, got ${describeValue(values)}`)];
    walkValues(values, [{ chart, at: [], node: chart.values }], [], {
        unknownKey: (at) =>
            findings.push(
                finding(formatPath(["values", ...at]), `unknown key (not in the default values of ${chart.chart} ${chart.version})`),
            ),
        typeMismatch: (at, message) => findings.push(finding(formatPath(["values", ...at]), message)),
    });
    return findings;
}

// ---------------------------------------------------------------------------------------------

/** Checks every custom resource of a known group and every Helm release of a plan. */
export function checkPlan(resources: PlanResource[], schemas: Schemas = committedSchemas()): ConformanceReport {
    let checked = 0;
    const findings: Finding[] = [];
    for (const resource of resources) {
        if (HELM_TYPES.has(resource.type)) {
            checked++;
            findings.push(...checkHelm(resource, schemas));
        } else if (resource.type.startsWith("kubernetes:")) {
            const found = checkCustomResource(resource, schemas);
            if (found) {
                checked++;
                findings.push(...found);
            }
        }
    }
    return { checked, findings };
}
