// RabbitMQ topology FinBot's queues need: quorum queues, each with a dead-letter queue bound to the
// dead-letter exchange, and policies for length limits and dead-lettering (policies can change
// later; queue arguments cannot). One description, rendered both as the messaging-topology
// operator's resources and as a definitions file (what an export holds, what a restore imports).
// And the permissions of a consumer's user: what it publishes to and consumes, nothing else. Pure.
import { createHash } from "node:crypto";
import { QueueConfig } from "../config/data";

export const VHOST = "/";
export const DEAD_LETTER_EXCHANGE = "finbot.dlx";
export const deadLetterQueue = (queue: string) => `${queue}.dlq`;
/**
 * The exchange a queue's publishers publish to (routing key: the queue's name). A direct exchange
 * bound to that queue alone: a user with write on it reaches that queue and no other, where write on
 * the default exchange would reach every queue of the vhost.
 */
export const publishExchange = (queue: string) => `finbot.publish.${queue}`;
const regexEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface Topology {
    exchanges: Array<{ name: string; type: string }>;
    queues: Array<{ name: string }>;
    bindings: Array<{ source: string; destination: string; routingKey: string }>;
    policies: Array<{ name: string; pattern: string; definition: Record<string, unknown> }>;
}

/** The topology of the configured queues. Dead letters are refused, never dropped, when their queue is full. */
export function queueTopology(queues: QueueConfig["queues"]): Topology {
    return {
        exchanges: [
            { name: DEAD_LETTER_EXCHANGE, type: "direct" },
            ...queues.map((q) => ({ name: publishExchange(q.name), type: "direct" })),
        ],
        queues: queues.flatMap((q) => [{ name: q.name }, { name: deadLetterQueue(q.name) }]),
        bindings: queues.flatMap((q) => [
            { source: publishExchange(q.name), destination: q.name, routingKey: q.name },
            { source: DEAD_LETTER_EXCHANGE, destination: deadLetterQueue(q.name), routingKey: deadLetterQueue(q.name) },
        ]),
        policies: queues.flatMap((q) => [
            {
                name: `finbot-${q.name}`,
                pattern: `^${regexEscape(q.name)}$`,
                definition: {
                    "max-length": q.maxLength,
                    overflow: "reject-publish",
                    "delivery-limit": q.deliveryLimit,
                    "dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                    "dead-letter-routing-key": deadLetterQueue(q.name),
                    "dead-letter-strategy": "at-least-once",
                },
            },
            // A full dead-letter queue refuses new dead letters (the source queue keeps them and
            // FinbotDeadLetters fires) instead of dropping the oldest: these are payments.
            {
                name: `finbot-${q.name}-dlq`,
                pattern: `^${regexEscape(deadLetterQueue(q.name))}$`,
                definition: { "max-length": q.maxLength, overflow: "reject-publish" },
            },
        ]),
    };
}

/**
 * configure/write/read regexes of a user that publishes to the queues `publishes` (through their
 * exchanges, publishExchange) and consumes `consumes`. With nothing to publish or consume (KEDA) it
 * may only declare a queue passively, which RabbitMQ checks against no permission: that reads the
 * queue's length and nothing of its messages.
 */
export function permissionsFor(publishes: string[], consumes: string[]): { configure: string; write: string; read: string } {
    const only = (names: string[]) => (names.length === 0 ? "^$" : `^(${names.map(regexEscape).join("|")})$`);
    return { configure: "^$", write: only(publishes.map(publishExchange)), read: only(consumes) };
}

/** A service or worker that publishes to queues or consumes one. */
export interface QueueConsumer {
    name: string;
    publishes: string[];
    consumes: string[];
}

/** The RabbitMQ users: one per consumer with only its permissions, and KEDA's, which may only read queue lengths. */
export function queueUsers(
    consumers: QueueConsumer[],
    kedaUser: string,
): Array<{ name: string; permissions: ReturnType<typeof permissionsFor> }> {
    return [
        ...consumers.map((c) => ({ name: c.name, permissions: permissionsFor(c.publishes, c.consumes) })),
        // KEDA reads the length of the workers' queues with a passive declare (kedacore/keda v2.20.2
        // pkg/scalers/rabbitmq_scaler.go, QueueDeclarePassive), which needs no permission.
        { name: kedaUser, permissions: permissionsFor([], []) },
    ];
}

/**
 * RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ sha256(salt ++ password)) with a
 * 4-byte salt. The salt is derived from the password, so the same password gives the same hash.
 */
export function rabbitPasswordHash(
    password: string,
    salt = createHash("sha256").update(`finbot-salt:${password}`).digest().subarray(0, 4),
): string {
    const hash = createHash("sha256")
        .update(Buffer.concat([salt, Buffer.from(password, "utf8")]))
        .digest();
    return Buffer.concat([salt, hash]).toString("base64");
}

/** The topology as a definitions file (`rabbitmqctl import_definitions`), with the given users. */
export function rabbitmqDefinitions(
    queues: QueueConfig["queues"],
    users: Array<{ name: string; passwordHash: string; permissions: { configure: string; write: string; read: string } }> = [],
): Record<string, unknown> {
    const topology = queueTopology(queues);
    return {
        users: users.map((u) => ({
            name: u.name,
            password_hash: u.passwordHash,
            hashing_algorithm: "rabbit_password_hashing_sha256",
            tags: [],
        })),
        vhosts: [{ name: VHOST }],
        permissions: users.map((u) => ({ user: u.name, vhost: VHOST, ...u.permissions })),
        exchanges: topology.exchanges.map((e) => ({
            ...e,
            vhost: VHOST,
            durable: true,
            auto_delete: false,
            internal: false,
            arguments: {},
        })),
        queues: topology.queues.map((q) => ({
            ...q,
            vhost: VHOST,
            durable: true,
            auto_delete: false,
            arguments: { "x-queue-type": "quorum" },
        })),
        bindings: topology.bindings.map((b) => ({
            source: b.source,
            vhost: VHOST,
            destination: b.destination,
            destination_type: "queue",
            routing_key: b.routingKey,
            arguments: {},
        })),
        policies: topology.policies.map((p) => ({
            vhost: VHOST,
            name: p.name,
            pattern: p.pattern,
            "apply-to": "queues",
            priority: 10,
            definition: p.definition,
        })),
    };
}

/** rabbitmq.conf additions: quorum queues by default, per-queue metrics. */
export function rabbitmqAdditionalConfig(): string {
    return ["default_queue_type = quorum", "prometheus.return_per_object_metrics = true", ""].join("\n");
}
