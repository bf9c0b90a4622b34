// The connection contract FinBot's services rely on, whatever runs behind it (in-cluster or AWS):
// one Kubernetes Secret per service with these keys.

/** Keys of the `<service>-connections` Secret, by the part that provides them. */
export const CONNECTION_KEYS = {
    database: ["DATABASE_WRITER_URL", "DATABASE_READER_URL", "DATABASE_POOLED_URL"],
    cache: ["REDIS_URL"],
    queue: ["AMQP_URL"],
} as const;

export type ConnectionKey = (typeof CONNECTION_KEYS)[keyof typeof CONNECTION_KEYS][number];

/** The Secret of a service or worker is `<name>-connections`. */
export const CONNECTIONS_SUFFIX = "connections";

const enc = encodeURIComponent;

/** Always encrypted: CloudNativePG and RDS both serve TLS (`rds.force_ssl` is on). */
export function postgresUrl(args: { user: string; password: string; host: string; port: number; database: string }): string {
    return `postgresql://${enc(args.user)}:${enc(args.password)}@${args.host}:${args.port}/${enc(args.database)}?sslmode=require`;
}

export function redisUrl(args: { password: string; host: string; port: number; tls: boolean }): string {
    return `${args.tls ? "rediss" : "redis"}://:${enc(args.password)}@${args.host}:${args.port}/0`;
}

export function amqpUrl(args: { user: string; password: string; host: string; port: number }): string {
    return `amqp://${enc(args.user)}:${enc(args.password)}@${args.host}:${args.port}/%2F`;
}
