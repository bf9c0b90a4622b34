// Default-deny networking: every namespace the platform creates denies all ingress and egress,
// then allows each flow that exists, one NetworkPolicy per flow named after it, with the reason
// in an annotation. Flows are data (pure), so the table of allowed flows is generated from the
// same source the cluster gets.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PRIVATE_RANGES } from "../config/cidr";

/** A destination port (TCP unless said otherwise). */
export type FlowPort = number | { port: number; protocol: "TCP" | "UDP" };

/** The other end of a flow: pods of a namespace (all or those with labels), or address ranges. */
export type Peer = { namespace: string; pods?: Record<string, string>; except?: PodExclusion } | { cidrs: string[]; except?: string[] };

/** Pods left out: those whose label `key` is one of `values`. */
export interface PodExclusion {
    key: string;
    values: string[];
}

/** The pods a one-label selector picks, as an exclusion: `{ app: "x" }` leaves out `app` in ["x"]. */
export function podsExcept(pods: Record<string, string>): PodExclusion {
    const labels = Object.entries(pods);
    if (labels.length !== 1) throw new Error(`podsExcept takes a one-label selector, given ${JSON.stringify(pods)}`);
    const [[key, value]] = labels;
    return { key, values: [value] };
}

const notIn = (except?: PodExclusion) =>
    except ? { matchExpressions: [{ key: except.key, operator: "NotIn", values: except.values }] } : {};

export interface Flow {
    /** Names the policy `allow-<name>`: a DNS label. */
    name: string;
    /** Why the flow exists (the policy's annotation and the docs' table). */
    why: string;
    direction: "ingress" | "egress";
    /** Pods of this namespace it applies to; every pod when omitted. */
    pods?: Record<string, string>;
    /** Pods it does not apply to (a UI that admits only its gateway). */
    except?: PodExclusion;
    peers: Peer[];
    /** Destination ports; every port when omitted. */
    ports?: FlowPort[];
}

/** A namespace and the flows allowed in and out of it. */
export interface NamespaceFlows {
    namespace: string;
    flows: Flow[];
}

export const WHY_ANNOTATION = "finbot.io/why";

/** Public internet addresses only (no private, link-local or carrier-grade NAT ranges). */
export const INTERNET: Peer = { cidrs: ["0.0.0.0/0"], except: PRIVATE_RANGES };
/** EKS Pod Identity's agent on every node (link-local). */
export const POD_IDENTITY_AGENT: Peer = { cidrs: ["169.254.170.23/32"] };

/** CoreDNS' pods (kind's, kubeadm's and EKS' add-on keep the `k8s-app: kube-dns` label). */
export const KUBE_DNS_PODS = { "k8s-app": "kube-dns" };

/** Name resolution: every namespace's pods reach CoreDNS. */
export const DNS: Flow = {
    name: "dns",
    why: "Name resolution (CoreDNS).",
    direction: "egress",
    peers: [{ namespace: "kube-system", pods: KUBE_DNS_PODS }],
    ports: [
        { port: 53, protocol: "UDP" },
        { port: 53, protocol: "TCP" },
    ],
};

/**
 * Pods of a namespace reach each other, both ways; pods `except` names (the operator UIs) admit only
 * what their own flows allow, and with `isolated` reach only what their own flows allow too (a UI
 * that can be made to fetch URLs).
 */
export const sameNamespace = (namespace: string, except?: PodExclusion, isolated = false): Flow[] => {
    const why = except
        ? `Pods of this namespace talk to each other, not ${isolated ? "with" : "to"} ${except.values.join(", ")}: only their own flows reach them.`
        : "Pods of this namespace talk to each other.";
    return [
        {
            name: "same-namespace-in",
            why,
            direction: "ingress",
            peers: [{ namespace, ...(except && isolated ? { except } : {}) }],
            ...(except ? { except } : {}),
        },
        {
            name: "same-namespace-out",
            why,
            direction: "egress",
            peers: [{ namespace, ...(except ? { except } : {}) }],
            ...(except && isolated ? { except } : {}),
        },
    ];
};

