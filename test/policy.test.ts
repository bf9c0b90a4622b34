// The policy pack: each rule against a passing and a failing resource, then every rule over the
// real plan of both stacks (no mandatory violation may remain).
import * as assert from "node:assert/strict";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { allPolicies, aws, cluster, isolation, kubernetes } from "../policy/rules";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { EvaluatedResource, evaluate } from "../policy/evaluate";
import { planDocument } from "../scripts/plan";
import { main as policyMain } from "../scripts/policy";
import { DELIVERY_DOCS, renderDeliveryDocs } from "../scripts/policyDocs";
import { runMain, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;
type Policy = ResourceValidationPolicy | StackValidationPolicy;

function resource(type: string, props: Props, name = "r"): PolicyResource {
    return { type, props, urn: `urn:pulumi:test::finbot::${type}::${name}`, name } as unknown as PolicyResource;
}

/** A FinBot service's Deployment (its priority class marks FinBot's own pods) in `apps`. */
const finbotService = () =>
    resource("kubernetes:apps/v1:Deployment", {
        metadata: { name: "api", namespace: "apps" },
        spec: { template: { spec: { priorityClassName: "finbot-services", containers: [] } } },
    });
/** A NetworkPolicy of a namespace letting its pods send to `to`. */
const egressPolicy = (namespace: string, to: Props[]) =>
    resource(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        { metadata: { name: "allow-out", namespace }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to }] } },
        `${namespace}-out`,
    );
/** A NetworkPolicy `name` of a namespace admitting its pods to what `rule` says (`from`, `ports`). */
const ingressPolicy = (namespace: string, name: string, rule: Props) =>
    resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", {
        metadata: { name, namespace },
        spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [rule] },
    });
const fromNamespace = (namespace: string) => [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } }];

/** A route behind single sign-on, to Prometheus' TLS front. */
const signedInRoute = () => [
    resource("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", {
        metadata: { name: "prometheus-sso", namespace: "monitoring" },
        spec: { targetRefs: [{ kind: "HTTPRoute", name: "prometheus" }], oidc: { clientID: "finbot" } },
    }),
    resource("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", {
        metadata: { name: "prometheus", namespace: "monitoring" },
        spec: { rules: [{ backendRefs: [{ name: "prometheus", port: 8443 }] }] },
    }),
];

/** Violations of one policy over resources, in an environment (as the engine would report them). */
async function violations(policy: Policy, resources: PolicyResource[], environment = "production"): Promise<string[]> {
    const found = await evaluate([policy], resources as unknown as EvaluatedResource[], environment);
    return found.map((v) => v.message);
}

const pod = (container: Props, podSecurity: Props = { runAsNonRoot: true }) => ({
    metadata: { name: "api", namespace: "apps", labels: { "app.kubernetes.io/part-of": "finbot", "app.kubernetes.io/version": "1" } },
    spec: {
        selector: { matchLabels: { app: "api" } },
        template: { metadata: { labels: { app: "api" } }, spec: { securityContext: podSecurity, containers: [container] } },
    },
});
const goodContainer = {
    name: "api",
    image: "ghcr.io/x/api:1.2.3",
    ports: [{ containerPort: 8080 }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    readinessProbe: {},
    livenessProbe: {},
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
    env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
};
const deployment = (container: Props, podSecurity?: Props) => resource("kubernetes:apps/v1:Deployment", pod(container, podSecurity));
const hpa = (max: number) =>
    resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {
        metadata: { namespace: "apps" },
        spec: { scaleTargetRef: { name: "api" }, maxReplicas: max },
    });
const apm = (config: Props) => resource("kubernetes:apm.k8s.elastic.co/v1:ApmServer", { metadata: { name: "apm" }, spec: { config } });
const pdb = resource("kubernetes:policy/v1:PodDisruptionBudget", {
    metadata: { namespace: "apps" },
    spec: { selector: { matchLabels: { app: "api" } } },
});
const aurora = (props: Props) =>
    resource("aws:rds/cluster:Cluster", {
        clusterIdentifier: "finbot",
        storageEncrypted: true,
        manageMasterUserPassword: true,
        backupRetentionPeriod: 14,
        deletionProtection: true,
        skipFinalSnapshot: false,
        ...props,
    });
const auroraInstance = (zone: string, props: Props = {}) =>
    resource(
        "aws:rds/clusterInstance:ClusterInstance",
        {
            clusterIdentifier: "finbot",
            availabilityZone: zone,
            publiclyAccessible: false,
            performanceInsightsEnabled: true,
            monitoringInterval: 60,
            ...props,
        },
        `i-${zone}`,
    );
const namespace = (name: string, level?: string) =>
    resource(
        "kubernetes:core/v1:Namespace",
        { metadata: { name, labels: level ? { "pod-security.kubernetes.io/enforce": level } : {} } },
        name,
    );
