// The stack's defaults, decided once after validation: what production means for every part (high
// availability, protected state, strict zone spreading, ACME, private operator UIs behind single
// sign-on) and the other values a key leaves to its stack. Components read these and never decide a
// stack default themselves (test/codebase.test.ts holds every `environment ===` to this file). Pure.
import type { PlatformConfig } from "./schema";
import { Cni, cniOf, nodeAutoscalerOf } from "./cluster";
import { TrafficConfig, operatorAccessOf } from "./traffic";

/** Whether a (possibly not yet validated) config is production's. */
export const isProduction = (config: { environment?: unknown }): boolean => config.environment === "production";

/** The certificate issuer: as configured, else ACME in production and self-signed in staging. */
export const tlsIssuerOf = (traffic: { tls?: { issuer?: TrafficConfig["tls"]["issuer"] } } | undefined, production: boolean) =>
    traffic?.tls?.issuer ?? (production ? "acme" : "self-signed");

export interface StackDefaults {
    /** Production: replicated parts with disruption budgets, protected state, verified kubelets. */
    production: boolean;
    /** How strictly pods spread over zones: as configured, else strictly in production. */
    zoneSpread: "required" | "preferred";
    tlsIssuer: "acme" | "self-signed";
    /** How the operator UIs are reached: single sign-on on an internal gateway in production. */
    operatorAccess: ReturnType<typeof operatorAccessOf>;
    /** Who adds nodes: Karpenter when the stack creates the cluster. */
    nodeAutoscaler: "karpenter" | "none";
    /** The CNI that enforces the stack's NetworkPolicies (the VPC CNI when the stack creates the cluster). */
    cni: Cni | undefined;
    /** Volumes on the program's own retained, encrypted class: production without a configured class. */
    retainedVolumes: boolean;
    /** The data tier runs: PostgreSQL, Redis or RabbitMQ is on. */
    dataTier: boolean;
    /** cert-manager and the internal CA run: whenever the gateway, the data tier or logging does (they serve TLS). */
    pki: boolean;
}

export function stackDefaults(config: PlatformConfig): StackDefaults {
    const production = isProduction(config);
    const dataTier = config.database.enabled || config.cache.enabled || config.queue.enabled;
    return {
        production,
        zoneSpread: config.kubernetes.zoneSpread ?? (production ? "required" : "preferred"),
        tlsIssuer: tlsIssuerOf(config.traffic, production),
        operatorAccess: operatorAccessOf(config.traffic, production),
        nodeAutoscaler: nodeAutoscalerOf(config.cluster),
        cni: cniOf(config.cluster),
        retainedVolumes: config.kubernetes.storageClass === undefined && production,
        dataTier,
        pki: config.traffic.enabled || dataTier || config.logging.enabled,
    };
}
