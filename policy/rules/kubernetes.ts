// Rules for the Kubernetes objects the program creates.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { CONFIG_SCHEMA, Props, containersOf, isPinnedImage, isProduction, nameOf, ofType, podSpecOf } from "./support";

export const containerResources: ResourceValidationPolicy = {
    name: "k8s-container-resources",
    description: "Every container requests CPU and memory and has a memory limit (scheduling and noisy neighbours).",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const pod = podSpecOf(type, props);
        for (const c of pod ? containersOf(pod) : []) {
            const r = c.resources ?? {};
            if (!r.requests?.cpu || !r.requests?.memory || !r.limits?.memory)
                report(`container "${c.name}" of ${nameOf(props)} needs requests.cpu, requests.memory and limits.memory`);
        }
    },
};

export const probes: ResourceValidationPolicy = {
    name: "k8s-probes",
    description: "Deployments that serve a port have readiness and liveness probes.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== "kubernetes:apps/v1:Deployment" && type !== "kubernetes:apps/v1:StatefulSet") return;
        for (const c of podSpecOf(type, props)?.containers ?? []) {
            if ((c.ports ?? []).length > 0 && (!c.readinessProbe || !c.livenessProbe))
                report(`container "${c.name}" of ${nameOf(props)} serves a port without readiness and liveness probes`);
        }
    },
};

export const nonRoot: ResourceValidationPolicy = {
    name: "k8s-non-root",
    description: "Pods run as a non-root user.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const pod = podSpecOf(type, props);
        if (!pod) return;
        for (const c of containersOf(pod)) {
            const nonRootUser = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
            if (nonRootUser !== true) report(`container "${c.name}" of ${nameOf(props)} may run as root (set runAsNonRoot)`);
        }
    },
};

export const noPrivilegeEscalation: ResourceValidationPolicy = {
    name: "k8s-no-privilege-escalation",
    description: "Containers cannot gain privileges (allowPrivilegeEscalation: false, not privileged).",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const pod = podSpecOf(type, props);
        for (const c of pod ? containersOf(pod) : []) {
            if (c.securityContext?.allowPrivilegeEscalation !== false || c.securityContext?.privileged === true) {
                report(`container "${c.name}" of ${nameOf(props)} must set allowPrivilegeEscalation: false and not be privileged`);
            }
        }
    },
};

export const readOnlyRootFilesystem: ResourceValidationPolicy = {
    name: "k8s-read-only-root-filesystem",
    description: "Containers have a read-only root file system (writable paths are explicit volumes).",
    enforcementLevel: "advisory",
    validateResource: ({ type, props }, report) => {
        const pod = podSpecOf(type, props);
        for (const c of pod ? containersOf(pod) : []) {
            if (c.securityContext?.readOnlyRootFilesystem !== true)
                report(`container "${c.name}" of ${nameOf(props)} has a writable root file system`);
        }
    },
};

/** Containers an operator's custom resource gives a podTemplate (or an override) for, by type. */
const OPERATOR_POD_CONTAINERS: Record<string, (spec: Props) => Props[]> = {
    "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch": (spec) =>
        (spec.nodeSets ?? []).flatMap((n: Props) => containersOf(n.podTemplate?.spec ?? {})),
    "kubernetes:kibana.k8s.elastic.co/v1:Kibana": (spec) => containersOf(spec.podTemplate?.spec ?? {}),
    "kubernetes:apm.k8s.elastic.co/v1:ApmServer": (spec) => containersOf(spec.podTemplate?.spec ?? {}),
    "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster": (spec) => containersOf(spec.override?.statefulSet?.spec?.template?.spec ?? {}),
};

export const operatorPodsReadOnlyRoot: ResourceValidationPolicy = {
    name: "operator-pods-read-only-root",
    description:
        "A container securityContext given to an operator's pods keeps the root file system read-only: ECK replaces its own default (read-only for Elasticsearch and Kibana) with ours, nothing merged. Logstash and Filebeat are left out: their images do not support it.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const containers = OPERATOR_POD_CONTAINERS[type]?.(props.spec ?? {}) ?? [];
        for (const c of containers)
            if (c.securityContext && c.securityContext.readOnlyRootFilesystem !== true)
                report(
                    `container "${c.name}" of ${nameOf(props)} replaces its operator's security context with a writable root file system`,
                );
    },
};

/** Images of operator-managed custom resources, by type. */
const CUSTOM_IMAGE_FIELDS: Record<string, (props: Record<string, unknown>) => unknown> = {
    "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster": (p) => (p.spec as { image?: unknown })?.image,
    "kubernetes:postgresql.cnpg.io/v1:Cluster": (p) => (p.spec as { imageName?: unknown })?.imageName,
};

