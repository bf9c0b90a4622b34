// Rules for isolation and least privilege inside the cluster: default-deny networks and Pod
// Security labels on every namespace, flows that name their ports, private operator UIs with single
// sign-on, verified TLS from the gateways to every backend, no shared passwords in production, no
// admin rights for FinBot's users, TLS-only brokers, a priority class on every pod.
import { StackValidationPolicy, ResourceValidationPolicy } from "@pulumi/policy";
import { reachesInternet } from "../../components/config/cidr";
import { FINBOT_SERVICES as FINBOT_SERVICES_PRIORITY } from "../../components/lib/priority";
import { CONFIG_SCHEMA, Props, isProduction, nameOf, ofType, podSpecOf } from "./support";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";
const HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
const BACKEND_TLS_POLICY = "kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy";

export const defaultDenyPerNamespace: StackValidationPolicy = {
    name: "k8s-default-deny-per-namespace",
    description:
        "Every namespace the stack creates has a default-deny NetworkPolicy for ingress and egress (flows are then allowed one by one).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const denied = new Set(
            ofType(args.resources, NETWORK_POLICY)
                .filter((p) => {
                    const spec = p.props.spec ?? {};
                    const types = [...(spec.policyTypes ?? [])].sort().join(",");
                    return Object.keys(spec.podSelector ?? {}).length === 0 && types === "Egress,Ingress" && !spec.ingress && !spec.egress;
                })
                .map((p) => p.props.metadata?.namespace),
        );
        for (const ns of ofType(args.resources, NAMESPACE)) {
            const name = nameOf(ns.props);
            if (!denied.has(name)) report(`namespace ${name} has no default-deny policy for ingress and egress`);
        }
    },
};

export const podSecurityLabels: StackValidationPolicy = {
    name: "k8s-pod-security-labels",
    description:
        "Every namespace the platform's pods run in enforces a Pod Security Standard, also one an operator's manifest creates (labelled by a NamespacePatch); a privileged one holds no Deployments, StatefulSets or Jobs (node agents only).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const labelled = [...ofType(args.resources, NAMESPACE), ...ofType(args.resources, "kubernetes:core/v1:NamespacePatch")];
        const levels = new Map<string, string | undefined>();
        for (const ns of labelled) levels.set(nameOf(ns.props), levels.get(nameOf(ns.props)) ?? ns.props.metadata?.labels?.[PSA_ENFORCE]);
        // A namespace the stack writes policies into runs its pods, whoever created it.
        for (const policy of ofType(args.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy")) {
            const ns = policy.props.metadata?.namespace;
            if (typeof ns === "string" && !levels.has(ns)) levels.set(ns, undefined);
        }
        for (const [name, level] of levels) if (!level) report(`namespace ${name} enforces no Pod Security Standard`);
        const workloads = ["Deployment", "StatefulSet"]
            .map((k) => `kubernetes:apps/v1:${k}`)
            .concat(["kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"]);
        for (const r of args.resources.filter((x) => workloads.includes(x.type))) {
            const ns = r.props.metadata?.namespace;
            if (levels.get(ns) === "privileged") report(`${nameOf(r.props)} runs in the privileged namespace ${ns}`);
        }
    },
};

/** Services of the operator UIs (kube-prometheus-stack's, Kibana's). */
const UI_SERVICE = /(^kube-prometheus-stack-(grafana|prometheus|alertmanager)$|-kb-http$)/;

export const privateOperatorUis: StackValidationPolicy = {
    name: "operator-uis-private",
    description:
        "In production every route to Grafana, Prometheus, Alertmanager or Kibana is on a gateway with an internal load balancer and behind single sign-on (OIDC).",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, report) => {
        if (!isProduction(args)) return;
        // Gateway -> GatewayClass -> EnvoyProxy -> its load balancer's scheme.
        const schemes = new Map(
            ofType(args.resources, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy").map((p) => [
                nameOf(p.props),
                p.props.spec?.provider?.kubernetes?.envoyService?.annotations?.["service.beta.kubernetes.io/aws-load-balancer-scheme"],
            ]),
        );
        const classes = new Map(
            ofType(args.resources, "kubernetes:gateway.networking.k8s.io/v1:GatewayClass").map((c) => [
                nameOf(c.props),
                c.props.spec?.parametersRef?.name,
            ]),
        );
        const gatewayScheme = new Map(
            ofType(args.resources, "kubernetes:gateway.networking.k8s.io/v1:Gateway").map((g) => [
                nameOf(g.props),
                schemes.get(classes.get(g.props.spec?.gatewayClassName)),
            ]),
        );
        const sso = new Set(
            ofType(args.resources, "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy")
                .filter((p) => p.props.spec?.oidc && p.props.spec?.authorization?.defaultAction === "Deny")
                .flatMap((p) => (p.props.spec?.targetRefs ?? []).map((t: { name: string }) => `${p.props.metadata?.namespace}/${t.name}`)),
        );
        for (const route of ofType(args.resources, HTTP_ROUTE)) {
            const backends = (route.props.spec?.rules ?? []).flatMap((r: { backendRefs?: Array<{ name: string }> }) => r.backendRefs ?? []);
            if (!backends.some((b: { name: string }) => UI_SERVICE.test(b.name))) continue;
            const name = nameOf(route.props);
            for (const parent of route.props.spec?.parentRefs ?? [])
                if (gatewayScheme.get(parent.name) !== "internal")
                    report(`route ${name} reaches an operator UI through gateway ${parent.name}, which is not internal`);
            if (!sso.has(`${route.props.metadata?.namespace}/${name}`))
                report(`route ${name} reaches an operator UI without single sign-on`);
        }
    },
};

