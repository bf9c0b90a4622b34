// The operator UIs of the monitoring namespace (Grafana, Prometheus, Alertmanager) behind TLS
// fronts (lib/tlsFrontend.ts) with certificates of the internal CA: the gateway reaches each on
// TLS_FRONT_PORT and verifies it (BackendTLSPolicy); Prometheus scrapes Grafana through its front,
// verified for Grafana's Service name. Grafana's Service targets the front (the chart's documented
// way of a proxy container: `service.targetPort`, `extraContainers`, `extraContainerVolumes`);
// Prometheus' and Alertmanager's Services gain a port for it (`service.additionalPorts`), and the
// operator adds the container to their pods (`containers`, `volumes`). Pure.
import { INTERNAL_CA_KEY } from "../lib/certificates";
import { TLS_FRONT_PORT, tlsFrontendContainer, tlsFrontendVolume } from "../lib/tlsFrontend";
import { UI_PORTS } from "./labels";

export interface MonitoringUiTls {
    /** ghostunnel's image (`finbot:releases.images`). */
    image: string;
    /** The Secrets cert-manager writes each UI's certificate to. */
    secrets: { grafana: string; prometheus: string; alertmanager: string };
    /** ConfigMap with the internal CA in the monitoring namespace: Prometheus verifies Grafana's front with it. */
    caConfigMap: string;
    /** Grafana's Service name in the cluster, which its certificate carries. */
    grafanaServerName: string;
}

const frontPort = { name: "https-ui", port: TLS_FRONT_PORT, targetPort: TLS_FRONT_PORT };

/** The kube-prometheus-stack values that put each UI behind its TLS front. Pure. */
export function monitoringUiTlsValues(tls: MonitoringUiTls) {
    const front = (ui: keyof typeof UI_PORTS) => ({
        containers: [tlsFrontendContainer({ image: tls.image, targetPort: UI_PORTS[ui] })],
        volumes: [tlsFrontendVolume(tls.secrets[ui])],
    });
    const grafana = front("grafana");
    return {
        grafana: {
            // A string the chart renders as YAML (JSON is YAML).
            extraContainers: JSON.stringify(grafana.containers),
            extraContainerVolumes: grafana.volumes,
            service: { targetPort: TLS_FRONT_PORT },
            serviceMonitor: {
                scheme: "https",
                tlsConfig: {
                    ca: { configMap: { name: tls.caConfigMap, key: INTERNAL_CA_KEY } },
                    serverName: tls.grafanaServerName,
                },
            },
        },
        prometheus: { spec: front("prometheus"), service: { additionalPorts: [frontPort] } },
        alertmanager: { spec: front("alertmanager"), service: { additionalPorts: [frontPort] } },
    };
}
