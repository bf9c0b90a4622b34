// The data tier's ports, as clients and network policies name them.
export const POSTGRES = 5432;
export const REDIS = 6379;
export const AMQPS = 5671;
export const RABBITMQ_MANAGEMENT_TLS = 15671;
