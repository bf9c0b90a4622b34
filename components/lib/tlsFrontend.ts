// A TLS front for a UI that serves plain HTTP (Grafana, Prometheus, Alertmanager): a ghostunnel
// container in the UI's pod terminates TLS with a certificate of the internal CA and forwards to
// the UI on localhost. The gateway's hop to the UI (session cookies, the forwarded ID token) is then
// encrypted and verified (BackendTLSPolicy), while the UI's own probes and in-pod callers keep plain
// HTTP on the pod. ghostunnel v1.11 (main.go): `server --listen --target` (targets limited to
// localhost), `--disable-authentication` (no client certificates: the network policies decide who
// connects), `--timed-reload` (picks up the certificate cert-manager renews), `--status` (/_status,
// 503 while the UI does not answer). Pure.
import { hardenedContainer } from "./security";

/** The port a UI's TLS front listens on, in every UI's pod. */
export const UI_TLS_PORT = 8443;
/** ghostunnel's status endpoint (plain HTTP, for the kubelet's probes). */
const STATUS_PORT = 8081;
/** The volume with the front's certificate (tls.crt, tls.key). */
export const UI_TLS_VOLUME = "ui-tls";
const CERT_DIR = "/etc/ui-tls";

/** The TLS front's container, forwarding to the UI's plain port on localhost. */
export function tlsFrontendContainer(args: { image: string; targetPort: number }) {
    const status = { httpGet: { path: "/_status", port: STATUS_PORT } };
    return {
        name: "tls-frontend",
        image: args.image,
        args: [
            "server",
            `--listen=0.0.0.0:${UI_TLS_PORT}`,
            `--target=127.0.0.1:${args.targetPort}`,
            `--cert=${CERT_DIR}/tls.crt`,
            `--key=${CERT_DIR}/tls.key`,
            "--disable-authentication",
            "--timed-reload=1h",
            `--status=http://0.0.0.0:${STATUS_PORT}`,
        ],
        ports: [{ name: "https-ui", containerPort: UI_TLS_PORT, protocol: "TCP" }],
        readinessProbe: { ...status, periodSeconds: 10 },
        livenessProbe: { ...status, periodSeconds: 30, failureThreshold: 6 },
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
        securityContext: { ...hardenedContainer(), runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        volumeMounts: [{ name: UI_TLS_VOLUME, mountPath: CERT_DIR, readOnly: true }],
    };
}

/** The pod volume with the front's certificate, from the Secret cert-manager writes. */
export const tlsFrontendVolume = (secretName: string) => ({ name: UI_TLS_VOLUME, secret: { secretName } });
