// npm run conformance:schemas -- --source <dir> [--source <dir>...] [--out <dir>]
// Derives the schemas of the conformance check (conformance/schemas/, read by
// conformance/validate.ts) from upstream artefacts: CRD files and charts' Chart.yaml,
// values.yaml and values.schema.json, in folders laid out as `crds/<set>/*.yaml` and
// `charts/<chart>/{Chart.yaml,values.yaml,charts/<subchart>/...}`, with a SOURCES.md whose table
// names repository, tag and commit per folder. It writes only structural facts (field names,
// types, enums, required, x-kubernetes-* markers; default value paths and their types), never an
// upstream file as it is. Every artefact must be of the version components/config/releases.json
// pins: a mismatch is refused (exit 2) and nothing is written. The first --source holding a
// folder wins, so a folder with newer artefacts can be put before an older collection.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as prettier from "prettier";
import YAML from "yaml";
import { CHARTS, CRD_CHARTS, ChartName, MANIFESTS } from "../components/config/releases";
import {
    ANY_KEY,
    ArtefactSource,
    ChartFile,
    ChartValues,
    CrdSetFile,
    EXAMPLES_KEY,
    NamedMap,
    PinRef,
    SCHEMA_DIR,
    StructuralSchema,
    ValueLeaf,
    ValueMap,
    ValueNode,
} from "./format";
import { Io, argumentError, runCli } from "../scripts/lib/cli";

export const USAGE = "usage: npm run conformance:schemas -- --source <dir> [--source <dir>...] [--out <dir>]";
export const COMMAND = "npm run conformance:schemas -- --source <dir> [--source <dir>...]";

// ---------------------------------------------------------------------------------------------
// The hand-written table: which upstream artefacts describe which pin.

/** What a CRD set follows: a chart or a release manifest pinned in releases.json. */
type CrdSetPin = { chart: ChartName } | { manifest: keyof typeof MANIFESTS };

export interface CrdSetSource {
    about: string;
    /** The pin that installs these CRDs; absent for a set the project does not pin yet. */
    pin?: CrdSetPin;
    /** The upstream version of the CRDs per version of the pin, where it is not the pin's own version. */
    bundled?: Record<string, string>;
    /** The version of a set without a pin. */
    version?: string;
    /** Upstream kustomize JSON patches the release build applies, by CRD name (paths below the set's folder). */
    patches?: Record<string, string[]>;
}

/**
 * CRD sets by folder (`crds/<set>/`). When a pin moves, its sets must be regenerated from the new
 * release's CRDs; where the CRD version is not the pin's own (a chart vendoring an operator's
 * CRDs, Envoy Gateway bundling Gateway API), `bundled` says which one it is.
 */
export const CRD_SETS: Record<string, CrdSetSource> = {
    "prometheus-operator": {
        about: "prometheus-operator CRDs (monitoring.coreos.com) as vendored by kube-prometheus-stack",
        pin: { chart: "kube-prometheus-stack" },
        bundled: { "88.5.3": "v0.93.1" },
    },
    eck: { about: "Elastic Cloud on Kubernetes CRDs (*.k8s.elastic.co)", pin: { chart: "eck-operator" } },
    "cloudnative-pg": {
        about: "CloudNativePG CRDs (postgresql.cnpg.io) of the operator the chart installs",
        pin: { chart: "cloudnative-pg" },
        bundled: { "0.29.0": "v1.30.0" },
    },
    keda: {
        about: "KEDA CRDs (keda.sh, eventing.keda.sh) with the kustomize patches of KEDA's release build",
        pin: { chart: "keda" },
        patches: {
            "scaledjobs.keda.sh": ["patches/scaledjob_patch.yaml"],
            "scaledobjects.keda.sh": ["patches/scaledobject_patch.yaml"],
        },
    },
    "plugin-barman-cloud": {
        about: "Barman Cloud plugin CRD (barmancloud.cnpg.io ObjectStore) of the plugin release the chart installs",
        pin: { chart: "plugin-barman-cloud" },
        bundled: { "0.7.0": "v0.13.0" },
    },
    "envoy-gateway": {
        about: "Envoy Gateway CRDs (gateway.envoyproxy.io), installed by gateway-crds-helm at gateway-helm's version",
        pin: { chart: "gateway-helm" },
    },
    "gateway-api": {
        about: "Gateway API CRDs, standard channel (gateway-crds-helm with crds.gatewayAPI.channel: standard)",
        pin: { chart: "gateway-helm" },
        bundled: { "v1.9.0": "v1.6.1" },
    },
    "cert-manager": { about: "cert-manager CRDs (cert-manager.io, acme.cert-manager.io)", pin: { chart: "cert-manager" } },
    karpenter: {
        about: "Karpenter CRDs (karpenter.sh, karpenter.k8s.aws; autoscaling.x-k8s.io CapacityBuffer), installed by karpenter-crd at karpenter's version",
        pin: { chart: "karpenter" },
    },
    "rabbitmq-cluster-operator": {
        about: "RabbitMQ Cluster Operator CRD (rabbitmq.com RabbitmqCluster) of its release manifest",
        pin: { manifest: "rabbitmq-cluster-operator" },
    },
    "rabbitmq-messaging-topology-operator": {
        about: "RabbitMQ messaging-topology-operator CRDs (rabbitmq.com Queue, Policy, User, ...) of its release manifest",
        pin: { manifest: "rabbitmq-messaging-topology-operator" },
    },
};

