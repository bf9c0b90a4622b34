// What a stack costs is what its components declare they run: pods with their requests, and the
// managed AWS services they create. Components fill these in; the cost estimate and the summary
// read them. Pure.
import { parseBytes, parseCpu } from "../config/quantities";

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

/** Pods a component runs, with the requests of each: what summaries, cost and capacity add up. */
export interface RequestLine {
    part: string;
    pods: number;
    cpu: string;
    memory: string;
}

/** What request lines add up to. */
export function totalRequests(lines: RequestLine[]): { millicores: number; bytes: number } {
    return lines.reduce(
        (sum, l) => ({
            millicores: sum.millicores + l.pods * (parseCpu(l.cpu) ?? 0),
            bytes: sum.bytes + l.pods * (parseBytes(l.memory) ?? 0),
        }),
        { millicores: 0, bytes: 0 },
    );
}
