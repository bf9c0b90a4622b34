// What a stack costs is what its components declare they run: pods with their requests, and the
// managed AWS services they create. Components fill these in; the cost estimate and the summary
// read them. Pure types.
import { RequestLine } from "./cluster";

/** A managed AWS service a component creates, in the terms its price is quoted in. */
export type ManagedService =
    | { kind: "aurora-instance"; role: string; instanceClass: string; count: number }
    /** Aurora bills the storage used (assumed here), once for all instances. */
    | { kind: "aurora-storage"; gb: number }
    /** RDS Proxy bills per vCPU of the instances behind it. */
    | { kind: "rds-proxy"; instanceClass: string; instances: number }
    /** Backup copies kept in a second region (assumed size). */
    | { kind: "backup-copy"; gb: number }
    | { kind: "elasticache-node"; engine: string; nodeType: string; count: number }
    | { kind: "nlb" }
    | { kind: "cloudfront" }
    | { kind: "waf"; rules: number };

/** What one component runs. */
export interface Footprint {
    /** Pods in the cluster and their requests. */
    requests: RequestLine[];
    /** Managed AWS services. */
    managed: ManagedService[];
}

export const emptyFootprint = (): Footprint => ({ requests: [], managed: [] });