const defaultDeny = (ns: string) =>
    resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", {
        metadata: { name: "default-deny", namespace: ns },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
/** A gateway whose load balancer has `scheme`, a route to Grafana on it, and (optionally) single sign-on on the route. */
const uiRoute = (scheme: string, sso: boolean) => [
    resource("kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", {
        metadata: { name: "p" },
        spec: {
            provider: { kubernetes: { envoyService: { annotations: { "service.beta.kubernetes.io/aws-load-balancer-scheme": scheme } } } },
        },
    }),
    resource("kubernetes:gateway.networking.k8s.io/v1:GatewayClass", { metadata: { name: "c" }, spec: { parametersRef: { name: "p" } } }),
    resource("kubernetes:gateway.networking.k8s.io/v1:Gateway", { metadata: { name: "g" }, spec: { gatewayClassName: "c" } }),
    resource("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", {
        metadata: { name: "grafana", namespace: "mon" },
        spec: { parentRefs: [{ name: "g" }], rules: [{ backendRefs: [{ name: "kube-prometheus-stack-grafana", port: 80 }] }] },
    }),
    ...(sso
        ? [
              resource("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", {
                  metadata: { name: "grafana-sso", namespace: "mon" },
                  spec: { targetRefs: [{ name: "grafana" }], oidc: {}, authorization: { defaultAction: "Deny" } },
              }),
          ]
        : []),
];
const policyOf = (spec: Props) => resource("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", { metadata: { name: "s" }, spec });
const kps = (anonymous: boolean) =>
    resource("kubernetes:helm.sh/v3:Release", {
        chart: "kube-prometheus-stack",
        values: { grafana: { "grafana.ini": { "auth.anonymous": { enabled: anonymous }, users: { allow_sign_up: false } } } },
    });
const rabbitUser = (tags: string[]) => resource("kubernetes:rabbitmq.com/v1beta1:User", { metadata: { name: "api" }, spec: { tags } });
const rabbitPermission = (user: string, permissions: Props) =>
    resource("kubernetes:rabbitmq.com/v1beta1:Permission", { metadata: { name: user }, spec: { user, vhost: "/", permissions } });
const rabbitCluster = (tls: Props) =>
    resource("kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster", { metadata: { name: "q" }, spec: { tls } });
const cache = (props: Props) =>
    resource("aws:elasticache/replicationGroup:ReplicationGroup", {
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        userGroupIds: ["finbot-cache-users"],
        multiAzEnabled: true,
        automaticFailoverEnabled: true,
        ...props,
    });
const bucketSet = (block: boolean, versioned: boolean) => [
    resource("aws:s3/bucket:Bucket", { bucket: "assets" }),
    resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {
        bucket: "assets",
        blockPublicAcls: true,
        blockPublicPolicy: block,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
    }),
    resource("aws:s3/bucketVersioning:BucketVersioning", {
        bucket: "assets",
        versioningConfiguration: { status: versioned ? "Enabled" : "Suspended" },
    }),
    resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", { bucket: "assets" }),
];

/** Each rule: resources that pass, resources that fail. */
const rolesJob = (sql: string) =>
    resource("kubernetes:batch/v1:Job", {
        metadata: { name: "roles" },
        spec: { template: { spec: { containers: [{ name: "roles", command: ["sh", "-c", `psql <<SQL\n${sql}\nSQL`] }] } } },
    });
const rolesJobEnv = (env: Props[]) =>
    resource(
        "kubernetes:batch/v1:Job",
        { metadata: { name: "roles" }, spec: { template: { spec: { containers: [{ name: "roles", env }] } } } },
        "roles-env",
    );
