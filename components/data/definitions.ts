// RabbitMQ definitions imported at boot: FinBot's quorum queues, each with a dead-letter queue,
// and policies for length limits and dead-lettering (policies can change later; queue arguments
// cannot). Pure.
import { createHash } from "node:crypto";
import { QueueConfig } from "../config/data";

/**
 * RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ sha256(salt ++ password)) with a
 * 4-byte salt. The salt is derived from the password, so the same password gives the same hash
 * and `pulumi up` shows no change.
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

export const DEAD_LETTER_EXCHANGE = "finbot.dlx";
export const deadLetterQueue = (queue: string) => `${queue}.dlq`;
const regexEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The definitions file. A node that loads definitions at boot does not create the default user,
 * so FinBot's user is defined here (by its password hash) with full rights on the vhost.
 */
export function rabbitmqDefinitions(queues: QueueConfig["queues"], user: { name: string; passwordHash: string }): Record<string, unknown> {
    const vhost = "/";
    const quorum = { "x-queue-type": "quorum" };
    const queue = (name: string) => ({ name, vhost, durable: true, auto_delete: false, arguments: quorum });
    return {
        users: [
            {
                name: user.name,
                password_hash: user.passwordHash,
                hashing_algorithm: "rabbit_password_hashing_sha256",
                tags: ["administrator"],
            },
        ],
        vhosts: [{ name: vhost }],
        permissions: [{ user: user.name, vhost, configure: ".*", write: ".*", read: ".*" }],
        exchanges: [
            { name: DEAD_LETTER_EXCHANGE, vhost, type: "direct", durable: true, auto_delete: false, internal: false, arguments: {} },
        ],
        queues: queues.flatMap((q) => [queue(q.name), queue(deadLetterQueue(q.name))]),
        bindings: queues.map((q) => ({
            source: DEAD_LETTER_EXCHANGE,
            vhost,
            destination: deadLetterQueue(q.name),
            destination_type: "queue",
            routing_key: deadLetterQueue(q.name),
            arguments: {},
        })),
        policies: queues.flatMap((q) => [
            {
                vhost,
                name: `finbot-${q.name}`,
                pattern: `^${regexEscape(q.name)}$`,
                "apply-to": "queues",
                priority: 10,
                definition: {
                    "max-length": q.maxLength,
                    overflow: "reject-publish",
                    "delivery-limit": q.deliveryLimit,
                    "dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                    "dead-letter-routing-key": deadLetterQueue(q.name),
                    "dead-letter-strategy": "at-least-once",
                },
            },
            {
                vhost,
                name: `finbot-${q.name}-dlq`,
                pattern: `^${regexEscape(deadLetterQueue(q.name))}$`,
                "apply-to": "queues",
                priority: 10,
                definition: { "max-length": q.maxLength, overflow: "drop-head" },
            },
        ]),
    };
}

/** rabbitmq.conf additions: quorum queues by default, definitions at boot, per-queue metrics. */
export function rabbitmqAdditionalConfig(definitionsPath: string): string {
    return [
        "default_queue_type = quorum",
        `load_definitions = ${definitionsPath}`,
        "definitions.skip_if_unchanged = true",
        "prometheus.return_per_object_metrics = true",
        "",
    ].join("\n");
}
