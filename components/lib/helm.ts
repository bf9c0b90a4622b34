// Installing a pinned chart: one way for every Helm release the platform makes (atomic upgrades
// that clean up after themselves, a bounded history), charts from HTTP repositories or OCI.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, ChartName } from "../config/releases";

export interface HelmReleaseArgs {
    /** The chart, by its name in `finbot:releases.charts`. */
    chart: ChartName;
    /** Exact version (from `finbot:releases.charts`). */
    version: string;
    /** Helm release name. */
    releaseName: string;
    /** Namespace to install into (created by the caller). */
    namespace: pulumi.Input<string>;
    /** Chart values; every path must exist in the chart's defaults (the conformance check). */
    values: pulumi.Input<Record<string, unknown>>;
    /**
     * Seconds Helm waits for the release to become ready.
     * @default 300
     */
    timeout?: number;
    /**
     * Leave out the chart's `crds/` folder (another resource installs those CRDs).
     * @default false
     */
    skipCrds?: boolean;
}

/** Where Helm finds a chart: an OCI reference as the chart itself, else the name in its repository. */
export function chartLocation(chart: ChartName): { chart: string; repositoryOpts?: { repo: string } } {
    const { repo } = CHARTS[chart];
    return repo.startsWith("oci://") ? { chart: repo } : { chart, repositoryOpts: { repo } };
}

/** A Helm release of a pinned chart: atomic, cleaned up on failure, ten revisions kept. */
export function helmRelease(name: string, args: HelmReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: args.releaseName,
            ...chartLocation(args.chart),
            version: args.version,
            namespace: args.namespace,
            atomic: true,
            cleanupOnFail: true,
            maxHistory: 10,
            ...(args.timeout ? { timeout: args.timeout } : {}),
            ...(args.skipCrds ? { skipCrds: true } : {}),
            values: args.values,
        },
        opts,
    );
}

/** `registry/repository:tag` split the way charts take images (`image.registry`, `.repository`, `.tag`). */
export function imageParts(ref: string): { registry: string; repository: string; tag: string } {
    const at = ref.lastIndexOf(":");
    const [name, tag] = [ref.slice(0, at), ref.slice(at + 1)];
    const slash = name.indexOf("/");
    return { registry: name.slice(0, slash), repository: name.slice(slash + 1), tag };
}
