// The logging area's ports and pods, as clients and network policies name them.

/** APM Server's intake (TLS). */
export const APM_PORT = 8200;

/** Elasticsearch's HTTP API (ECK's `<name>-es-http` Service, TLS; ECK 3.5's quickstart reaches it on 9200). */
export const ELASTICSEARCH_HTTP_PORT = 9200;

/** Kibana's HTTP port (ECK's `<name>-kb-http` Service, TLS; ECK 3.5's quickstart reaches it on 5601). */
export const KIBANA_PORT = 5601;

/** Logstash's Beats input (TLS), where Filebeat ships. */
export const BEATS_PORT = 5044;

/** The Elasticsearch exporter's metrics (prometheus-elasticsearch-exporter 7.4.0: `service.httpPort`). */
export const ELASTICSEARCH_EXPORTER_METRICS = 9108;

/** ECK's pods of each kind, by the label ECK gives them (ECK 3.5: `TypeLabelName`, pkg/apis/common/v1). */
const eckPods = (type: string) => ({ "common.k8s.elastic.co/type": type });
export const ELASTICSEARCH_PODS = eckPods("elasticsearch");
export const KIBANA_PODS = eckPods("kibana");
export const LOGSTASH_PODS = eckPods("logstash");
export const APM_SERVER_PODS = eckPods("apm-server");
export const BEAT_PODS = eckPods("beat");
