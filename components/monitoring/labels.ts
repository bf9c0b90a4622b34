// The monitoring area's pods as network policies select them.

/**
 * Pods of Prometheus (the label its operator selects them by: prometheus-operator
 * pkg/prometheus/server/statefulset.go, podSelectorLabels), the blackbox exporter and Grafana (their
 * charts' `app.kubernetes.io/name`).
 */
export const PROMETHEUS_PODS = { "app.kubernetes.io/name": "prometheus" };
export const BLACKBOX_PODS = { "app.kubernetes.io/name": "prometheus-blackbox-exporter" };
export const GRAFANA_PODS = { "app.kubernetes.io/name": "grafana" };
/** Alertmanager's pods (the operator's `app.kubernetes.io/name`). */
export const ALERTMANAGER_PODS = { "app.kubernetes.io/name": "alertmanager" };
/** prometheus-adapter's pods (its chart's name). */
export const ADAPTER_PODS = { "app.kubernetes.io/name": "prometheus-adapter" };
/** CoreDNS' metrics, which kube-prometheus-stack's coreDns ServiceMonitor scrapes (chart 88.5 `coreDns.service.targetPort`). */
export const COREDNS_METRICS = 9153;
/** The UIs' plain ports in their pods (their TLS fronts forward to them on localhost). */
export const UI_PORTS = { grafana: 3000, prometheus: 9090, alertmanager: 9093 };
