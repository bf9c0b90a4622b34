// The database at 10x (Aurora): client connections FinBot's pods open against what RDS Proxy may
// open to the writer and the readers, and read queries against what the readers serve at their
// maximum count. Pure; the assumptions are named constants (docs/capacity.md states them).
import { CAPACITY_FACTOR } from "./capacityRule";
import type { PlatformConfig } from "./schema";
import { servicesAtTenTimes } from "./nodeCapacity";

/** Connections each of FinBot's pods keeps in its pool (RDS Proxy multiplexes them onto fewer backends). */
export const CONNECTIONS_PER_POD = 10;
/** RDS Proxy's share of an instance's max_connections (its `maxConnectionsPercent`). */
export const PROXY_CONNECTIONS_PERCENT = 90;
/** Memory of the Aurora instance classes, GiB: max_connections follows it. */
const INSTANCE_MEMORY_GIB: Record<string, number> = { large: 16, xlarge: 32, "2xlarge": 64, "4xlarge": 128, "8xlarge": 256 };

/** Aurora PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000), for r-class instances. */
export function auroraMaxConnections(instanceClass: string): number | undefined {
    const size = /^db\.r\dg?d?\.(\w+)$/.exec(instanceClass)?.[1];
    const gib = size ? INSTANCE_MEMORY_GIB[size] : undefined;
    return gib === undefined ? undefined : Math.min(Math.floor((gib * 1024 ** 3) / 9531392), 5000);
}

export interface DatabaseAtTenTimes {
    /** Pods using the database at 10x, and the client connections they open. */
    pods: number;
    clientConnections: number;
    /** Backend connections RDS Proxy may open: to the writer, and to all readers at their maximum. */
    writerBackends: number;
    readerBackends: number;
    /** Read queries/s at 10x (undefined when no service declares its reads per request). */
    readQueriesPerSecond?: number;
    /** What the readers serve at their maximum count (undefined when not measured). */
    readerQueriesPerSecond?: number;
    /** Readers that 10x needs (undefined without both numbers). */
    readersNeeded?: number;
}

/** Read queries/s at 10x peak of the services that declare their reads per request (undefined when none does). */
export function readQueriesAtTenTimes(
    services: Array<{ capacity?: { peakRequestsPerSecond?: unknown; readQueriesPerRequest?: unknown } }>,
): number | undefined {
    const declared = services.flatMap((s) => {
        const { peakRequestsPerSecond: peak, readQueriesPerRequest: reads } = s.capacity ?? {};
        return typeof peak === "number" && typeof reads === "number" ? [CAPACITY_FACTOR * peak * reads] : [];
    });
    return declared.length > 0 ? declared.reduce((q, r) => q + r, 0) : undefined;
}

/** Undefined unless the database is Aurora with a known instance class. */
export function databaseAtTenTimes(config: Pick<PlatformConfig, "database" | "services" | "workers">): DatabaseAtTenTimes | undefined {
    const db = config.database;
    if (!db.enabled || db.mode !== "aurora") return undefined;
    const maxConnections = auroraMaxConnections(db.aurora.instanceClass);
    if (maxConnections === undefined) return undefined;
    const users = new Set(
        [...config.services, ...config.workers].filter((c) => (c.uses?.database ?? "none") !== "none").map((c) => c.name),
    );
    const lines = servicesAtTenTimes(config).filter((l) => users.has(l.part.replace(/^(service|worker) /, "").replace(/-canary$/, "")));
    const pods = lines.reduce((n, l) => n + l.pods, 0);
    const backends = Math.floor((maxConnections * PROXY_CONNECTIONS_PERCENT) / 100);
    const readQueriesPerSecond = readQueriesAtTenTimes(config.services.filter((s) => users.has(s.name)));
    const perReader = db.aurora.readQueriesPerSecondPerReader;
    return {
        pods,
        clientConnections: pods * CONNECTIONS_PER_POD,
        writerBackends: backends,
        readerBackends: backends * db.aurora.readers.max,
        readQueriesPerSecond,
        readerQueriesPerSecond: perReader === undefined ? undefined : perReader * db.aurora.readers.max,
        readersNeeded:
            perReader === undefined || readQueriesPerSecond === undefined ? undefined : Math.ceil(readQueriesPerSecond / perReader),
    };
}