export const noBasicAuthInProduction: ResourceValidationPolicy = {
    name: "no-basic-auth-in-production",
    description: "In production no route is protected by a shared basic-auth password (unsalted SHA-1, one password for everyone).",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, report) => {
        if (args.type !== "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy" || !isProduction(args)) return;
        if (args.props.spec?.basicAuth) report(`${nameOf(args.props)} protects a route with basic auth`);
    },
};

export const noAdminForApps: ResourceValidationPolicy = {
    name: "no-admin-credentials-for-apps",
    description:
        "FinBot's credentials carry no admin rights where the plan shows them: RabbitMQ users have no tags, PostgreSQL roles are no superusers and create no roles or databases, the superuser stays off.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const { type, props } = args;
        if (type === "kubernetes:rabbitmq.com/v1beta1:User" && (props.spec?.tags ?? []).length > 0)
            report(`RabbitMQ user ${nameOf(props)} has tags ${props.spec.tags.join(", ")}`);
        if (type === "kubernetes:rabbitmq.com/v1beta1:Permission") {
            const p = props.spec?.permissions ?? {};
            if ([p.configure, p.write, p.read].every((x: string) => x === ".*"))
                report(`RabbitMQ user ${props.spec?.user} may do anything on ${props.spec?.vhost}`);
        }
        if (type === "kubernetes:postgresql.cnpg.io/v1:Cluster") {
            if (props.spec?.enableSuperuserAccess === true) report(`${nameOf(props)} exposes the postgres superuser`);
            for (const role of props.spec?.managed?.roles ?? [])
                if (role.superuser || role.createrole || role.createdb || role.bypassrls) report(`role ${role.name} has admin rights`);
        }
    },
};

/** A permission regex that matches a name RabbitMQ would check it against. */
const permits = (regex: unknown, name: string) => {
    try {
        return typeof regex === "string" && new RegExp(regex).test(name);
    } catch {
        return true; // not a regex we can read: assume the worst
    }
};

export const rabbitmqPermissionsScoped: ResourceValidationPolicy = {
    name: "rabbitmq-permissions-scoped",
    description:
        "A RabbitMQ user publishes only through its queues' own exchanges: never to the default exchange (which reaches every queue by name) or by a wildcard, and declares nothing. A user that consumes nothing reads nothing (KEDA counts queues by a passive declare, which needs no permission).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== "kubernetes:rabbitmq.com/v1beta1:Permission") return;
        const user = args.props.spec?.user;
        const { configure, write, read } = args.props.spec?.permissions ?? {};
        if (configure !== "^$") report(`RabbitMQ user ${user} may declare or delete (configure: ${configure})`);
        // RabbitMQ checks a publish to the default exchange ("") as one to "amq.default".
        if (permits(write, "amq.default"))
            report(`RabbitMQ user ${user} may publish through the default exchange (write: ${write}): it reaches every queue`);
        for (const [what, regex] of [
            ["write", write],
            ["read", read],
        ])
            if (regex === undefined || /\.\*|\.\+/.test(String(regex))) report(`RabbitMQ user ${user} has a wildcard ${what} (${regex})`);
    },
};

export const rabbitmqTlsOnly: ResourceValidationPolicy = {
    name: "rabbitmq-tls-only",
    description: "RabbitMQ serves AMQP, the management API and metrics over TLS only.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster") return;
        const tls = args.props.spec?.tls ?? {};
        if (!tls.secretName || tls.disableNonTLSListeners !== true) report(`${nameOf(args.props)} keeps plain listeners`);
    },
};

