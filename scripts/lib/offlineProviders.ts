// What the providers would return for a new resource, stood in for the offline run: ids, names
// they choose, ARNs, endpoints, random results (as secrets), stand-in PEMs. Stable, so that plans
// are reproducible.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const REGION = "eu-central-1";
const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

/** A stable pseudo-random hex string, so that plans are reproducible. */
function stableHex(seed: string, length: number): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/**
 * A deep copy of plain data; anything else (a resource a remote component is handed, such as
 * eks.ManagedNodeGroup's `cluster`) becomes its class name.
 */
function plainCopy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plainCopy);
    if (value === null || typeof value !== "object") return value;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `[${(value as object).constructor?.name ?? "object"}]`;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainCopy(v)]));
}

/**
 * What a provider would return for a new resource: the outputs it computes (ids, names it
 * chooses, ARNs, endpoints, random results). A property it does not return resolves to its input,
 * as the engine resolves it, so the program sees its inputs as outputs either way; echoing them
 * (`echoInputs`, what a provider does) only costs time: a tenth of a plan.
 */
export function mockState(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    echoInputs = false,
): { id: string; state: Record<string, unknown> } {
    const { id, state } = computedState(type, name, inputs);
    return { id, state: echoInputs ? { ...(plainCopy(inputs) as Record<string, unknown>), ...state } : state };
}