const CASES: Array<[Policy, PolicyResource[], PolicyResource[]]> = [
    [kubernetes.containerResources, [deployment(goodContainer)], [deployment({ ...goodContainer, resources: { requests: { cpu: "1" } } })]],
    [kubernetes.probes, [deployment(goodContainer)], [deployment({ ...goodContainer, readinessProbe: undefined })]],
    [kubernetes.nonRoot, [deployment(goodContainer)], [deployment(goodContainer, {})]],
    [
        kubernetes.postgresVerifiesServer,
        [
            deployment({
                ...goodContainer,
                env: [{ name: "DATA_SOURCE_URI", value: "db:5432/postgres?sslmode=verify-full&sslrootcert=/ca.pem" }],
            }),
            rolesJobEnv([{ name: "PGSSLMODE", value: "verify-full" }]),
        ],
        [
            deployment({ ...goodContainer, env: [{ name: "DATA_SOURCE_URI", value: "db:5432/postgres?sslmode=require" }] }),
            rolesJobEnv([{ name: "PGSSLMODE", value: "require" }]),
        ],
    ],
    [
        kubernetes.noPrivilegeEscalation,
        [deployment(goodContainer)],
        [deployment({ ...goodContainer, securityContext: { allowPrivilegeEscalation: true } })],
    ],
    [
        kubernetes.readOnlyRootFilesystem,
        [deployment(goodContainer)],
        [deployment({ ...goodContainer, securityContext: { allowPrivilegeEscalation: false } })],
    ],
    [
        kubernetes.operatorPodsReadOnlyRoot,
        [
            resource("kubernetes:kibana.k8s.elastic.co/v1:Kibana", {
                metadata: { name: "kibana" },
                spec: { podTemplate: { spec: { containers: [{ name: "kibana", securityContext: { readOnlyRootFilesystem: true } }] } } },
            }),
            resource("kubernetes:kibana.k8s.elastic.co/v1:Kibana", { metadata: { name: "k2" }, spec: {} }, "defaults"),
        ],
        [
            resource("kubernetes:kibana.k8s.elastic.co/v1:Kibana", {
                metadata: { name: "kibana" },
                spec: { podTemplate: { spec: { containers: [{ name: "kibana", securityContext: { allowPrivilegeEscalation: false } }] } } },
            }),
        ],
    ],
    [
        kubernetes.noLatestImages,
        [deployment(goodContainer), resource("kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster", { spec: { image: "rabbitmq:4.1.4" } })],
        [deployment({ ...goodContainer, image: "ghcr.io/x/api:latest" })],
    ],
    [
        kubernetes.noSecretsInConfigMaps,
        [resource("kubernetes:core/v1:ConfigMap", { metadata: { name: "c" }, data: { "redis.conf": "maxmemory 64mb" } })],
        [resource("kubernetes:core/v1:ConfigMap", { metadata: { name: "c" }, data: { "redis.conf": "requirepass hunter2" } })],
    ],
    [
        kubernetes.noSecretsInPlainEnv,
        [deployment({ ...goodContainer, env: [{ name: "MASTER_SECRET_ARN", value: "arn:aws:secretsmanager:eu-central-1:1:secret:x" }] })],
        [deployment({ ...goodContainer, env: [{ name: "API_TOKEN", value: "abc" }] })],
    ],
    [
        kubernetes.elasticsearchSecurity,
        [resource("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", { spec: { nodeSets: [{ name: "default", config: {} }] } })],
        [
            resource("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", {
                spec: { nodeSets: [{ name: "default", config: { "xpack.security.enabled": false } }] },
            }),
        ],
    ],
    [
        kubernetes.elasticServesTls,
        [
            resource("kubernetes:kibana.k8s.elastic.co/v1:Kibana", {
                spec: { http: { tls: { certificate: { secretName: "kibana-tls" } } } },
            }),
        ],
        [
            resource("kubernetes:kibana.k8s.elastic.co/v1:Kibana", {
                spec: { http: { tls: { selfSignedCertificate: { disabled: true } } } },
            }),
        ],
    ],
    [
        kubernetes.helmPinned,
        [resource("kubernetes:helm.sh/v3:Release", { chart: "keda", version: "2.20.2" })],
        [resource("kubernetes:helm.sh/v3:Release", { chart: "keda", version: "^2.20" })],
    ],
    [kubernetes.autoscaledDeployments, [deployment(goodContainer), hpa(4)], [deployment(goodContainer)]],
    [kubernetes.disruptionBudgets, [deployment(goodContainer), hpa(4), pdb], [deployment(goodContainer), hpa(4)]],
    [isolation.defaultDenyPerNamespace, [namespace("apps", "restricted"), defaultDeny("apps")], [namespace("apps", "restricted")]],
    [
        isolation.podSecurityLabels,
        [namespace("apps", "restricted"), deployment(goodContainer), namespace("node-agents", "privileged")],
        [namespace("apps", "privileged"), deployment(goodContainer), namespace("data")],
    ],
    [isolation.privateOperatorUis, uiRoute("internal", true), uiRoute("internet-facing", false)],
    [isolation.noBasicAuthInProduction, [policyOf({ oidc: {} })], [policyOf({ basicAuth: { users: { name: "x" } } })]],
    [
        isolation.noAdminForApps,
        [
            rabbitUser([]),
            resource("kubernetes:postgresql.cnpg.io/v1:Cluster", {
                spec: { enableSuperuserAccess: false, managed: { roles: [{ name: "api" }] } },
            }),
        ],
        [
            rabbitUser(["administrator"]),
            resource("kubernetes:postgresql.cnpg.io/v1:Cluster", { spec: { managed: { roles: [{ name: "api", superuser: true }] } } }),
        ],
    ],
    [
        isolation.rabbitmqPermissionsScoped,
        [
            rabbitPermission("api", { configure: "^$", write: "^(finbot\\.publish\\.payments\\.settle)$", read: "^$" }),
            rabbitPermission("keda", { configure: "^$", write: "^$", read: "^$" }),
        ],
        [
            rabbitPermission("api", { configure: "^$", write: "^(amq\\.default)$", read: "^$" }),
            rabbitPermission("keda", { configure: "^$", write: "^$", read: ".*" }),
        ],
    ],
    [isolation.rabbitmqTlsOnly, [rabbitCluster({ secretName: "t", disableNonTLSListeners: true })], [rabbitCluster({ secretName: "t" })]],
    [
        isolation.apmAnonymousRumOnly,
        [
            apm({}),
            apm({
                "apm-server.auth.anonymous.enabled": true,
                "apm-server.auth.anonymous.allow_agent": ["rum-js"],
                "apm-server.auth.anonymous.allow_service": ["finbot-web"],
                "apm-server.rum.allow_origins": ["https://app.example.com"],
                "apm-server.auth.anonymous.rate_limit.event_limit": 300,
            }),
        ],
        [
            apm({
                "apm-server.auth.anonymous.enabled": true,
                "apm-server.auth.anonymous.allow_agent": ["rum-js", "go"],
                "apm-server.auth.anonymous.allow_service": ["finbot-web"],
                "apm-server.rum.allow_origins": ["https://app.example.com"],
                "apm-server.auth.anonymous.rate_limit.event_limit": 300,
            }),
            apm({
                "apm-server.auth.anonymous.enabled": true,
                "apm-server.auth.anonymous.allow_agent": ["rum-js"],
                "apm-server.auth.anonymous.allow_service": ["finbot-web"],
                "apm-server.rum.allow_origins": ["*"],
            }),
        ],
    ],
    [isolation.grafanaNoAnonymous, [kps(false)], [kps(true)]],
    [
        isolation.grafanaSingleSignOn,
        [
            resource("kubernetes:helm.sh/v3:Release", {
                chart: "kube-prometheus-stack",
                values: {
                    grafana: {
                        "grafana.ini": {
                            "auth.jwt": {
                                enabled: true,
                                jwk_set_url: "https://envoy-finbot-egress.finbot-traffic.svc:11003/keys",
                                expect_claims: '{"iss":"https://login.example.com","aud":"finbot"}',
                                allow_assign_grafana_admin: false,
                            },
                        },
                    },
                },
            }),
        ],
        // Grafana's own login only (the admin account's shared password).
        [kps(false)],
    ],
    [
        isolation.priorityClassEverywhere,
        [
            resource("kubernetes:batch/v1:Job", {
                metadata: { name: "j" },
                spec: { template: { spec: { priorityClassName: "finbot-services", containers: [] } } },
            }),
        ],
        [deployment(goodContainer)],
    ],
    [aws.rdsEncrypted, [aurora({})], [aurora({ storageEncrypted: false })]],
    [aws.rdsNotPublic, [auroraInstance("a")], [auroraInstance("a", { publiclyAccessible: true })]],
    [aws.rdsMultiAz, [aurora({}), auroraInstance("a"), auroraInstance("b")], [aurora({}), auroraInstance("a")]],
    [aws.rdsBackups, [aurora({})], [aurora({ backupRetentionPeriod: 7 })]],
    [aws.rdsDeletionProtection, [aurora({})], [aurora({ deletionProtection: false })]],
    [aws.rdsMasterPasswordManaged, [aurora({})], [aurora({ manageMasterUserPassword: false, masterPassword: "hunter2" })]],
    [aws.rdsMonitoring, [auroraInstance("a")], [auroraInstance("a", { performanceInsightsEnabled: false })]],
    [aws.rdsProxyTls, [resource("aws:rds/proxy:Proxy", { requireTls: true })], [resource("aws:rds/proxy:Proxy", { requireTls: false })]],
    [aws.elasticacheEncryption, [cache({}), cache({ userGroupIds: undefined, authToken: "t" })], [cache({ userGroupIds: [] })]],
    [aws.elasticacheHighAvailability, [cache({})], [cache({ automaticFailoverEnabled: false })]],
    [
        aws.noPublicIngress,
        [resource("aws:ec2/securityGroup:SecurityGroup", { ingress: [{ fromPort: 5432, toPort: 5432, securityGroups: ["sg-1"] }] })],
        [resource("aws:ec2/securityGroup:SecurityGroup", { ingress: [{ fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }] })],
    ],
    [
        aws.noPublicIngressRules,
        [
            resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {
                fromPort: 5432,
                toPort: 5432,
                referencedSecurityGroupId: "sg-1",
            }),
        ],
        [
            resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { fromPort: 5432, toPort: 5432, cidrIpv4: "0.0.0.0/0" }),
            resource("aws:ec2/securityGroupRule:SecurityGroupRule", {
                type: "ingress",
                fromPort: 22,
                toPort: 22,
                cidrBlocks: ["0.0.0.0/0"],
            }),
        ],
    ],
    [
        aws.iamNoAdmin,
        [
            resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {
                policyArn: "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
            }),
        ],
        [
            resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", { policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }),
            resource("aws:iam/policy:Policy", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }),
        ],
    ],
    [
        isolation.publicIntakeRateLimited,
        [
            resource("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", {
                metadata: { name: "rum-intake", namespace: "logs" },
                spec: { rules: [{ matches: [{ path: { type: "PathPrefix", value: "/intake/" } }] }] },
            }),
            resource(
                "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
                {
                    metadata: { name: "rum-intake", namespace: "logs" },
                    spec: {
                        targetRefs: [{ kind: "HTTPRoute", name: "rum-intake" }],
                        rateLimit: { local: { rules: [{ limit: { requests: 10, unit: "Second" } }] } },
                    },
                },
                "limit",
            ),
        ],
        [
            resource("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", {
                metadata: { name: "rum-intake", namespace: "logs" },
                spec: { rules: [{ matches: [{ path: { type: "PathPrefix", value: "/intake/" } }] }] },
            }),
        ],
    ],
    [
        isolation.prometheusTakesNoWrites,
        [
            resource("kubernetes:helm.sh/v3:Release", {
                chart: "kube-prometheus-stack",
                values: { prometheus: { prometheusSpec: { enableRemoteWriteReceiver: false } } },
            }),
            resource("kubernetes:monitoring.coreos.com/v1:Prometheus", {
                metadata: { name: "checks-receiver" },
                spec: { enableRemoteWriteReceiver: true },
            }),
        ],
        [
            resource("kubernetes:helm.sh/v3:Release", {
                chart: "kube-prometheus-stack",
                values: { prometheus: { prometheusSpec: { enableRemoteWriteReceiver: true } } },
            }),
        ],
    ],
    [
        isolation.appsNoInternetEgress,
        [
            finbotService(),
            egressPolicy("apps", [{ ipBlock: { cidr: "10.30.0.0/24" } }, { namespaceSelector: {} }]),
            // Outside FinBot's namespace (the egress gateway's proxies) the internet is allowed.
            egressPolicy("traffic", [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }]),
        ],
        [finbotService(), egressPolicy("apps", [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12"] } }])],
    ],
    [
        isolation.gatewayBackendsOverTls,
        [
            ...signedInRoute(),
            resource("kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy", {
                metadata: { name: "prometheus", namespace: "monitoring" },
                spec: {
                    targetRefs: [{ group: "", kind: "Service", name: "prometheus" }],
                    validation: { hostname: "prometheus.monitoring.svc", caCertificateRefs: [{ kind: "ConfigMap", name: "ca" }] },
                },
            }),
        ],
        // The route signs people in, and its backend gets their session in the clear.
        signedInRoute(),
    ],
    [
        isolation.crossNamespaceFlowsNamePorts,
        [
            ingressPolicy("data", "allow-from-prometheus", { from: fromNamespace("monitoring"), ports: [{ port: 9187 }] }),
            // Within its own namespace a rule may leave the ports out.
            ingressPolicy("data", "allow-same-namespace-in", { from: fromNamespace("data") }),
        ],
        [
            // Prometheus admitted on every port (the old scrape flow).
            ingressPolicy("data", "allow-from-prometheus", { from: fromNamespace("monitoring") }),
        ],
    ],
    [
        isolation.apiKeysStripped,
        [
            resource("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", {
                metadata: { name: "cloudfront-only" },
                spec: { apiKeyAuth: { sanitize: true } },
            }),
        ],
        [
            resource("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", {
                metadata: { name: "cloudfront-only" },
                spec: { apiKeyAuth: {} },
            }),
        ],
    ],
    [
        kubernetes.postgresPasswordsAsVerifiers,
        [rolesJob("ALTER ROLE api PASSWORD :'api_verifier';")],
        [rolesJob("ALTER ROLE api PASSWORD :'api_password';")],
    ],
    [
        kubernetes.scrapeObjectsLimited,
        [
            resource("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", {
                metadata: { name: "api" },
                spec: { sampleLimit: 4000, labelLimit: 40 },
            }),
        ],
        [resource("kubernetes:monitoring.coreos.com/v1:PodMonitor", { metadata: { name: "redis" }, spec: { podMetricsEndpoints: [] } })],
    ],
    [
        aws.podIdentityTrustScoped,
        [
            resource("aws:iam/role:Role", {
                assumeRolePolicy: JSON.stringify({
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "pods.eks.amazonaws.com" },
                            Action: ["sts:AssumeRole", "sts:TagSession"],
                            Condition: {
                                StringEquals: {
                                    "aws:RequestTag/eks-cluster-name": "c",
                                    "aws:RequestTag/kubernetes-namespace": "n",
                                    "aws:RequestTag/kubernetes-service-account": "s",
                                },
                            },
                        },
                    ],
                }),
            }),
        ],
        [
            resource("aws:iam/role:Role", {
                assumeRolePolicy: JSON.stringify({
                    Statement: [
                        { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] },
                    ],
                }),
            }),
        ],
    ],
    [
        aws.route53ChangesScoped,
        [
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: ["route53:ChangeResourceRecordSets"],
                            Resource: ["arn:aws:route53:::hostedzone/Z1"],
                            Condition: {
                                "ForAllValues:StringLike": {
                                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"],
                                },
                            },
                        },
                    ],
                }),
            }),
        ],
        [
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [
                        { Effect: "Allow", Action: ["route53:ChangeResourceRecordSets"], Resource: ["arn:aws:route53:::hostedzone/Z1"] },
                    ],
                }),
            }),
        ],
    ],
    [
        aws.codebuildRunnerPrivate,
        [resource("aws:codebuild/project:Project", { vpcConfig: { vpcId: "vpc-1" }, environment: { privilegedMode: false } })],
        [resource("aws:codebuild/project:Project", { environment: { privilegedMode: true } })],
    ],
    [
        cluster.eksNetworkPolicyEnforced,
        [resource("eks:index:Cluster", { vpcCniOptions: { enablePodEni: true, enableNetworkPolicy: true } })],
        [resource("eks:index:Cluster", { vpcCniOptions: { enablePodEni: true } })],
    ],
    [
        cluster.eksClusterHardened,
        [
            resource("eks:index:Cluster", {
                endpointPublicAccess: false,
                encryptionConfigKeyArn: "arn:aws:kms:eu-central-1:1:key/k",
                enabledClusterLogTypes: ["api", "audit", "authenticator"],
                authenticationMode: "API",
                deletionProtection: true,
            }),
        ],
        [
            resource("eks:index:Cluster", {
                endpointPublicAccess: true,
                publicAccessCidrs: ["0.0.0.0/0"],
                encryptionConfigKeyArn: "arn:aws:kms:eu-central-1:1:key/k",
                enabledClusterLogTypes: ["api", "audit", "authenticator"],
                authenticationMode: "API",
            }),
            resource("eks:index:Cluster", { endpointPublicAccess: false, enabledClusterLogTypes: ["api"], authenticationMode: "API" }),
            // Hardened but for deletion protection.
            resource("eks:index:Cluster", {
                endpointPublicAccess: false,
                encryptionConfigKeyArn: "arn:aws:kms:eu-central-1:1:key/k",
                enabledClusterLogTypes: ["api", "audit", "authenticator"],
                authenticationMode: "API",
            }),
        ],
    ],
    [
        cluster.eksLogsRetained,
        [
            resource("eks:index:Cluster", { name: "finbot-prod" }),
            resource("aws:cloudwatch/logGroup:LogGroup", { name: "/aws/eks/finbot-prod/cluster", retentionInDays: 365 }),
        ],
        [
            resource("eks:index:Cluster", { name: "finbot-prod" }),
            resource("aws:cloudwatch/logGroup:LogGroup", { name: "/aws/eks/finbot-prod/cluster", retentionInDays: 30 }, "short"),
            resource("eks:index:Cluster", { name: "other" }, "unmanaged"),
        ],
    ],
    [
        cluster.karpenterNodesHardened,
        [
            resource("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", {
                spec: {
                    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
                    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: true } }],
                },
            }),
        ],
        [
            resource("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", {
                spec: { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 } },
            }),
            resource("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", {
                spec: {
                    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
                    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: false } }],
                },
            }),
            // IMDSv2, but no volumes declared: the AMI decides their encryption.
            resource("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", {
                spec: { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } },
            }),
        ],
    ],
    [
        cluster.karpenterPoolsBounded,
        [
            resource("kubernetes:karpenter.sh/v1:NodePool", {
                metadata: { name: "services" },
                spec: { limits: { cpu: "64", memory: "256Gi" }, disruption: { budgets: [{ nodes: "10%" }] } },
            }),
        ],
        [
            resource("kubernetes:karpenter.sh/v1:NodePool", {
                metadata: { name: "services" },
                spec: { disruption: { budgets: [{ nodes: "10%" }] } },
            }),
        ],
    ],
    [
        aws.iamNoWildcards,
        [
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["arn:x"] }],
                }),
            }),
            // Reads IAM cannot scope (Karpenter's view of the region) may name every resource.
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: ["ec2:DescribeSubnets", "elasticloadbalancing:DescribeTargetHealth", "pricing:GetProducts"],
                            Resource: "*",
                        },
                    ],
                }),
            }),
        ],
        [
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }),
            }),
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [{ Effect: "Allow", Action: ["ec2:DescribeSubnets", "ec2:RunInstances"], Resource: "*" }],
                }),
            }),
        ],
    ],
    [
        aws.iamTaggingScoped,
        [
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: ["ec2:CreateTags"],
                            Resource: ["arn:x"],
                            Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } },
                        },
                        {
                            Effect: "Allow",
                            Action: ["iam:TagInstanceProfile"],
                            Resource: ["arn:y"],
                            Condition: { StringEquals: { "aws:ResourceTag/owner": "me", "aws:RequestTag/owner": "me" } },
                        },
                    ],
                }),
            }),
        ],
        [
            // Tagging whatever the request names (a RequestTag alone does not say whose the resource is).
            resource("aws:iam/rolePolicy:RolePolicy", {
                policy: JSON.stringify({
                    Statement: [
                        {
                            Sid: "TagAnything",
                            Effect: "Allow",
                            Action: ["elasticloadbalancing:AddTags"],
                            Resource: ["arn:x"],
                            Condition: { Null: { "aws:RequestTag/owner": "false" } },
                        },
                    ],
                }),
            }),
        ],
    ],
    [
        aws.secretsRecoveryWindow,
        [resource("aws:secretsmanager/secret:Secret", { recoveryWindowInDays: 7 })],
        [resource("aws:secretsmanager/secret:Secret", { recoveryWindowInDays: 0 })],
    ],
    [
        aws.cloudfrontHttps,
        [
            resource("aws:cloudfront/distribution:Distribution", {
                defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
                viewerCertificate: { minimumProtocolVersion: "TLSv1.2_2021" },
            }),
        ],
        [
            resource("aws:cloudfront/distribution:Distribution", {
                defaultCacheBehavior: { viewerProtocolPolicy: "allow-all" },
                viewerCertificate: { minimumProtocolVersion: "TLSv1" },
            }),
        ],
    ],
    [
        aws.cloudfrontEdge,
        [
            resource("aws:cloudfront/distribution:Distribution", {
                webAclId: "arn:waf",
                viewerCertificate: { acmCertificateArn: "arn:acm" },
            }),
            resource("aws:cloudwatch/logDeliverySource:LogDeliverySource", { logType: "ACCESS_LOGS" }),
        ],
        [resource("aws:cloudfront/distribution:Distribution", { viewerCertificate: { cloudfrontDefaultCertificate: true } })],
    ],
    [aws.s3Private, bucketSet(true, true), bucketSet(false, false)],
    [
        aws.backupVaultsLocked,
        [
            resource("aws:backup/vault:Vault", { name: "finbot-backups" }),
            resource(
                "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
                { backupVaultName: "finbot-backups", minRetentionDays: 7 },
                "lock",
            ),
        ],
        [resource("aws:backup/vault:Vault", { name: "finbot-backups" })],
    ],
    [
        aws.backupsKmsEncrypted,
        [
            resource("aws:s3/bucket:Bucket", { bucket: "finbot-prod-log-snapshots-1" }),
            resource(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                {
                    bucket: "finbot-prod-log-snapshots-1",
                    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:k" } }],
                },
                "sse",
            ),
            resource("aws:backup/vault:Vault", { name: "finbot-backups", kmsKeyArn: "arn:aws:kms:k" }, "vault"),
        ],
        [
            resource("aws:s3/bucket:Bucket", { bucket: "finbot-prod-log-snapshots-1" }),
            resource(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                { bucket: "finbot-prod-log-snapshots-1", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
                "sse",
            ),
        ],
    ],
    [
        aws.s3TlsOnly,
        [
            resource("aws:s3/bucket:Bucket", { bucket: "b" }),
            resource(
                "aws:s3/bucketPolicy:BucketPolicy",
                {
                    bucket: "b",
                    policy: JSON.stringify({
                        Statement: [
                            { Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } },
                        ],
                    }),
                },
                "p",
            ),
        ],
        [
            resource("aws:s3/bucket:Bucket", { bucket: "b" }),
            resource(
                "aws:s3/bucketPolicy:BucketPolicy",
                { bucket: "b", policy: JSON.stringify({ Statement: [{ Effect: "Allow" }] }) },
                "p",
            ),
        ],
    ],
];

