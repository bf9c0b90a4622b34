// What every area's network flows are written against: the stack's namespaces, where the API server
// and the VPC are, which parts are on, and the peers that several areas name (the gateways' proxies,
// Prometheus, the blackbox exporter, the checks' receiver). The platform builds it once from the
// areas' own label constants; each area writes the flows of its namespaces from it. Pure.
import { PlatformConfig } from "../config/schema";
import { StackDefaults } from "../config/resolve";
import { createdPrivateSubnets, networkFacts } from "./awsNetwork";
import { RFC1918_RANGES } from "../config/cidr";
import { Flow, Peer } from "./networkPolicy";

/** A third party's listener on the egress gateway, as flows see it. */
export interface EgressListener {
    provider: { name: string; port: number; callers: string[] };
    port: number;
}

export interface FlowContext {
    config: PlatformConfig;
    ns: PlatformConfig["namespaces"];
    /** Where the API server (and the nodes) answer. */
    api: Peer;
    /** The AWS network's private part (privateNetworkCidrs: the nodes, the managed stores), when the stack knows it. */
    vpc: Peer[];
    production: boolean;
    operatorAccess: StackDefaults["operatorAccess"];
    /** Which parts run. */
    on: {
        dataOn: boolean;
        managedStores: boolean;
        monitoringOn: boolean;
        loggingOn: boolean;
        apmOn: boolean;
        trafficOn: boolean;
        /** Load tests. */
        checks: boolean;
        pageChecks: boolean;
        karpenterOn: boolean;
        syntheticChecks: boolean;
        /** cert-manager and the internal CA run (in the traffic namespace). */
        pkiOn: boolean;
    };
    /** Pods several areas name. */
    publicProxies: Record<string, string>;
    uiProxies: Record<string, string>;
    egressProxies: Record<string, string>;
    prometheus: Peer;
    blackbox: Peer;
    receiver: Peer;
    /** The ports FinBot's services listen on. */
    servicePorts: number[];
    /** The egress gateway's listeners, and each workload that calls a third party with the listeners it may use. */
    egress: EgressListener[];
    thirdPartyCallers: Array<{ pods: string; routes: EgressListener[] }>;
    /**
     * Prometheus scrapes these ports of the namespace's pods (the ports its monitors name), when
     * monitoring is on; the platform gives Prometheus the matching egress.
     */
    scraped(ports: number[], why: string): Flow[];
    apiServer(why: string): Flow;
    webhooks(why: string, ports: number[]): Flow;
}

/**
 * Where the API server answers (and the nodes: kubelets, host-network agents), never the internet:
 * a created cluster's private subnets (its nodes', where EKS places the control plane's network
 * interfaces), an existing cluster's VPC (its subnets are not known here), and the private ranges
 * elsewhere (a laptop cluster's node network).
 */
export function apiServerCidrs(config: PlatformConfig): string[] {
    if (config.kubernetes.apiServerCidrs) return config.kubernetes.apiServerCidrs;
    const privateNetwork = privateNetworkCidrs(config);
    return privateNetwork.length > 0 ? privateNetwork : RFC1918_RANGES;
}

/**
 * Where the nodes, the managed stores (Aurora, RDS Proxy, ElastiCache: the private subnets) and the
 * control plane's interfaces live on AWS: a created cluster's private subnets, an existing cluster's
 * VPC (its subnets are not known here); none without an AWS network.
 */
export function privateNetworkCidrs(config: PlatformConfig): string[] {
    const facts = networkFacts(config);
    if (!facts) return [];
    return config.network ? [facts.vpcCidr] : createdPrivateSubnets(facts.vpcCidr, facts.availabilityZones.length);
}
