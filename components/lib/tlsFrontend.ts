// A TLS front for an HTTP server the gateway reaches (FinBot's public services; Grafana, Prometheus
// and Alertmanager): a ghostunnel container in the server's pod terminates TLS with a certificate of
// the internal CA and forwards to the server on localhost. The gateway's hop (customers' requests,
// session cookies, the forwarded ID token) is then encrypted and verified (BackendTLSPolicy), while
// the server's probes and in-cluster scrapes keep plain HTTP on the pod. ghostunnel v1.11 (main.go): `server --listen --target` (targets limited to
// localhost), `--disable-authentication` (no client certificates: the network policies decide who
// connects), `--timed-reload` (picks up the certificate cert-manager renews), `--status` (/_status,
// 503 while the UI does not answer). Pure.
import { TLS_FRONT_REQUESTS } from "../config/capacity";
import { hardenedContainer } from "./security";

/** The port a TLS front listens on, in every pod that has one. */
export const TLS_FRONT_PORT = 8443;
/** ghostunnel's status endpoint (plain HTTP, for the kubelet's probes). */
const STATUS_PORT = 8081;
/** The volume with the front's certificate (tls.crt, tls.key). */
const TLS_FRONT_VOLUME = "ui-tls";
const CERT_DIR = "/etc/ui-tls";

/** The TLS front's container, forwarding to the server's plain port on localhost. */
export function tlsFrontendContainer(args: { image: string; targetPort: number }) {
    const status = { httpGet: { path: "/_status", port: STATUS_PORT } };
    return {
        name: "tls-frontend",
        image: args.image,
        args: [
            "server",
            `--listen=0.0.0.0:${TLS_FRONT_PORT}`,
            `--target=127.0.0.1:${args.targetPort}`,
            `--cert=${CERT_DIR}/tls.crt`,
            `--key=${CERT_DIR}/tls.key`,
            "--disable-authentication",
            "--timed-reload=1h",
            `--status=http://0.0.0.0:${STATUS_PORT}`,
        ],
        ports: [{ name: "https-ui", containerPort: TLS_FRONT_PORT, protocol: "TCP" }],
        readinessProbe: { ...status, periodSeconds: 10 },
        livenessProbe: { ...status, periodSeconds: 30, failureThreshold: 6 },
        resources: { requests: TLS_FRONT_REQUESTS, limits: { memory: "64Mi" } },
        securityContext: { ...hardenedContainer(), runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        volumeMounts: [{ name: TLS_FRONT_VOLUME, mountPath: CERT_DIR, readOnly: true }],
    };
}

/** The pod volume with the front's certificate, from the Secret cert-manager writes. */
export const tlsFrontendVolume = (secretName: string) => ({ name: TLS_FRONT_VOLUME, secret: { secretName } });
