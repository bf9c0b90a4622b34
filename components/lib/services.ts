// How the platform's parts name each other inside the cluster: the `part-of` label and the
// in-cluster addresses of Services.

export const PART_OF = "finbot";
/** Labels every object the platform creates carries. */
export const PART_OF_LABELS = { "app.kubernetes.io/part-of": PART_OF } as const;

/** A Kubernetes Service a component creates (itself or through a chart), by name, namespace and port. */
export interface ClusterService {
    name: string;
    namespace: string;
    port: number;
}

/** `<name>.<namespace>.svc`: a Service's name inside the cluster (what its certificate carries and TLS clients verify). */
export function serviceHost(name: string, namespace: string): string {
    return `${name}.${namespace}.svc`;
}

/** `<name>.<namespace>.svc.cluster.local`: a Service's name inside the cluster. */
export function clusterServiceHost(name: string, namespace: string): string {
    return `${name}.${namespace}.svc.cluster.local`;
}

/** `http://<name>.<namespace>.svc.cluster.local:<port>` of a Service. */
export function clusterUrl(service: ClusterService, scheme: "http" | "https" = "http"): string {
    return `${scheme}://${clusterServiceHost(service.name, service.namespace)}:${service.port}`;
}
