// Fixed sizes of the data tier's helper pods (the parts' footprints declare them). Pure.

export const CNPG_OPERATOR_RESOURCES = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } };
export const POOLER_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } };
export const EXPORTER_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } };
/** What the RabbitMQ Cluster Operator's release manifest requests (config/manager/manager.yaml). */
export const RABBITMQ_OPERATOR_REQUESTS = { cpu: "200m", memory: "500Mi" };