export const apmAnonymousRumOnly: ResourceValidationPolicy = {
    name: "apm-anonymous-rum-only",
    description:
        "APM Server's anonymous intake (browsers' RUM, public) admits only the RUM agent, for named services, from listed origins, under a rate limit.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== "kubernetes:apm.k8s.elastic.co/v1:ApmServer") return;
        const config = args.props.spec?.config ?? {};
        if (config["apm-server.auth.anonymous.enabled"] !== true) return;
        const agents: unknown[] = config["apm-server.auth.anonymous.allow_agent"] ?? [];
        if (agents.length !== 1 || agents[0] !== "rum-js") report(`anonymous agents ${JSON.stringify(agents)}: only rum-js`);
        if (!(config["apm-server.auth.anonymous.allow_service"] ?? []).length) report("anonymous intake for every service name");
        const origins: string[] = config["apm-server.rum.allow_origins"] ?? ["*"];
        if (origins.length === 0 || origins.some((o) => o.includes("*"))) report(`RUM origins ${JSON.stringify(origins)}: name them`);
        if (typeof config["apm-server.auth.anonymous.rate_limit.event_limit"] !== "number") report("anonymous intake without a rate limit");
    },
};

export const publicIntakeRateLimited: StackValidationPolicy = {
    name: "public-intake-rate-limited",
    description: "Every route to an anonymous intake (a path under /intake/, such as APM Server's RUM) is rate-limited at the gateway.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const limited = ofType(args.resources, "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy")
            .filter((p) => p.props.spec?.rateLimit)
            .flatMap((p) =>
                (p.props.spec.targetRefs ?? [])
                    .filter((t: { kind?: string }) => t.kind === "HTTPRoute")
                    .map((t: { name?: string }) => `${p.props.metadata?.namespace}/${t.name}`),
            );
        for (const route of ofType(args.resources, HTTP_ROUTE)) {
            const intake = (route.props.spec?.rules ?? []).some((r: { matches?: Array<{ path?: { value?: string } }> }) =>
                (r.matches ?? []).some((m) => String(m.path?.value ?? "").startsWith("/intake")),
            );
            const id = `${route.props.metadata?.namespace}/${route.props.metadata?.name}`;
            if (intake && !limited.includes(id)) report(`HTTPRoute ${id} takes anonymous intake without a gateway rate limit`);
        }
    },
};

/** kube-prometheus-stack's Helm values, when the resource is its release. */
function kubePrometheusValues(type: string, props: Props): Props | undefined {
    return type === "kubernetes:helm.sh/v3:Release" && String(props.chart).endsWith("kube-prometheus-stack")
        ? (props.values ?? {})
        : undefined;
}

export const grafanaNoAnonymous: ResourceValidationPolicy = {
    name: "grafana-no-anonymous-access",
    description: "Grafana (kube-prometheus-stack values) allows no anonymous access and no sign-up.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const values = kubePrometheusValues(args.type, args.props);
        if (!values) return;
        const ini = values.grafana?.["grafana.ini"] ?? {};
        if (ini["auth.anonymous"]?.enabled !== false) report("Grafana allows anonymous access");
        if (ini.users?.allow_sign_up !== false) report("Grafana allows sign-up");
    },
};

export const gatewayBackendsOverTls: StackValidationPolicy = {
    name: "gateway-backends-over-tls",
    description:
        "Every Service a gateway route forwards to is reached over TLS verified against a CA and a host name (BackendTLSPolicy): customers' requests, session cookies, ID tokens and passwords never cross the network in the clear.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const key = (namespace: string, name: string) => `${namespace}/${name}`;
        const verified = new Set(
            ofType(args.resources, BACKEND_TLS_POLICY)
                .filter((p) => p.props.spec?.validation?.hostname && p.props.spec?.validation?.caCertificateRefs?.length)
                .flatMap((p) =>
                    (p.props.spec?.targetRefs ?? [])
                        .filter((t: Props) => t.kind === "Service")
                        .map((t: Props) => key(p.props.metadata?.namespace, t.name)),
                ),
        );
        for (const route of ofType(args.resources, HTTP_ROUTE)) {
            const namespace = route.props.metadata?.namespace;
            for (const rule of (route.props.spec?.rules ?? []) as Props[])
                for (const backend of (rule.backendRefs ?? []) as Props[])
                    if ((backend.kind ?? "Service") === "Service" && !verified.has(key(backend.namespace ?? namespace, backend.name)))
                        report(
                            `${namespace}/${nameOf(route.props)} reaches ${backend.name}:${backend.port} in the clear (no BackendTLSPolicy)`,
                        );
        }
    },
};