describe("policy pack", () => {
    it("has at least 20 rules, each with a description and an enforcement level", () => {
        assert.ok(allPolicies.length >= 20, `${allPolicies.length} rules`);
        assert.deepEqual(
            CASES.map(([p]) => p.name).sort(),
            allPolicies.map((p) => p.name).sort(),
            "every rule has a passing and a failing case",
        );
        for (const p of allPolicies) assert.ok(p.description && p.enforcementLevel, p.name);
    });

    for (const [policy, passing, failing] of CASES) {
        it(`${policy.name}: passes a compliant resource, reports a violating one`, async () => {
            assert.deepEqual(await violations(policy, passing), []);
            assert.notDeepEqual(await violations(policy, failing), []);
        });
    }

    it("k8s-pod-security-labels: a namespace the stack writes policies into needs a label, also one an operator's manifest made", async () => {
        const policy = resource(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            { metadata: { name: "deny", namespace: "rabbitmq-system" } },
            "np",
        );
        assert.deepEqual(await violations(isolation.podSecurityLabels, [policy]), [
            "namespace rabbitmq-system enforces no Pod Security Standard",
        ]);
        const patch = resource(
            "kubernetes:core/v1:NamespacePatch",
            { metadata: { name: "rabbitmq-system", labels: { "pod-security.kubernetes.io/enforce": "baseline" } } },
            "patch",
        );
        assert.deepEqual(await violations(isolation.podSecurityLabels, [policy, patch]), []);
    });

    it("reports a created cluster without deletion protection, and a node class that declares no volumes, each on its own", async () => {
        const [clusters, nodeClasses] = [cluster.eksClusterHardened, cluster.karpenterNodesHardened].map(
            (policy) => CASES.find(([p]) => p === policy)![2],
        );
        assert.deepEqual(await violations(cluster.eksClusterHardened, [clusters.at(-1)!]), ["the cluster has no deletion protection"]);
        assert.deepEqual(await violations(cluster.karpenterNodesHardened, [nodeClasses.at(-1)!]), [
            "no blockDeviceMappings: the AMI's defaults decide whether volumes are encrypted",
        ]);
    });

    for (const stack of ["dev", "prod"] as const) {
        it(`the real ${stack} plan has no mandatory violation (npm run policy)`, async () => {
            const run = await runStack(stack);
            const dir = mkdtempSync(path.join(tmpdir(), `finbot-policy-${stack}-`));
            writeFileSync(path.join(dir, "plan.json"), JSON.stringify(planDocument(run)));
            const result = await runMain(policyMain, [dir]);
            assert.match(result.stdout, new RegExp(`### ${stack} \\((staging|production)\\): ✅ 0 mandatory`));
            assert.equal(result.status, 0, result.stdout);
        });
    }

    it("npm run policy fails on a plan with a mandatory violation, naming rule and resource", async () => {
        const run = await runStack("dev");
        const doc = planDocument(run) as { stack: string; resources: Array<{ type: string; inputs: Props }> };
        const deploymentInPlan = doc.resources.find(
            (r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata?.name === "api",
        )!;
        deploymentInPlan.inputs.spec.template.spec.containers[0].image = "ghcr.io/stefanprodan/podinfo:latest";
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-policy-bad-"));
        writeFileSync(path.join(dir, "plan.json"), JSON.stringify(doc));
        const result = await runMain(policyMain, [dir]);
        assert.equal(result.status, 1);
        assert.match(
            result.stdout,
            /\| k8s-pinned-images \| mandatory \| finbot-api \| image "ghcr\.io\/stefanprodan\/podinfo:latest" of api is not pinned \|/,
        );
    });
});

describe("npm run policy --report", () => {
    it("writes a new report or replaces an earlier one, and refuses any other file with one line, leaving it as it was", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-policy-report-"));
        execFileSync("git", ["init", "-q"], { cwd: dir });
        writeFileSync(path.join(dir, "README.md"), "# a tracked file\n");
        execFileSync("git", ["add", "README.md"], { cwd: dir });
        writeFileSync(path.join(dir, "passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        const plan = path.join(dir, "plan");
        mkdirSync(plan);
        writeFileSync(path.join(plan, "plan.json"), JSON.stringify({ stack: "dev", resources: [] }));
        for (const [target, reason] of [
            ["README.md", /^policy: --report README\.md holds files tracked by git \(README\.md\)$/],
            ["passwd", /^policy: --report passwd exists and is not an earlier report$/],
            [".", /^policy: --report \. is the current directory or one of its parents$/],
            ["missing/report.md", /^policy: --report missing\/report\.md: its folder does not exist$/],
        ] as const) {
            const before =
                existsSync(path.join(dir, target)) && statSync(path.join(dir, target)).isFile()
                    ? readFileSync(path.join(dir, target), "utf8")
                    : undefined;
            const result = await runMain(policyMain, ["plan", "--report", target], dir);
            assert.equal(result.status, 2, target);
            assert.match(result.stderr.trim(), reason);
            assert.equal(result.stdout, "", "nothing evaluated");
            if (before !== undefined) assert.equal(readFileSync(path.join(dir, target), "utf8"), before);
        }
        assert.equal(
            execFileSync("git", ["diff", "--name-only", "README.md"], { cwd: dir, encoding: "utf8" }),
            "",
            "the tracked file is untouched",
        );
        assert.equal((await runMain(policyMain, ["plan", "--report", "report.md"], dir)).status, 0);
        assert.equal((await runMain(policyMain, ["plan", "--report", "report.md"], dir)).status, 0, "an earlier report is replaced");
        assert.match(readFileSync(path.join(dir, "report.md"), "utf8"), /^## Policy pack over the offline plans/);
    });
});

describe("docs/delivery.md", () => {
    it("tables every rule of the pack as the pack says it (run `npm run docs:policy`)", () => {
        const current = readFileSync(DELIVERY_DOCS, "utf8");
        assert.equal(current, renderDeliveryDocs(current));
        for (const policy of allPolicies) assert.ok(current.includes(`\`${policy.name}\``), policy.name);
    });
});