export const noLatestImages: ResourceValidationPolicy = {
    name: "k8s-pinned-images",
    description: 'Images are pinned: a tag other than "latest", or a digest.',
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const pod = podSpecOf(type, props);
        const images = pod ? containersOf(pod).map((c) => c.image) : [];
        const custom = CUSTOM_IMAGE_FIELDS[type]?.(props);
        if (typeof custom === "string") images.push(custom);
        for (const image of images)
            if (typeof image !== "string" || !isPinnedImage(image)) report(`image "${image}" of ${nameOf(props)} is not pinned`);
    },
};

export const noSecretsInConfigMaps: ResourceValidationPolicy = {
    name: "k8s-no-secrets-in-configmaps",
    description: "ConfigMaps hold no credentials (keys or lines that name passwords, tokens or keys).",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== "kubernetes:core/v1:ConfigMap") return;
        for (const [key, value] of Object.entries((props.data ?? {}) as Record<string, string>)) {
            if (/(password|passwd|secret|token|api[_-]?key|private[_-]?key)/i.test(key))
                report(`ConfigMap ${nameOf(props)} has a credential-like key "${key}"`);
            if (typeof value === "string" && /^\s*(password|requirepass|secret[_-]?token|default_pass)(\s*[=:]\s*|\s+)\S+/im.test(value)) {
                report(`ConfigMap ${nameOf(props)} key "${key}" sets a credential`);
            }
        }
    },
};

export const noSecretsInPlainEnv: ResourceValidationPolicy = {
    name: "k8s-no-secrets-in-plain-env",
    description:
        "Credential-like environment variables come from Secrets (valueFrom), never literal values; names of where a secret lives (`*_ARN`, `*_FILE`) are not secrets.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const pod = podSpecOf(type, props);
        for (const c of pod ? containersOf(pod) : []) {
            for (const env of c.env ?? []) {
                const credential = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|DSN)/i.test(env.name) && !/_(ARN|FILE)$/i.test(env.name);
                if (credential && env.value !== undefined) report(`${nameOf(props)}: ${env.name} is a literal; use a Secret`);
            }
        }
    },
};

export const elasticsearchSecurity: ResourceValidationPolicy = {
    name: "elasticsearch-security-on",
    description: "Elasticsearch keeps security on and has no anonymous access.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch") return;
        for (const nodeSet of props.spec?.nodeSets ?? []) {
            const config = nodeSet.config ?? {};
            if (config["xpack.security.enabled"] === false || config["xpack.security.enabled"] === "false")
                report(`node set ${nodeSet.name} disables security`);
            if (Object.keys(config).some((k) => k.startsWith("xpack.security.authc.anonymous")))
                report(`node set ${nodeSet.name} allows anonymous access`);
        }
    },
};

export const elasticServesTls: ResourceValidationPolicy = {
    name: "elastic-serves-tls",
    description:
        "Elasticsearch, Kibana and APM Server never switch off their HTTP TLS: sessions, ID tokens and credentials would cross the network in clear.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (!/^kubernetes:(elasticsearch|kibana|apm)\.k8s\.elastic\.co\/v1:/.test(type)) return;
        if (props.spec?.http?.tls?.selfSignedCertificate?.disabled === true) report(`${nameOf(props)} serves plain HTTP`);
    },
};

export const helmPinned: ResourceValidationPolicy = {
    name: "helm-pinned-chart-versions",
    description: "Helm releases pin an exact chart version.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (type !== "kubernetes:helm.sh/v3:Release") return;
        if (typeof props.version !== "string" || !/^v?\d+\.\d+\.\d+([-+][\w.-]+)?$/.test(props.version))
            report(`chart ${props.chart} has no exact version ("${props.version}")`);
    },
};

