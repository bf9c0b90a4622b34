// RabbitMQ: nodes and alarms, queue depth and rates per queue, consumers, dead letters.
import { DashboardDefinition, FOLDER, finbotDashboard, query, statPanel, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-rabbitmq";

export function rabbitmq(namespace: string): DashboardDefinition {
    const ns = `namespace="${namespace}"`;
    const builder = finbotDashboard(UID, "FinBot / RabbitMQ")
        .withRow(new dashboard.RowBuilder("Cluster"))
        .withPanel(statPanel("Nodes", "RabbitMQ nodes running.", "short", query(`count(rabbitmq_identity_info{${ns}})`)))
        .withPanel(
            statPanel(
                "Resource alarms",
                "Memory or disk alarms: while one is on, publishers are blocked.",
                "short",
                query(`sum(rabbitmq_alarms_memory_used_watermark{${ns}} + rabbitmq_alarms_free_disk_space_watermark{${ns}})`),
            ),
        )
        .withPanel(
            statPanel(
                "Ready messages",
                "Messages ready for delivery, all queues.",
                "short",
                query(`sum(rabbitmq_queue_messages_ready{${ns}})`),
            ),
        )
        .withPanel(
            statPanel(
                "Dead-lettered (ready)",
                "Messages waiting in the dead-letter queues: each is a payment or notification that failed its deliveries.",
                "short",
                query(`sum(rabbitmq_queue_messages_ready{${ns}, queue=~".+\\\\.dlq"}) or vector(0)`),
            ),
        )
        .withRow(new dashboard.RowBuilder("Queues"))
        .withPanel(
            timeseriesPanel("Ready messages by queue", "Ready messages per queue: what KEDA scales the workers on.", "short", [
                query(`rabbitmq_queue_messages_ready{${ns}}`, "{{queue}}"),
            ]),
        )
        .withPanel(
            timeseriesPanel("Unacked messages by queue", "Messages delivered but not yet acknowledged, per queue.", "short", [
                query(`rabbitmq_queue_messages_unacked{${ns}}`, "{{queue}}"),
            ]),
        )
        .withPanel(
            timeseriesPanel("Consumers by queue", "Consumers attached to each queue.", "short", [
                query(`rabbitmq_queue_consumers{${ns}}`, "{{queue}}"),
            ]),
        )
        .withPanel(
            timeseriesPanel("Published and delivered/s", "Messages published and delivered per second.", "short", [
                query(`sum(rate(rabbitmq_global_messages_received_total{${ns}}[$__rate_interval]))`, "published"),
                query(`sum(rate(rabbitmq_global_messages_delivered_total{${ns}}[$__rate_interval]))`, "delivered"),
            ]),
        );
    return { uid: UID, title: "FinBot / RabbitMQ", folder: FOLDER, model: builder.build() };
}