/**
 * Pods `from` reaching pods `to` of the same namespace on `ports`, where neither end's namespace-wide
 * flow covers it: the ingress flow at `to`, then the egress flow at `from`.
 */
export function withinNamespace(args: {
    namespace: string;
    names: { ingress: string; egress: string };
    why: string;
    from: Record<string, string>;
    to: Record<string, string>;
    ports: FlowPort[];
}): Flow[] {
    const { namespace, why, from, to, ports } = args;
    return [
        { name: args.names.ingress, why, direction: "ingress", pods: to, peers: [{ namespace, pods: from }], ports },
        { name: args.names.egress, why, direction: "egress", pods: from, peers: [{ namespace, pods: to }], ports },
    ];
}

/** The flows, when a part is on. */
export const when = (on: boolean, ...flows: Flow[]): Flow[] => (on ? flows : []);

type PolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

function peerSpec(peer: Peer): k8s.types.input.networking.v1.NetworkPolicyPeer[] {
    if ("cidrs" in peer)
        return peer.cidrs.map((cidr) => ({
            ipBlock: {
                cidr,
                // `except` must lie inside the block: only the parts of the list that do.
                ...(peer.except && cidr === "0.0.0.0/0" ? { except: peer.except } : {}),
            },
        }));
    return [
        {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
            ...(peer.pods || peer.except
                ? { podSelector: { ...(peer.pods ? { matchLabels: peer.pods } : {}), ...notIn(peer.except) } }
                : {}),
        },
    ];
}

const portSpec = (p: FlowPort) => (typeof p === "number" ? { protocol: "TCP", port: p } : { protocol: p.protocol, port: p.port });

/** The NetworkPolicy specs of a namespace: `default-deny`, then `allow-<flow>` for each flow. */
export function networkPolicySpecs(ns: NamespaceFlows): Array<{ name: string; why: string; spec: PolicySpec }> {
    const names = new Set<string>();
    for (const flow of ns.flows) {
        if (names.has(flow.name)) throw new Error(`${ns.namespace}: two flows are named "${flow.name}"`);
        names.add(flow.name);
        // An empty list would admit every port: a flow names its ports or leaves them out.
        if (flow.ports?.length === 0) throw new Error(`${ns.namespace}: flow "${flow.name}" names no ports`);
    }
    return [
        {
            name: "default-deny",
            why: "Nothing in or out unless a policy below allows it.",
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        },
        ...ns.flows.map((flow) => {
            const rule = {
                ...(flow.direction === "ingress" ? { from: flow.peers.flatMap(peerSpec) } : { to: flow.peers.flatMap(peerSpec) }),
                ...(flow.ports ? { ports: flow.ports.map(portSpec) } : {}),
            };
            return {
                name: `allow-${flow.name}`,
                why: flow.why,
                spec: {
                    podSelector: { ...(flow.pods ? { matchLabels: flow.pods } : {}), ...notIn(flow.except) },
                    policyTypes: [flow.direction === "ingress" ? "Ingress" : "Egress"],
                    ...(flow.direction === "ingress" ? { ingress: [rule] } : { egress: [rule] }),
                },
            };
        }),
    ];
}

/** Creates a namespace's policies, after `dependsOn` (the namespace, or what creates it). */
export function namespacePolicies(
    resourceName: string,
    ns: NamespaceFlows,
    opts: { parent: pulumi.Resource; dependsOn?: pulumi.Input<pulumi.Resource>[]; aliases?: pulumi.Input<pulumi.Alias>[] },
): k8s.networking.v1.NetworkPolicy[] {
    return networkPolicySpecs(ns).map(
        (policy) =>
            new k8s.networking.v1.NetworkPolicy(
                `${resourceName}-${policy.name}`,
                {
                    metadata: {
                        name: policy.name,
                        namespace: ns.namespace,
                        labels: { "app.kubernetes.io/part-of": "finbot" },
                        annotations: { [WHY_ANNOTATION]: policy.why },
                    },
                    spec: policy.spec,
                },
                opts,
            ),
    );
}
