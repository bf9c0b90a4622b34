// Fixed sizes of the data tier's helper pods (the parts' footprints declare them). Pure.

export const CNPG_OPERATOR_RESOURCES = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } };
/** The Barman Cloud plugin's operator (one pod) and its sidecar in every PostgreSQL instance (WAL shipping, base backups). */
export const BARMAN_PLUGIN_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } };
/** barman-cloud's uploads (Python, boto3) peak while a base backup streams: a low request, room in the limit. */
export const BARMAN_SIDECAR_RESOURCES = { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } };
export const POOLER_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } };
/** What the RabbitMQ Cluster Operator's release manifest requests (config/manager/manager.yaml). */
export const RABBITMQ_OPERATOR_REQUESTS = { cpu: "200m", memory: "500Mi" };