/** Rules for checking a chart's values beyond its defaults (the same as the outside checker's catalog). */
interface ValuesRules {
    /** Paths below which the chart accepts anything (configuration it passes through). */
    freeForm?: string[][];
    namedMaps?: NamedMap[];
    /**
     * Chart.yaml dependencies (by alias) not collected, with the reason; their keys are checked
     * against the parent's defaults only. Every other dependency must be among the sources.
     */
    uncollectedSubcharts?: Record<string, string>;
}

export const VALUES_RULES: Record<string, ValuesRules> = {
    "kube-prometheus-stack": {
        freeForm: [["alertmanager", "config"]],
        namedMaps: ["alertmanager", "prometheus", "thanosRuler"].map((component) => ({ path: [component, "route"], template: "main" })),
    },
    grafana: { freeForm: [["grafana.ini"]], namedMaps: [{ path: ["route"], template: "main" }] },
    "prometheus-adapter": { freeForm: [["rules", "resource"]] },
    "cloudnative-pg": {
        uncollectedSubcharts: { monitoring: "the optional Grafana dashboard chart (cloudnative-pg/grafana-dashboards), not collected" },
    },
    "prometheus-blackbox-exporter": { freeForm: [["config"]], namedMaps: [{ path: ["route"], template: "main" }] },
    "gateway-helm": { freeForm: [["config", "envoyGateway"]] },
    // The Deployment strategy, passed through as it is.
    karpenter: { freeForm: [["strategy"]] },
    // The Deployment strategy as it is; every key of the cost model goes into the custom pricing config.
    opencost: { freeForm: [["updateStrategy"], ["opencost", "customPricing", "costModel"]] },
};

/** The chart name of a chart reference (`oci://registry/org/<name>`, `repo/<name>`, `<name>`). */
export const chartNameOf = (reference: string) => reference.replace(/\/+$/, "").split("/").pop()!;

/** Every chart the platform installs, with its pinned version: releases.json's charts and the CRD charts that follow them. */
export function pinnedCharts(): { chart: string; version: string }[] {
    return [
        ...Object.entries(CHARTS).map(([chart, source]) => ({ chart, version: source.version })),
        ...Object.entries(CRD_CHARTS).map(([pinned, crds]) => ({
            chart: chartNameOf(crds!.chart),
            version: CHARTS[pinned as ChartName].version,
        })),
    ];
}

/** The pin a CRD set follows, with the version releases.json pins now. */
export function pinOf(set: CrdSetSource): PinRef | null {
    if (!set.pin) return null;
    return "chart" in set.pin
        ? { chart: set.pin.chart, version: CHARTS[set.pin.chart].version }
        : { manifest: set.pin.manifest, version: MANIFESTS[set.pin.manifest].version };
}

// ---------------------------------------------------------------------------------------------
// Sources: folders of artefacts and their provenance.

/** Leading `v` and surrounding space do not make a different version (`v1.9.0` is Helm's `1.9.0`). */
export const sameVersion = (a: string, b: string) => a.trim().replace(/^v/i, "") === b.trim().replace(/^v/i, "");

