// The format of the generated conformance schemas (conformance/schemas/), shared by their
// generator (conformance/generate.ts) and their reader (validate.ts). Only structural facts
// derived from upstream artefacts are kept: no descriptions, no examples, no upstream file as is.
import * as path from "node:path";

/** Where the generated schemas live; the check reads nothing else. */
export const SCHEMA_DIR = path.join(__dirname, "schemas");

/** Where a generated file came from: an upstream repository at a release tag. */
export interface ArtefactSource {
    repository: string;
    tag: string;
    /** The commit of the tag, when the provenance records it. */
    commit: string | null;
}

/** The pin of components/config/releases.json a CRD set follows. */
export type PinRef = { chart: string; version: string } | { manifest: string; version: string };

/**
 * A structural schema (Kubernetes CRD `openAPIV3Schema`) reduced to what the check uses: types,
 * properties, items, required, enums, nullable, defaults, numeric and length bounds, the
 * x-kubernetes-* markers, and the value validations (allOf/anyOf/oneOf/not) that survive without
 * patterns, formats and CEL rules. `$ref` names an entry of the file's `defs` (repeated subtrees
 * are stored once).
 */
export interface StructuralSchema {
    $ref?: string;
    type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
    properties?: Record<string, StructuralSchema>;
    additionalProperties?: boolean | StructuralSchema;
    items?: StructuralSchema;
    required?: string[];
    enum?: unknown[];
    nullable?: boolean;
    default?: unknown;
    minimum?: number;
    maximum?: number;
    /** OpenAPI 3.0: the bound itself is excluded. */
    exclusiveMinimum?: boolean;
    exclusiveMaximum?: boolean;
    minLength?: number;
    maxLength?: number;
    minItems?: number;
    maxItems?: number;
    minProperties?: number;
    maxProperties?: number;
    allOf?: StructuralSchema[];
    anyOf?: StructuralSchema[];
    oneOf?: StructuralSchema[];
    not?: StructuralSchema;
    "x-kubernetes-preserve-unknown-fields"?: boolean;
    "x-kubernetes-int-or-string"?: boolean;
    "x-kubernetes-embedded-resource"?: boolean;
}

/** `crds/<set>.json`: the served versions of one upstream CRD set. */
export interface CrdSetFile {
    set: string;
    /** Upstream version of the CRDs. */
    version: string;
    /** The pin they were generated for; null for a set the project does not pin yet. */
    pin: PinRef | null;
    about: string;
    source: ArtefactSource;
    /** `<group>/<version>/<Kind>` of deprecated versions. */
    deprecated: string[];
    /** Root schema per `<group>/<version>/<Kind>`. */
    kinds: Record<string, StructuralSchema>;
    defs: Record<string, StructuralSchema>;
}

/**
 * The type of a chart default: a scalar's type, or a default below which anything goes (`null`,
 * a list, an empty map, or a key a values.schema.json declares without a usable shape).
 */
export type ValueLeaf = "string" | "integer" | "number" | "boolean" | "null" | "list" | "map" | "any";

/** Leaves below which the values are free-form. */
export const OPEN_LEAVES: ReadonlySet<ValueLeaf> = new Set(["null", "list", "map", "any"]);

/**
 * In a map of defaults, the key listing the keys values.yaml shows only in commented-out examples
 * in that block (outside its sub-blocks): charts document many optional keys that way.
 */
export const EXAMPLES_KEY = "#";

/** In a map of defaults, present (as "any") when the chart's values.schema.json accepts keys it does not list. */
export const ANY_KEY = "*";

/** A chart's default values as a tree: maps of keys, leaves naming the default's type. */
export type ValueNode = ValueLeaf | ValueMap;
export interface ValueMap {
    [key: string]: ValueNode | string[];
}

/** A map whose keys are names the user picks; each entry is checked like the chart's `template` entry. */
export interface NamedMap {
    path: string[];
    template: string;
}

/** A chart's default values and the rules for checking values against them. */
export interface ChartValues {
    chart: string;
    version: string;
    source: ArtefactSource;
    values: ValueMap;
    /** Paths below which any value is accepted (config blobs the chart passes through). */
    freeForm: string[][];
    namedMaps: NamedMap[];
    /** Subcharts by the values key (alias) they are configured under. */
    subcharts: Record<string, ChartValues>;
}

/** `charts/<chart>.json`. */
export interface ChartFile extends ChartValues {
    about: string;
}
