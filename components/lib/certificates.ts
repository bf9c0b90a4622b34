// Internal TLS: certificates cert-manager issues (and renews) from the platform's internal CA,
// for the servers FinBot's services and agents connect to with verification.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { clusterServiceHost, serviceHost } from "./services";

/** A ClusterIssuer and the CA certificate clients verify its certificates with. */
export interface CertificateIssuer {
    name: string;
    resource: pulumi.Resource;
    /** PEM of the CA certificate (public). */
    caCertPem: pulumi.Output<string>;
}

/** The in-cluster DNS names of a Service, short to fully qualified. */
export function serviceDnsNames(service: string, namespace: string): string[] {
    return [service, `${service}.${namespace}`, serviceHost(service, namespace), clusterServiceHost(service, namespace)];
}

/**
 * A server certificate in `secretName` (tls.crt, tls.key, ca.crt) for `dnsNames`, ECDSA, 90 days,
 * renewed 30 days ahead. `pkcs8` for servers that read only PKCS#8 keys (Logstash's beats input).
 */
export function serverCertificate(
    resourceName: string,
    args: { namespace: string; secretName: string; dnsNames: string[]; issuer: CertificateIssuer; pkcs8?: boolean },
    opts: { parent: pulumi.Resource; dependsOn?: pulumi.Resource[] },
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
        resourceName,
        {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: args.secretName, namespace: args.namespace },
            spec: {
                secretName: args.secretName,
                dnsNames: args.dnsNames,
                duration: "2160h",
                renewBefore: "720h",
                privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always", ...(args.pkcs8 ? { encoding: "PKCS8" } : {}) },
                usages: ["server auth", "digital signature", "key encipherment"],
                issuerRef: { name: args.issuer.name, kind: "ClusterIssuer", group: "cert-manager.io" },
            },
        },
        { parent: opts.parent, dependsOn: [args.issuer.resource, ...(opts.dependsOn ?? [])] },
    );
}

/** Where FinBot's pods find the CA certificates they verify servers with (the `finbot-ca` ConfigMap). */
export const CA_MOUNT_PATH = "/etc/finbot/ca";
/** The ConfigMap in the apps namespace holding them. */
export const CA_CONFIGMAP = "finbot-ca";
/** The internal CA's certificate: its key in a CA ConfigMap, and where pods find it. */
export const INTERNAL_CA_KEY = "internal-ca.crt";
export const INTERNAL_CA_FILE = `${CA_MOUNT_PATH}/${INTERNAL_CA_KEY}`;
