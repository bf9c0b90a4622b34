// The logging area's ports, as clients and network policies name them.

/** APM Server's intake (TLS). */
export const APM_PORT = 8200;

/** The Elasticsearch exporter's metrics (prometheus-elasticsearch-exporter 7.4.0: `service.httpPort`). */
export const ELASTICSEARCH_EXPORTER_METRICS = 9108;