function computedState(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
    const state: Record<string, unknown> = {};
    const hex = stableHex(`${type}::${name}`, 8);
    if (type.startsWith("random:")) {
        const length = typeof inputs.length === "number" ? inputs.length : 16;
        const value = stableHex(`random::${name}`, 64).repeat(2).slice(0, length);
        if (type.endsWith(":RandomPassword")) {
            // The engine marks these secret (additionalSecretOutputs); the mocks alone would not.
            state.result = secret(value);
            state.bcryptHash = secret(`$2a$10$${stableHex(`bcrypt::${name}`, 53)}`);
        } else if (type.endsWith(":RandomId")) {
            state.hex = value;
            state.b64Url = Buffer.from(value, "hex").toString("base64url");
        } else {
            state.result = value;
        }
        return { id: `${name}-${hex}`, state };
    }
    if (type.startsWith("tls:")) {
        // Stand-ins shaped like PEM, marked as offline so they are never mistaken for real keys.
        const pem = (label: string) =>
            `-----BEGIN ${label}-----\n${Buffer.from(`offline stand-in ${type} ${name}`).toString("base64")}\n-----END ${label}-----\n`;
        if (type === "tls:index/privateKey:PrivateKey") {
            state.privateKeyPem = secret(pem("PRIVATE KEY"));
            state.publicKeyPem = pem("PUBLIC KEY");
        }
        if (type === "tls:index/selfSignedCert:SelfSignedCert") state.certPem = pem("CERTIFICATE");
        return { id: `${name}-${hex}`, state };
    }
    if (type === "kubernetes:helm.sh/v3:Release") {
        const releaseName = typeof inputs.name === "string" ? inputs.name : `${name}-${hex}`;
        const namespace = typeof inputs.namespace === "string" ? inputs.namespace : "default";
        state.name = releaseName;
        state.status = { name: releaseName, namespace, chart: inputs.chart, version: inputs.version, status: "deployed", revision: 1 };
        return { id: `${namespace}/${releaseName}`, state };
    }
    if (type.startsWith("kubernetes:")) {
        const metadata = { ...((inputs.metadata as Record<string, unknown>) ?? {}) };
        // Kubernetes auto-naming: the Pulumi name plus a random suffix.
        if (typeof metadata.name !== "string") metadata.name = `${name}-${hex}`;
        metadata.uid = `${stableHex(`uid::${type}::${name}`, 8)}-0000-4000-8000-000000000000`;
        state.metadata = metadata;
        const id = typeof metadata.namespace === "string" ? `${metadata.namespace}/${metadata.name}` : String(metadata.name);
        return { id, state };
    }
    if (type.startsWith("aws:")) {
        const service = type.split(":")[1].split("/")[0];
        // AWS auto-naming: the Pulumi name plus a random suffix, when no name is given.
        if (inputs.name === undefined) state.name = `${name}-${hex}`;
        const given =
            inputs.identifier ?? inputs.clusterIdentifier ?? inputs.dbProxyEndpointName ?? inputs.bucket ?? inputs.name ?? state.name;
        const id = type === "aws:ec2/securityGroup:SecurityGroup" ? `sg-0${hex}` : String(given);
        state.arn = `arn:aws:${service}:${REGION}:${ACCOUNT}:${id}`;
        state.id = id;
        Object.assign(state, awsEndpoints(type, id), awsComputed(type, inputs));
        return { id, state };
    }
    if (type === "awsx:ec2:Vpc") {
        // One private and one public subnet per zone.
        const zones = (inputs.availabilityZoneNames as string[] | undefined) ?? ["a", "b", "c"];
        state.vpcId = `vpc-0${hex}`;
        state.privateSubnetIds = zones.map((_, i) => `subnet-0${stableHex(`${name}::private::${i}`, 8)}`);
        state.publicSubnetIds = zones.map((_, i) => `subnet-0${stableHex(`${name}::public::${i}`, 8)}`);
    }
    if (type === "eks:index:Cluster") {
        const clusterName = String(inputs.name ?? `${name}-${hex}`);
        state.eksCluster = { name: clusterName, arn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${clusterName}` };
        state.clusterSecurityGroupId = `sg-0${hex}`;
        state.kubeconfigJson = secret(JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: clusterName }] }));
    }
    if (type === "sentry:index/sentryKey:SentryKey") {
        // Sentry returns the client key's DSN (the engine keeps it secret).
        state.dsnPublic = secret(`https://${stableHex(`dsn::${name}`, 32)}@o100000.ingest.sentry.io/${parseInt(hex, 16) % 1000000}`);
    }
    return { id: `${name}-${hex}`, state };
}

/** Other values AWS computes from a resource's inputs. */
function awsComputed(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (type === "aws:acm/certificate:Certificate") {
        const names = [inputs.domainName, ...((inputs.subjectAlternativeNames as string[] | undefined) ?? [])] as string[];
        return {
            domainValidationOptions: names.map((domainName) => ({
                domainName,
                resourceRecordName: `_${stableHex(`acm::${domainName}`, 32)}.${domainName}.`,
                resourceRecordType: "CNAME",
                resourceRecordValue: `_${stableHex(`acm-value::${domainName}`, 32)}.acm-validations.aws.`,
            })),
        };
    }
    if (type === "aws:route53/record:Record") return { fqdn: inputs.name };
    return {};
}

/** The endpoints AWS assigns to the data stores the program creates. */
function awsEndpoints(type: string, id: string): Record<string, unknown> {
    switch (type) {
        case "aws:rds/cluster:Cluster":
            return {
                clusterIdentifier: id,
                endpoint: `${id}.cluster-c0ffee0c0ffee.${REGION}.rds.amazonaws.com`,
                readerEndpoint: `${id}.cluster-ro-c0ffee0c0ffee.${REGION}.rds.amazonaws.com`,
                port: 5432,
            };
        case "aws:rds/proxy:Proxy":
            return { endpoint: `${id}.proxy-c0ffee0c0ffee.${REGION}.rds.amazonaws.com` };
        case "aws:rds/proxyEndpoint:ProxyEndpoint":
            return { endpoint: `${id}.endpoint.proxy-c0ffee0c0ffee.${REGION}.rds.amazonaws.com` };
        case "aws:s3/bucket:Bucket":
            return { bucket: id, bucketRegionalDomainName: `${id}.s3.${REGION}.amazonaws.com` };
        case "aws:cloudfront/distribution:Distribution":
            // CloudFront's fixed hosted zone for alias records.
            return { domainName: `d${id.replace(/[^a-z0-9]/g, "").slice(-12)}.cloudfront.net`, hostedZoneId: "Z2FDTNDATAQYW2" };
        case "aws:elasticache/replicationGroup:ReplicationGroup":
            return {
                primaryEndpointAddress: `master.${id}.c0ffee.euc1.cache.amazonaws.com`,
                readerEndpointAddress: `replica.${id}.c0ffee.euc1.cache.amazonaws.com`,
            };
        default:
            return {};
    }
}