export const grafanaSingleSignOn: ResourceValidationPolicy = {
    name: "grafana-single-sign-on",
    description:
        "In production people sign in to Grafana as themselves: it verifies the gateway's ID token (auth.jwt) against the identity provider's keys over HTTPS, checks issuer and audience, and never makes anyone a server admin; the admin account is break-glass only.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, report) => {
        const values = kubePrometheusValues(args.type, args.props);
        if (!values || !isProduction(args)) return;
        const jwt = values.grafana?.["grafana.ini"]?.["auth.jwt"];
        if (jwt?.enabled !== true) {
            report(
                "Grafana signs people in with its own login only (a shared admin password): enable auth.jwt with the gateway's ID token",
            );
            return;
        }
        if (!String(jwt.jwk_set_url ?? "").startsWith("https://"))
            report("Grafana's auth.jwt verifies tokens without keys fetched over HTTPS");
        const expected = (() => {
            try {
                return JSON.parse(String(jwt.expect_claims ?? "{}")) as Props;
            } catch {
                return {};
            }
        })();
        if (!expected.iss || !expected.aud) report("Grafana's auth.jwt checks no issuer or audience (expect_claims)");
        if (jwt.allow_assign_grafana_admin !== false) report("Grafana's auth.jwt may make someone a server admin");
    },
};

export const priorityClassEverywhere: ResourceValidationPolicy = {
    name: "k8s-priority-class",
    description: "Every pod the program runs names a PriorityClass, so the critical path is evicted last.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const pod = podSpecOf(args.type, args.props);
        if (pod && !pod.priorityClassName) report(`${nameOf(args.props)} names no PriorityClass`);
    },
};

export const appsNoInternetEgress: StackValidationPolicy = {
    name: "apps-no-internet-egress",
    description:
        "No NetworkPolicy in the namespace of FinBot's services and workers lets a pod reach a public address: third parties are reached only through the metered egress gateway.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const appNamespaces = new Set(
            args.resources
                .filter((r) => podSpecOf(r.type, r.props)?.priorityClassName === FINBOT_SERVICES_PRIORITY)
                .map((r) => r.props.metadata?.namespace),
        );
        for (const policy of ofType(args.resources, NETWORK_POLICY)) {
            if (!appNamespaces.has(policy.props.metadata?.namespace)) continue;
            const cidrs = (policy.props.spec?.egress ?? []).flatMap((rule: Props) =>
                (rule.to ?? []).flatMap((peer: Props) => (peer.ipBlock?.cidr ? [String(peer.ipBlock.cidr)] : [])),
            );
            // A rule without `to` reaches every address.
            const open = (policy.props.spec?.egress ?? []).some((rule: Props) => rule.to === undefined || rule.to.length === 0);
            const publicCidrs = cidrs.filter(reachesInternet);
            if (open || publicCidrs.length > 0)
                report(
                    `${policy.props.metadata?.namespace}/${nameOf(policy.props)} lets FinBot's pods reach the internet (${open ? "any address" : publicCidrs.join(", ")}): call third parties through the egress gateway`,
                );
        }
    },
};

export const crossNamespaceFlowsNamePorts: ResourceValidationPolicy = {
    name: "cross-namespace-flows-name-ports",
    description:
        "A NetworkPolicy rule that admits or reaches another namespace's pods or addresses names its ports: a scrape, a probe or a client reaches what it serves, not every port of the other side.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== NETWORK_POLICY) return;
        const namespace = props.metadata?.namespace;
        const beyond = (peer: Props) =>
            peer.ipBlock !== undefined || peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] !== namespace;
        for (const [direction, side] of [
            ["ingress", "from"],
            ["egress", "to"],
        ] as const)
            for (const rule of (props.spec?.[direction] ?? []) as Props[])
                if (!rule.ports?.length && (!rule[side]?.length || (rule[side] as Props[]).some(beyond)))
                    report(`${namespace}/${nameOf(props)} allows ${direction} beyond its namespace on every port: name the ports`);
    },
};

export const prometheusTakesNoWrites: ResourceValidationPolicy = {
    name: "prometheus-takes-no-writes",
    description:
        "The Prometheus that evaluates the alerts and feeds autoscaling accepts no remote writes (a forged series could hide a burn or drive an HPA); only a receiver that evaluates no rules may, and is federated.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const values = kubePrometheusValues(type, props);
        if (values) {
            if (values.prometheus?.prometheusSpec?.enableRemoteWriteReceiver !== false)
                report("kube-prometheus-stack's Prometheus must set enableRemoteWriteReceiver: false");
        }
        if (
            type === "kubernetes:monitoring.coreos.com/v1:Prometheus" &&
            props.spec?.enableRemoteWriteReceiver === true &&
            props.spec?.ruleSelector
        )
            report(`Prometheus ${nameOf(props)} takes remote writes and evaluates rules: a forged series would reach its alerts`);
    },
};

export const apiKeysStripped: ResourceValidationPolicy = {
    name: "api-keys-stripped",
    description:
        "A gateway that checks an API key (CloudFront's origin key) removes it before forwarding (sanitize): no service, log or trace ever holds it.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy") return;
        const auth = args.props.spec?.apiKeyAuth;
        if (auth && auth.sanitize !== true)
            report(`SecurityPolicy ${nameOf(args.props)} forwards the API key to the backends (set apiKeyAuth.sanitize)`);
    },
};