/** Targets of HPAs and ScaledObjects: namespace/name of the Deployments they scale. */
function scaledTargets(resources: Parameters<StackValidationPolicy["validateStack"]>[0]["resources"]): Set<string> {
    const targets = new Set<string>();
    for (const hpa of ofType(resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"))
        targets.add(`${hpa.props.metadata?.namespace}/${hpa.props.spec?.scaleTargetRef?.name}`);
    for (const so of ofType(resources, "kubernetes:keda.sh/v1alpha1:ScaledObject"))
        targets.add(`${so.props.metadata?.namespace}/${so.props.spec?.scaleTargetRef?.name}`);
    return targets;
}

export const autoscaledDeployments: StackValidationPolicy = {
    name: "k8s-hpa-for-scaled-deployments",
    description: "In production every FinBot Deployment is autoscaled (HPA or KEDA) and leaves spec.replicas to it.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, report) => {
        const targets = scaledTargets(args.resources);
        for (const d of ofType(args.resources, "kubernetes:apps/v1:Deployment")) {
            const key = `${d.props.metadata?.namespace}/${d.props.metadata?.name}`;
            const scaled = targets.has(key);
            if (scaled && d.props.spec?.replicas !== undefined)
                report(`Deployment ${key} sets spec.replicas while an autoscaler owns it`, d.urn);
            const finbotService =
                d.props.metadata?.labels?.["app.kubernetes.io/part-of"] === "finbot" &&
                d.props.metadata?.labels?.["app.kubernetes.io/version"] !== undefined;
            if (isProduction(args) && finbotService && !scaled) report(`FinBot Deployment ${key} has no HPA or ScaledObject`, d.urn);
        }
    },
};

export const disruptionBudgets: StackValidationPolicy = {
    name: "k8s-pdb-for-multi-replica-workloads",
    description: "In production every workload that can run more than one replica has a PodDisruptionBudget.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, report) => {
        if (!isProduction(args)) return;
        const budgets = ofType(args.resources, "kubernetes:policy/v1:PodDisruptionBudget").map((p) => ({
            namespace: p.props.metadata?.namespace,
            labels: (p.props.spec?.selector?.matchLabels ?? {}) as Record<string, string>,
        }));
        const covered = (namespace: string, labels: Record<string, string>) =>
            budgets.some((b) => b.namespace === namespace && Object.entries(b.labels).every(([k, v]) => labels[k] === v));
        const deployments = new Map(
            ofType(args.resources, "kubernetes:apps/v1:Deployment").map((d) => [
                `${d.props.metadata?.namespace}/${d.props.metadata?.name}`,
                d,
            ]),
        );
        const multi = [
            ...ofType(args.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").filter((h) => h.props.spec?.maxReplicas > 1),
            ...ofType(args.resources, "kubernetes:keda.sh/v1alpha1:ScaledObject").filter((s) => s.props.spec?.maxReplicaCount > 1),
        ];
        for (const scaler of multi) {
            const key = `${scaler.props.metadata?.namespace}/${scaler.props.spec?.scaleTargetRef?.name}`;
            const d = deployments.get(key);
            if (d && !covered(d.props.metadata?.namespace, d.props.spec?.template?.metadata?.labels ?? {}))
                report(`${key} can run several replicas but has no PodDisruptionBudget`, d.urn);
        }
    },
};

export const scrapeObjectsLimited: ResourceValidationPolicy = {
    name: "scrape-objects-limited",
    description:
        "Every ServiceMonitor, PodMonitor and Probe limits its samples and labels: one label explosion in a target must not take Prometheus, and every alert, down.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        if (!/^kubernetes:monitoring\.coreos\.com\/v1:(ServiceMonitor|PodMonitor|Probe)$/.test(type)) return;
        const spec = props.spec ?? {};
        const missing = ["sampleLimit", "labelLimit"].filter((k) => !(Number(spec[k]) > 0));
        if (missing.length) report(`${type.split(":").pop()} ${nameOf(props)} has no ${missing.join(" or ")}`);
    },
};

export const postgresVerifiesServer: ResourceValidationPolicy = {
    name: "postgres-verifies-server",
    description:
        "Every PostgreSQL client the platform configures verifies the server (sslmode=verify-full against a CA), never require or weaker: a password, the master user's included, goes only to the server named.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const values: Array<[string, unknown]> = [];
        const pod = podSpecOf(type, props);
        if (pod) for (const c of containersOf(pod)) for (const e of c.env ?? []) values.push([`${c.name} ${e.name}`, e.value]);
        if (type === "kubernetes:core/v1:Secret") for (const [k, v] of Object.entries(props.stringData ?? {})) values.push([k, v]);
        for (const [where, value] of values) {
            if (typeof value !== "string") continue;
            const mode = where.endsWith(" PGSSLMODE") ? value : /[?&]sslmode=([a-z-]+)/.exec(value)?.[1];
            if (mode !== undefined && mode !== "verify-full") report(`${nameOf(props)}: ${where} connects with sslmode=${mode}`);
        }
    },
};

export const postgresPasswordsAsVerifiers: ResourceValidationPolicy = {
    name: "postgres-passwords-as-verifiers",
    description:
        "A Job that sets a PostgreSQL role's password sends its SCRAM verifier, never the password: an error or slow-statement log would write the statement where logs go.",
    enforcementLevel: "mandatory",
    validateResource: ({ type, props }, report) => {
        const pod = podSpecOf(type, props);
        if (!pod || !/:(Job|CronJob)$/.test(type)) return;
        for (const c of containersOf(pod)) {
            const script = [...(c.command ?? []), ...(c.args ?? [])].join("\n");
            for (const m of script.matchAll(/PASSWORD\s+(?::'(\w+)'|'([^']*)')/gi)) {
                const plain = m[1] !== undefined ? !m[1].endsWith("_verifier") : !m[2].startsWith("SCRAM-SHA-256$");
                if (plain) report(`container "${c.name}" of ${nameOf(props)} sets a password in SQL (${m[0]}), not its SCRAM verifier`);
            }
        }
    },
};
