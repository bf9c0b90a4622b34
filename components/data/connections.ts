// The connection contract FinBot's services rely on, whatever runs behind it (in-cluster or AWS):
// one Kubernetes Secret per service with these keys.

/** Keys of the `<service>-connections` Secret, by the part that provides them. */
export const CONNECTION_KEYS = {
    database: ["DATABASE_WRITER_URL", "DATABASE_READER_URL", "DATABASE_POOLED_URL"],
    cache: ["REDIS_URL", "REDIS_KEY_PREFIX", "REDIS_MAX_TTL_SECONDS"],
    queue: ["AMQP_URL"],
} as const;

export type ConnectionKey = (typeof CONNECTION_KEYS)[keyof typeof CONNECTION_KEYS][number];

/** The Secret of a service or worker is `<name>-connections`. */
export const CONNECTIONS_SUFFIX = "connections";

const enc = encodeURIComponent;

/** The connection settings of one consumer, only those it uses (secrets). */
export type Connections = Partial<Record<ConnectionKey, import("@pulumi/pulumi").Output<string>>>;

/**
 * Always encrypted and verified: `verify-full` checks the server's name against a CA (a file, or
 * `system`: the public roots RDS Proxy's certificate chains to, libpq 16+).
 */
export function postgresUrl(args: {
    user: string;
    password: string;
    host: string;
    port: number;
    database: string;
    /** A CA file path, or `system`. */
    rootCert: string;
}): string {
    return `postgresql://${enc(args.user)}:${enc(args.password)}@${args.host}:${args.port}/${enc(args.database)}?sslmode=verify-full&sslrootcert=${enc(args.rootCert)}`;
}

/** A consumer signs in as its own ACL user (Redis 6+, ElastiCache RBAC). */
export function redisUrl(args: { user: string; password: string; host: string; port: number; tls: boolean }): string {
    return `${args.tls ? "rediss" : "redis"}://${enc(args.user)}:${enc(args.password)}@${args.host}:${args.port}/0`;
}

/** amqps in production (the client verifies the internal CA: `AMQP_CA_FILE`). */
export function amqpUrl(args: { user: string; password: string; host: string; port: number; tls: boolean }): string {
    return `${args.tls ? "amqps" : "amqp"}://${enc(args.user)}:${enc(args.password)}@${args.host}:${args.port}/%2F`;
}
