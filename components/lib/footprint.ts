// What a stack costs is what its components declare they run: pods with their requests, and the
// managed AWS services they create. Components fill these in; the cost estimate and the summary
// read them. Pure types.
import { RequestLine } from "./cluster";

/** A managed AWS service a component creates, in the terms its price is quoted in. */
export type ManagedService =
    | { kind: "rds-instance"; role: string; instanceClass: string; count: number; multiAz: boolean }
    | { kind: "rds-storage"; gb: number; copies: number }
    | { kind: "rds-proxy"; instanceClass: string }
    | { kind: "elasticache-node"; engine: string; nodeType: string; count: number }
    | { kind: "nlb" }
    | { kind: "cloudfront" };

/** What one component runs. */
export interface Footprint {
    /** Pods in the cluster and their requests. */
    requests: RequestLine[];
    /** Managed AWS services. */
    managed: ManagedService[];
}

export const emptyFootprint = (): Footprint => ({ requests: [], managed: [] });