/** The version at the end of a release tag: `kube-prometheus-stack-88.5.3` -> `88.5.3`, `v1.9.0` -> `v1.9.0`. */
const versionOfTag = (tag: string) => /(v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/.exec(tag)?.[1];

interface ProvenanceRow extends ArtefactSource {
    /** Folder below the source, e.g. `charts/keda/`. */
    folder: string;
}

/** The rows of SOURCES.md tables whose first cell names a folder: `| \`charts/x/\` ... | owner/repo | \`tag\` ... | \`commit\` |`. */
function parseProvenance(markdown: string): ProvenanceRow[] {
    const rows: ProvenanceRow[] = [];
    for (const line of markdown.split("\n")) {
        const cells = line.split("|").map((c) => c.trim());
        if (cells.length < 6) continue;
        const folder = /^`([^`]+\/)`/.exec(cells[1])?.[1];
        const tag = /`([^`]+)`/.exec(cells[3])?.[1];
        if (!folder || !tag || !/^[\w.-]+\/[\w.-]+$/.test(cells[2])) continue;
        rows.push({ folder, repository: cells[2], tag, commit: /`([0-9a-f]{7,40})`/.exec(cells[4])?.[1] ?? null });
    }
    return rows;
}

export interface Source {
    dir: string;
    provenance: ProvenanceRow[];
}

interface Located {
    /** Absolute folder, as named in messages. */
    dir: string;
    source: ArtefactSource | undefined;
}

function readSources(dirs: string[], cwd: string): { sources: Source[]; errors: string[] } {
    const errors: string[] = [];
    const sources: Source[] = [];
    for (const given of dirs) {
        const dir = path.resolve(cwd, given);
        if (!existsSync(dir) || !statSync(dir).isDirectory()) {
            errors.push(`--source ${given}: not a folder`);
            continue;
        }
        const file = path.join(dir, "SOURCES.md");
        sources.push({ dir, provenance: existsSync(file) ? parseProvenance(readFileSync(file, "utf8")) : [] });
    }
    return { sources, errors };
}

/** The first source holding `relative` (a folder), with the provenance of the nearest folder SOURCES.md describes. */
function locate(sources: Source[], relative: string): Located | undefined {
    for (const source of sources) {
        const dir = path.join(source.dir, relative);
        if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
        const want = `${relative.replace(/\/+$/, "")}/`;
        const row = source.provenance.filter((r) => want.startsWith(r.folder)).sort((a, b) => b.folder.length - a.folder.length)[0];
        return { dir, source: row ? { repository: row.repository, tag: row.tag, commit: row.commit } : undefined };
    }
    return undefined;
}

/** A problem with the artefacts: reported on one line, nothing written. */
class ArtefactError extends Error {}

function readYamlDocuments(file: string): unknown[] {
    const docs = YAML.parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: false });
    return docs.map((doc) => {
        if (doc.errors.length > 0) throw new ArtefactError(`${file}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
        return doc.toJS({ maxAliasCount: -1 });
    });
}

const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** Objects with their keys sorted at every level (arrays keep their order): the same input always writes the same bytes. */
function sortKeys<T>(value: T): T {
    if (Array.isArray(value)) return value.map(sortKeys) as T;
    if (!isMap(value)) return value;
    return Object.fromEntries(
        Object.keys(value)
            .sort()
            .map((k) => [k, sortKeys(value[k])]),
    ) as T;
}

// ---------------------------------------------------------------------------------------------
// CRDs: served versions reduced to structural schemas.

/** Keywords that only document: dropping them changes no validation. */
const DOCUMENTARY = new Set(["description", "example", "examples", "title", "externalDocs", "$schema"]);

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

interface Reduced {
    schema: StructuralSchema;
    /** A validation was dropped (pattern, format, bounds, CEL...): the schema accepts more than upstream's. */
    lossy: boolean;
}

const isEmptySchema = (s: StructuralSchema) => Object.keys(s).length === 0;
const isTypeOnly = (s: StructuralSchema) => Object.keys(s).every((k) => k === "type");

/**
 * A CRD schema reduced to what the check uses: patterns, formats and CEL rules are dropped.
 * `structural` is false inside allOf/anyOf/oneOf/not, where defaults mean nothing. A oneOf or not
 * whose branches lost a validation is dropped as a whole: with weaker branches it could reject
 * what the API server accepts.
 */
function reduceSchema(input: unknown, structural = true): Reduced {
    if (!isMap(input)) return { schema: {}, lossy: false };
    const out: StructuralSchema = {};
    let lossy = false;
    const take = (child: unknown, isStructural = structural) => {
        const reduced = reduceSchema(child, isStructural);
        lossy ||= reduced.lossy;
        return reduced.schema;
    };
    for (const [key, value] of Object.entries(input)) {
        switch (key) {
            case "type":
                if (typeof value === "string" && TYPES.has(value)) out.type = value as StructuralSchema["type"];
                else lossy = true;
                break;
            case "properties":
                if (isMap(value)) out.properties = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, take(s)]));
                break;
            case "additionalProperties":
                if (typeof value === "boolean") out.additionalProperties = value;
                else if (isMap(value)) out.additionalProperties = take(value);
                break;
            case "items":
                if (isMap(value)) out.items = take(value);
                else lossy = true;
                break;
            case "required":
                if (Array.isArray(value) && value.length > 0) out.required = value.map(String);
                break;
            case "enum":
                if (Array.isArray(value)) out.enum = value;
                break;
            case "nullable":
                if (value === true) out.nullable = true;
                break;
            case "default":
                if (structural) out.default = value;
                break;
            case "minimum":
            case "maximum":
            case "minLength":
            case "maxLength":
            case "minItems":
            case "maxItems":
            case "minProperties":
            case "maxProperties":
                if (typeof value === "number") out[key] = value;
                else lossy = true;
                break;
            case "exclusiveMinimum":
            case "exclusiveMaximum":
                if (value === true) out[key] = true;
                else if (value !== false) lossy = true;
                break;
            case "x-kubernetes-preserve-unknown-fields":
            case "x-kubernetes-int-or-string":
            case "x-kubernetes-embedded-resource":
                if (value === true) out[key] = true;
                break;
            case "allOf": {
                const branches = (Array.isArray(value) ? value : []).map((b) => take(b, false)).filter((b) => !isEmptySchema(b));
                if (branches.length > 0) out.allOf = branches;
                break;
            }
            case "anyOf": {
                const branches = (Array.isArray(value) ? value : []).map((b) => take(b, false));
                // A branch that accepts everything makes the whole anyOf accept everything.
                if (branches.length > 0 && !branches.some(isEmptySchema)) out.anyOf = branches;
                break;
            }
            case "oneOf":
            case "not": {
                const branches = (Array.isArray(value) ? value : [value]).map((b) => reduceSchema(b, false));
                if (branches.some((b) => b.lossy)) lossy = true;
                else if (key === "not") out.not = branches[0].schema;
                else out.oneOf = branches.map((b) => b.schema);
                break;
            }
            default:
                if (!DOCUMENTARY.has(key)) lossy = true;
        }
    }
    // int-or-string is the type; its anyOf of bare types only says the same again.
    if (out["x-kubernetes-int-or-string"] && out.anyOf?.every(isTypeOnly)) delete out.anyOf;
    return { schema: out, lossy };
}

/** RFC 6902 add/remove/replace, as the upstream kustomize patches use them. */
function applyJsonPatch(document: unknown, operations: unknown, where: string): void {
    if (!Array.isArray(operations)) throw new ArtefactError(`${where}: expected a list of JSON patch operations`);
    for (const operation of operations as { op: string; path: string; value?: unknown }[]) {
        const segments = operation.path
            .split("/")
            .slice(1)
            .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
        const last = segments.pop()!;
        let parent = document as Record<string, unknown> | unknown[];
        for (const segment of segments) {
            parent = (Array.isArray(parent) ? parent[Number(segment)] : parent?.[segment]) as typeof parent;
            if (parent === undefined) throw new ArtefactError(`${where}: patch path ${operation.path} not found`);
        }
        if (operation.op === "remove") {
            if (Array.isArray(parent)) parent.splice(Number(last), 1);
            else delete parent[last];
        } else if (operation.op === "add" || operation.op === "replace") {
            if (!Array.isArray(parent)) parent[last] = operation.value;
            else if (last === "-") parent.push(operation.value);
            else if (operation.op === "add") parent.splice(Number(last), 0, operation.value);
            else parent[Number(last)] = operation.value;
        } else throw new ArtefactError(`${where}: unsupported patch operation ${operation.op}`);
    }
}

interface Crd {
    metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
    spec: {
        group: string;
        names: { kind: string };
        versions: { name: string; served?: boolean; deprecated?: boolean; schema?: { openAPIV3Schema?: unknown } }[];
    };
}

/** Versions the CRD files state themselves: Gateway API's bundle version, a Helm label, the upstream URL a vendored file names. */
function statedVersions(texts: string[], crds: Crd[]): Set<string> {
    const found = new Set<string>();
    for (const crd of crds) {
        const stated =
            crd.metadata.annotations?.["gateway.networking.k8s.io/bundle-version"] ?? crd.metadata.labels?.["app.kubernetes.io/version"];
        if (stated) found.add(stated);
    }
    for (const text of texts) {
        const url = /^#\s*https?:\/\/\S*?\/(v\d+\.\d+\.\d+[^/\s]*)\//.exec(text);
        if (url) found.add(url[1]);
    }
    return found;
}

/** Subtrees at least this long (as JSON) that occur more than once are stored once in `defs`. */
const SHARED_MIN_LENGTH = 40;

/** Walks the schema positions of a node (not enums or defaults), replacing each child by `visit(child)`. */
function mapChildren(schema: StructuralSchema, visit: (child: StructuralSchema) => StructuralSchema): StructuralSchema {
    const out: StructuralSchema = { ...schema };
    if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, visit(v)]));
    if (isMap(schema.additionalProperties)) out.additionalProperties = visit(schema.additionalProperties);
    if (schema.items) out.items = visit(schema.items);
    if (schema.not) out.not = visit(schema.not);
    for (const key of ["allOf", "anyOf", "oneOf"] as const) if (schema[key]) out[key] = schema[key].map(visit);
    return out;
}

/** Stores repeated subtrees once (`{ "$ref": <hash> }` into `defs`); a def used only once is put back in place. */
function shareSubtrees(kinds: Record<string, StructuralSchema>): {
    kinds: Record<string, StructuralSchema>;
    defs: Record<string, StructuralSchema>;
} {
    const counts = new Map<string, number>();
    const count = (schema: StructuralSchema): StructuralSchema => {
        const text = JSON.stringify(schema);
        if (text.length >= SHARED_MIN_LENGTH) counts.set(text, (counts.get(text) ?? 0) + 1);
        return mapChildren(schema, count);
    };
    Object.values(kinds).forEach(count);
    const defs: Record<string, StructuralSchema> = {};
    const names = new Map<string, string>();
    const nameOf = (text: string) => {
        const hash = createHash("sha256").update(text).digest("hex");
        let length = 8;
        while (defs[hash.slice(0, length)] !== undefined && names.get(text) !== hash.slice(0, length)) length++;
        return hash.slice(0, length);
    };
    const share = (schema: StructuralSchema): StructuralSchema => {
        const text = JSON.stringify(schema);
        if ((counts.get(text) ?? 0) < 2) return mapChildren(schema, share);
        let name = names.get(text);
        if (!name) {
            name = nameOf(text);
            names.set(text, name);
            defs[name] = {};
            defs[name] = mapChildren(schema, share);
        }
        return { $ref: name };
    };
    let shared = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, mapChildren(v, share)]));
    // Subtrees counted inside a shared subtree may now occur once: put those back.
    for (;;) {
        const uses = new Map<string, number>();
        const use = (schema: StructuralSchema): StructuralSchema => {
            if (schema.$ref) uses.set(schema.$ref, (uses.get(schema.$ref) ?? 0) + 1);
            return mapChildren(schema, use);
        };
        [...Object.values(shared), ...Object.values(defs)].forEach(use);
        const once = new Map(Object.entries(defs).filter(([name]) => (uses.get(name) ?? 0) < 2));
        if (once.size === 0) break;
        const inline = (schema: StructuralSchema): StructuralSchema => {
            const body = schema.$ref ? once.get(schema.$ref) : undefined;
            return mapChildren(body ?? schema, inline);
        };
        for (const name of once.keys()) delete defs[name];
        shared = Object.fromEntries(Object.entries(shared).map(([k, v]) => [k, inline(v)]));
        for (const name of Object.keys(defs)) defs[name] = inline(defs[name]);
    }
    return { kinds: shared, defs };
}

/** The CRD set file of `crds/<set>/`, or an ArtefactError saying why it cannot be made. */
function crdSetFile(name: string, entry: CrdSetSource, sources: Source[]): CrdSetFile {
    const located = locate(sources, path.join("crds", name));
    if (!located) throw new ArtefactError(`crds/${name}: in no --source`);
    const pin = pinOf(entry);
    const expected = pin ? (entry.bundled ? entry.bundled[pin.version] : pin.version) : entry.version!;
    if (pin && expected === undefined) {
        const what = "chart" in pin ? pin.chart : pin.manifest;
        throw new ArtefactError(
            `crds/${name} follows ${what}, pinned at ${pin.version}, but CRD_SETS in conformance/generate.ts names its CRD version only for ${Object.keys(entry.bundled!).join(", ")}: add the version ${pin.version} ships`,
        );
    }
    const files = readdirSync(located.dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort();
    const texts = files.map((f) => readFileSync(path.join(located.dir, f), "utf8"));
    const crds = files
        .flatMap((f) => readYamlDocuments(path.join(located.dir, f)))
        .filter((d): d is Crd => isMap(d) && d.kind === "CustomResourceDefinition");
    if (crds.length === 0) throw new ArtefactError(`${located.dir}: holds no CustomResourceDefinition`);
    for (const crd of crds) {
        for (const patch of entry.patches?.[crd.metadata.name] ?? []) {
            const file = path.join(located.dir, patch);
            if (!existsSync(file)) throw new ArtefactError(`${located.dir}: patch ${patch} of ${crd.metadata.name} is missing`);
            applyJsonPatch(crd, readYamlDocuments(file)[0], file);
        }
    }
    const stated = [...statedVersions(texts, crds)];
    if (stated.length > 1) throw new ArtefactError(`${located.dir}: the CRDs state different versions (${stated.join(", ")})`);
    const version = stated[0] ?? (located.source ? versionOfTag(located.source.tag) : undefined);
    if (!version) throw new ArtefactError(`${located.dir}: no version: the CRDs state none and SOURCES.md has no row with its tag`);
    if (!sameVersion(version, expected)) {
        const pinned = pin ? ` (${"chart" in pin ? pin.chart : pin.manifest} ${pin.version})` : "";
        throw new ArtefactError(`${located.dir}: CRDs of version ${version}, but the pin${pinned} needs ${expected}`);
    }
    if (!located.source) throw new ArtefactError(`${located.dir}: no SOURCES.md row names its repository, tag and commit`);
    const kinds: Record<string, StructuralSchema> = {};
    const deprecated: string[] = [];
    for (const crd of crds) {
        for (const v of crd.spec.versions) {
            if (v.served === false) continue;
            const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
            kinds[key] = reduceSchema(v.schema?.openAPIV3Schema ?? { "x-kubernetes-preserve-unknown-fields": true }).schema;
            if (v.deprecated === true) deprecated.push(key);
        }
    }
    const { kinds: shared, defs } = shareSubtrees(sortKeys(kinds));
    return {
        set: name,
        version,
        pin,
        about: entry.about,
        source: located.source,
        deprecated: deprecated.sort(),
        kinds: sortKeys(shared),
        defs: sortKeys(defs),
    };
}

// ---------------------------------------------------------------------------------------------
// Charts: default values as a tree of paths and types.

/** Chart.yaml versions that are placeholders set at release time (the tag is the version). */
const PLACEHOLDER_VERSION = /^v?0\.0\.0(-.*)?$/;

/** Whether `version` satisfies a Chart.yaml dependency's version: exact, or with `*`/`x` segments. */
function satisfiesConstraint(version: string, constraint: string): boolean | undefined {
    const want = constraint.trim().replace(/^v/i, "");
    if (!/^[0-9xX*]+(\.[0-9xX*]+){0,2}(-[0-9A-Za-z.-]+)?$/.test(want)) return undefined;
    const have = version.trim().replace(/^v/i, "").split(".");
    return want.split(".").every((part, i) => /^[xX*]$/.test(part) || part === have[i]);
}

function leafOf(value: unknown): ValueLeaf {
    if (value === null || value === undefined) return "null";
    if (Array.isArray(value)) return "list";
    if (isMap(value)) return "map";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    if (typeof value === "boolean") return "boolean";
    return typeof value === "string" ? "string" : "any";
}

/** A values.schema.json node with its local `$ref`s resolved, and its allOf/anyOf/oneOf branches. */
function schemaBranches(root: unknown, schema: unknown): Record<string, unknown>[] {
    const resolve = (s: unknown): unknown => {
        for (let depth = 0; isMap(s) && typeof s.$ref === "string" && s.$ref.startsWith("#") && depth < 50; depth++) {
            let target: unknown = root;
            for (const segment of s.$ref.slice(2).split("/").filter(Boolean)) target = isMap(target) ? target[segment] : undefined;
            s = target;
        }
        return s;
    };
    const node = resolve(schema);
    if (!isMap(node)) return [];
    const branches = ["allOf", "anyOf", "oneOf"].flatMap((k) => (Array.isArray(node[k]) ? (node[k] as unknown[]).map(resolve) : []));
    return [node, ...branches].filter(isMap);
}

const schemaProperties = (branches: Record<string, unknown>[]) =>
    Object.assign({}, ...branches.map((b) => (isMap(b.properties) ? b.properties : {}))) as Record<string, unknown>;

const schemaIsOpen = (branches: Record<string, unknown>[]) =>
    branches.some((b) => b.additionalProperties === true || isMap(b.additionalProperties) || isMap(b.patternProperties));

/** A key values.schema.json declares without a default: its declared shape. */
function nodeFromSchema(root: unknown, schema: unknown): ValueNode {
    const branches = schemaBranches(root, schema);
    const properties = schemaProperties(branches);
    if (schemaIsOpen(branches)) return "any";
    if (Object.keys(properties).length > 0) {
        return Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, nodeFromSchema(root, s)]));
    }
    const type = branches.map((b) => b.type).find((t) => typeof t === "string");
    if (type === "array") return "list";
    if (type === "object") return "map";
    return type === "string" || type === "integer" || type === "number" || type === "boolean" ? type : "any";
}

/** Keys of commented-out examples (`# key: ...`, `# - key: ...`), as the outside checker reads them. */
const EXAMPLE_LINE = /^\s*#+\s*(?:-\s+)?["']?([A-Za-z0-9_.\-/]+)["']?\s*:(?:\s|$)/;

/**
 * The tree of a values.yaml: every key with the type of its default, keys only values.schema.json
 * declares, and per map the keys shown in commented-out examples within its block but outside its
 * sub-blocks (a block is the lines after a key up to the next line indented no deeper).
 */
function valueTree(text: string, file: string, schema?: unknown): ValueMap {
    const doc = YAML.parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length > 0) throw new ArtefactError(`${file}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
    const values: unknown = doc.toJS({ maxAliasCount: -1 }) ?? {};
    if (!isMap(values)) throw new ArtefactError(`${file}: the default values are not a map`);
    const lines = text.split("\n");
    const lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
    const lineOf = (offset: number) => {
        let lo = 0;
        let hi = lineStarts.length - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (lineStarts[mid] <= offset) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    };
    const indentOf = (line: string) => /^\s*/.exec(line)![0].length;
    const blockEnd = (keyLine: number) => {
        const indent = indentOf(lines[keyLine]);
        for (let i = keyLine + 1; i < lines.length; i++) {
            const l = lines[i];
            if (l.trim() && !/^\s*#/.test(l) && indentOf(l) <= indent) return i;
        }
        return lines.length;
    };

    const build = (value: Record<string, unknown>, ast: unknown, from: number, to: number, schemaNode: unknown): ValueMap => {
        const out: ValueMap = {};
        const branches = schema === undefined ? [] : schemaBranches(schema, schemaNode);
        const declared = schemaProperties(branches);
        const children: { from: number; to: number }[] = [];
        for (const [key, child] of Object.entries(value)) {
            if (key === EXAMPLES_KEY || key === ANY_KEY)
                throw new ArtefactError(`${file}: key "${key}" is reserved by the generated format`);
            const childSchema = declared[key];
            if (!isMap(child) || Object.keys(child).length === 0) {
                out[key] = leafOf(child);
                continue;
            }
            // The first pair of that key, as a reader of the file finds it.
            const pair = YAML.isMap(ast) ? ast.items.find((p) => String(YAML.isScalar(p.key) ? p.key.value : p.key) === key) : undefined;
            const keyNode = pair?.key as { range?: [number, number, number] } | undefined;
            if (pair && YAML.isMap(pair.value) && keyNode?.range) {
                const line = lineOf(keyNode.range[0]);
                const block = { from: line + 1, to: blockEnd(line) };
                children.push(block);
                out[key] = build(child, pair.value, block.from, block.to, childSchema);
            } else out[key] = build(child, undefined, 0, 0, childSchema);
        }
        for (const [key, s] of Object.entries(declared)) if (!(key in value)) out[key] = nodeFromSchema(schema, s);
        if (schemaIsOpen(branches)) out[ANY_KEY] = "any";
        const examples = new Set<string>();
        for (let i = from; i < to; i++) {
            if (children.some((c) => i >= c.from && i < c.to)) continue;
            const match = EXAMPLE_LINE.exec(lines[i]);
            if (match) examples.add(match[1]);
        }
        if (examples.size > 0) out[EXAMPLES_KEY] = [...examples].sort();
        return out;
    };
    return build(values, doc.contents, 0, lines.length, schema);
}

interface ChartYaml {
    name?: string;
    version?: string;
    dependencies?: { name: string; alias?: string; version?: string }[];
}

/**
 * The values of `charts/<name>/` (for a subchart, the parent's own `charts/<name>/` first), with
 * its subcharts, once its version is the pinned one (for a subchart: the one its parent depends on).
 */
function chartValues(
    name: string,
    sources: Source[],
    wanted: { pinned: string } | { constraint: string; parent: string },
    parent?: Located,
): ChartValues {
    const vendored = parent && existsSync(path.join(parent.dir, "charts", name)) ? parent : undefined;
    const located: Located | undefined = vendored
        ? { dir: path.join(vendored.dir, "charts", name), source: vendored.source }
        : locate(sources, path.join("charts", name));
    if (!located) {
        const what = "pinned" in wanted ? `chart ${name} ${wanted.pinned}` : `subchart ${name} ${wanted.constraint} of ${wanted.parent}`;
        throw new ArtefactError(`${what}: no charts/${name}/ in any --source`);
    }
    const chartYaml = path.join(located.dir, "Chart.yaml");
    if (!existsSync(chartYaml)) throw new ArtefactError(`${located.dir}: no Chart.yaml`);
    const chart = (readYamlDocuments(chartYaml)[0] ?? {}) as ChartYaml;
    const stated = String(chart.version ?? "");
    const placeholder = PLACEHOLDER_VERSION.test(stated) && !vendored;
    const version = placeholder && located.source ? versionOfTag(located.source.tag) : stated;
    if (!version) throw new ArtefactError(`${located.dir}: Chart.yaml says ${stated}, and SOURCES.md names no release tag`);
    if ("pinned" in wanted && !sameVersion(version, wanted.pinned)) {
        const from = placeholder ? "its SOURCES.md tag" : "Chart.yaml";
        throw new ArtefactError(`${located.dir}: ${from} says ${version}, but ${name} is pinned at ${wanted.pinned}`);
    }
    if ("constraint" in wanted) {
        const fits = satisfiesConstraint(version, wanted.constraint);
        if (fits === undefined)
            throw new ArtefactError(`${wanted.parent}: cannot compare ${name}'s version constraint ${wanted.constraint}`);
        if (!fits)
            throw new ArtefactError(`${located.dir}: version ${version}, but ${wanted.parent} depends on ${name} ${wanted.constraint}`);
    }
    if (!located.source) throw new ArtefactError(`${located.dir}: no SOURCES.md row names its repository, tag and commit`);
    const valuesFile = path.join(located.dir, "values.yaml");
    const schemaFile = path.join(located.dir, "values.schema.json");
    let schema: unknown;
    if (existsSync(schemaFile)) {
        try {
            schema = JSON.parse(readFileSync(schemaFile, "utf8"));
        } catch (error) {
            throw new ArtefactError(`${schemaFile}: not valid JSON: ${(error as Error).message}`);
        }
    }
    const values = existsSync(valuesFile) ? valueTree(readFileSync(valuesFile, "utf8"), valuesFile, schema) : {};
    const subcharts: Record<string, ChartValues> = {};
    const rules = VALUES_RULES[name] ?? {};
    for (const dependency of chart.dependencies ?? []) {
        if (rules.uncollectedSubcharts?.[dependency.alias ?? dependency.name]) continue;
        subcharts[dependency.alias ?? dependency.name] = chartValues(
            dependency.name,
            sources,
            { constraint: String(dependency.version ?? "*"), parent: name },
            located,
        );
    }
    return {
        chart: name,
        version: "pinned" in wanted ? wanted.pinned : version,
        source: located.source,
        values: sortKeys(values),
        freeForm: rules.freeForm ?? [],
        namedMaps: rules.namedMaps ?? [],
        subcharts,
    };
}

function chartFile(name: string, pinned: string, sources: Source[]): ChartFile {
    const values = chartValues(name, sources, { pinned });
    return {
        chart: values.chart,
        version: values.version,
        about: `default values of chart ${name} (key paths and types) and the rules for checking values against them`,
        source: values.source,
        values: values.values,
        freeForm: values.freeForm,
        namedMaps: values.namedMaps,
        subcharts: values.subcharts,
    };
}

// ---------------------------------------------------------------------------------------------
// Writing.

/** The files to write, by path below the output folder; or the problems, one line each. */
export function generate(sources: Source[]): { files: Record<string, object> } | { errors: string[] } {
    const files: Record<string, object> = {};
    const errors: string[] = [];
    const attempt = (file: string, make: () => object) => {
        try {
            files[file] = make();
        } catch (error) {
            if (!(error instanceof ArtefactError)) throw error;
            errors.push(error.message);
        }
    };
    for (const [name, entry] of Object.entries(CRD_SETS)) attempt(`crds/${name}.json`, () => crdSetFile(name, entry, sources));
    for (const { chart, version } of pinnedCharts()) attempt(`charts/${chart}.json`, () => chartFile(chart, version, sources));
    return errors.length > 0 ? { errors } : { files };
}

/** Fields of a generated file written one entry per line: a regenerated file's diff shows which kinds or values changed. */
const LISTED_FIELDS = new Set(["kinds", "defs", "values", "subcharts"]);

/**
 * Compact JSON: one line per top-level field and per entry of the listed fields, nothing else
 * broken. Passed through prettier with the config of the committed folder
 * (conformance/schemas/.prettierrc.json, which wraps no line), so that `npm run lint` finds
 * the files formatted, wherever --out puts them.
 */
async function formatJson(file: string, value: object): Promise<string> {
    const field = ([key, v]: [string, unknown]) => {
        if (!LISTED_FIELDS.has(key) || !isMap(v) || Object.keys(v).length === 0) return `${JSON.stringify(key)}:${JSON.stringify(v)}`;
        const entries = Object.entries(v).map(([k, e]) => `${JSON.stringify(k)}:${JSON.stringify(e)}`);
        return `${JSON.stringify(key)}:{\n${entries.join(",\n")}\n}`;
    };
    const text = `{\n${Object.entries(value).map(field).join(",\n")}\n}\n`;
    const options = (await prettier.resolveConfig(path.join(SCHEMA_DIR, file))) ?? {};
    return prettier.format(text, { ...options, filepath: file });
}

export async function main(argv: string[], io: Io): Promise<number> {
    let values: { source?: string[]; out?: string };
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: { source: { type: "string", multiple: true }, out: { type: "string" } },
        }));
    } catch (error) {
        io.err(`conformance-schemas: ${argumentError(error)}`);
        io.err(USAGE);
        return 2;
    }
    if (!values.source?.length || values.out === "") {
        io.err(`conformance-schemas: ${values.out === "" ? "--out needs a value" : "--source is required"}`);
        io.err(USAGE);
        return 2;
    }
    const { sources, errors: sourceErrors } = readSources(values.source, io.cwd);
    const result = sourceErrors.length > 0 ? { errors: sourceErrors } : generate(sources);
    if ("errors" in result) {
        for (const error of result.errors) io.err(`conformance-schemas: ${error}`);
        return 2;
    }
    const out = values.out === undefined ? SCHEMA_DIR : path.resolve(io.cwd, values.out);
    // Earlier generated files go: a set or chart no longer pinned leaves no stale schema behind.
    for (const folder of ["crds", "charts"]) {
        const dir = path.join(out, folder);
        if (existsSync(dir)) for (const f of readdirSync(dir).filter((f) => f.endsWith(".json"))) rmSync(path.join(dir, f));
        mkdirSync(dir, { recursive: true });
    }
    let bytes = 0;
    for (const [file, content] of Object.entries(result.files)) {
        const text = await formatJson(file, content);
        writeFileSync(path.join(out, file), text);
        bytes += Buffer.byteLength(text);
    }
    const count = (prefix: string) => Object.keys(result.files).filter((f) => f.startsWith(prefix)).length;
    io.out(
        `conformance schemas: ${count("crds/")} CRD sets and ${count("charts/")} charts, ${Math.round(bytes / 1024)} KiB in ${path.relative(io.cwd, out) || "."}`,
    );
    return 0;
}

if (require.main === module) runCli("conformance-schemas", main);
