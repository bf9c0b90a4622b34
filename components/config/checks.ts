// The cross-field checks of the stack config, one named check each (like awsx's `validateEips`).
// They run after the fields' own checks, also when some fields failed, so every problem is
// reported at once; each looks only at the fields that are well-formed. Pure.
import { CNI_ENFORCES_NETWORK_POLICY, ClusterConfig, Cni, cniOf, nodeAutoscalerOf } from "./cluster";
import {
    readQueriesAtTenTimes,
    poolFit,
    poolProblem,
    perNodeRequests,
    servicesAtTenTimes,
    CAPACITY_FACTOR,
    capacityProblem,
} from "./capacity";
import { isIpv4Cidr, reachesInternet } from "./cidr";
import { isNumber } from "./primitives";
import { PLATFORM_IMAGES } from "./releases";
import { isProduction, tlsIssuerOf } from "./resolve";
import type { z } from "zod";
import { platformSchema } from "./schema";
import { SENTRY_PROVIDER } from "./thirdParties";

/** A problem a check found: where, what was given, and what was expected. */
export interface CheckIssue {
    path: PropertyKey[];
    input: unknown;
    /** What was expected ("at least 2 replicas in production"). */
    message: string;
}

/** The config as the checks see it: parsed where it could be, anything where it could not. */
export type LooseConfig = Loose<z.input<typeof platformSchema>>;
/** A value as it may reach a check: each field as the schema takes it, or missing. */
type Loose<T> = T extends ReadonlyArray<infer E> ? Array<Loose<E>> : T extends object ? { [K in keyof T]?: Loose<T[K]> } : T;

export interface ConfigCheck {
    name: string;
    /** What the check protects, for docs and review. */
    description: string;
    check(config: LooseConfig): CheckIssue[];
}

const production = isProduction;
/** The objects of a list (a field that failed its own check may hold anything). */
const listOf = <T>(value: T[] | undefined): Array<NonNullable<T>> =>
    Array.isArray(value) ? value.filter((v): v is NonNullable<T> => v !== null && typeof v === "object") : [];
/** The objects of a list with their indexes. */
const indexed = <T>(value: T[] | undefined): Array<[number, NonNullable<T>]> =>
    Array.isArray(value)
        ? value.flatMap((v, i) => (v !== null && typeof v === "object" ? [[i, v as NonNullable<T>] as [number, NonNullable<T>]] : []))
        : [];

export const uniqueServiceNames: ConfigCheck = {
    name: "unique-service-names",
    description: "Service names are unique: they name Deployments, Services, HPAs and metrics' `service` label.",
    check(c) {
        const seen = new Map<string, number>();
        return indexed(c.services).flatMap(([i, svc]) => {
            if (typeof svc.name !== "string") return [];
            const first = seen.get(svc.name);
            if (first === undefined) {
                seen.set(svc.name, i);
                return [];
            }
            return [
                { path: ["services", i, "name"], input: svc.name, message: `a unique service name (services[${first}] has it already)` },
            ];
        });
    },
};

export const imageKeysExist: ConfigCheck = {
    name: "image-keys-exist",
    description: "Every image a service, canary or worker names is a key of finbot:releases.images.",
    check(c) {
        const keys = Object.keys({ ...PLATFORM_IMAGES, ...(c.releases?.images ?? {}) });
        const expected = `a key of finbot:releases.images (${keys.join(", ")})`;
        const named: Array<[PropertyKey[], unknown]> = [
            ...indexed(c.services).flatMap(([i, s]): Array<[PropertyKey[], unknown]> => [
                [["services", i, "image"], s.image],
                ...(s.canary ? [[["services", i, "canary", "image"], s.canary.image] as [PropertyKey[], unknown]] : []),
            ]),
            ...indexed(c.workers).map(([i, w]): [PropertyKey[], unknown] => [["workers", i, "image"], w.image]),
        ];
        return named
            .filter(([, image]) => typeof image === "string" && !keys.includes(image))
            .map(([path, input]) => ({ path, input, message: expected }));
    },
};

export const productionServiceReplicas: ConfigCheck = {
    name: "production-service-replicas",
    description: "In production every service runs at least 2 replicas: one node or zone may fail.",
    check(c) {
        if (!production(c)) return [];
        return indexed(c.services)
            .filter(([, s]) => isNumber(s.replicas?.min) && s.replicas.min < 2)
            .map(([i, s]) => ({
                path: ["services", i, "replicas", "min"],
                input: s.replicas?.min,
                message: "at least 2 replicas in production (one node or zone may fail)",
            }));
    },
};

export const productionMonitoring: ConfigCheck = {
    name: "production-monitoring",
    description:
        "In production Prometheus, Alertmanager and Grafana run at least 2 replicas (a zone or node loss must not take the dashboards away when they are needed) and pages reach PagerDuty.",
    check(c) {
        const m = c.monitoring;
        if (!production(c) || m?.enabled === false) return [];
        const issues: CheckIssue[] = (["prometheus", "alertmanager", "grafana"] as const)
            .filter((part) => !isNumber(m?.[part]?.replicas) || m[part].replicas < 2)
            .map((part) => ({
                path: ["monitoring", part, "replicas"],
                input: m?.[part]?.replicas,
                message: "at least 2 replicas in production",
            }));
        if (m?.alerting?.pagerduty === undefined)
            issues.push({
                path: ["monitoring", "alerting", "pagerduty"],
                input: undefined,
                message: "a PagerDuty routing key in production, or nobody is paged",
            });
        return issues;
    },
};

export const grafanaStateInDatabase: ConfigCheck = {
    name: "grafana-state-in-database",
    description:
        "More than one Grafana replica keeps its state (users, sessions, preferences) in a database of its own on Aurora: SQLite on a volume serves one pod.",
    check(c) {
        const replicas = c.monitoring?.grafana?.replicas;
        if (c.monitoring?.enabled === false || !isNumber(replicas) || replicas < 2) return [];
        if (c.database?.enabled !== false && c.database?.mode === "aurora") return [];
        return [
            {
                path: ["monitoring", "grafana", "replicas"],
                input: replicas,
                message:
                    "1 replica, or finbot:database enabled in aurora mode: more than one Grafana keeps its state in a PostgreSQL database of its own, which Grafana waits for, and the in-cluster server's certificate waits for cert-manager, which waits for the monitoring release Grafana is part of",
            },
        ];
    },
};

export const runbooksLinked: ConfigCheck = {
    name: "runbooks-linked",
    description: "With monitoring on, alerts link their runbooks: finbot:monitoring.runbookBaseUrl is set.",
    check(c) {
        const m = c.monitoring;
        if (m?.enabled === false || m?.runbookBaseUrl !== undefined) return [];
        return [
            {
                path: ["monitoring", "runbookBaseUrl"],
                input: undefined,
                message: "the https URL of the runbooks (docs/runbooks of this repository)",
            },
        ];
    },
};

export const workerScaling: ConfigCheck = {
    name: "worker-scaling",
    description: "Worker replica bounds are ordered; scale to zero is for staging only.",
    check(c) {
        return indexed(c.workers).flatMap(([i, w]): CheckIssue[] => {
            const { min, max } = w.replicas ?? {};
            const path = ["workers", i, "replicas", "min"];
            if (isNumber(min) && isNumber(max) && min > max) return [{ path, input: min, message: `a value <= replicas.max (${max})` }];
            if (production(c) && min === 0) return [{ path, input: 0, message: "at least 1 in production (scale to zero is for staging)" }];
            return [];
        });
    },
};

export const workerQueueExists: ConfigCheck = {
    name: "worker-queue-exists",
    description: "Every worker consumes a queue of finbot:queue.queues, with the queue enabled.",
    check(c) {
        const queues = new Set(listOf(c.queue?.queues).map((q) => q.name));
        return indexed(c.workers)
            .filter(([, w]) => typeof w.queue === "string" && (c.queue?.enabled === false || !queues.has(w.queue)))
            .map(([i, w]) => ({
                path: ["workers", i, "queue"],
                input: w.queue,
                message: `a queue of finbot:queue.queues (${[...queues].join(", ") || "none"})`,
            }));
    },
};

export const awsNetworkKnown: ConfigCheck = {
    name: "aws-network-known",
    description:
        "finbot:network is given wherever AWS resources need it (Aurora, ElastiCache, the CDN, Karpenter, production) unless the stack creates the cluster and its VPC.",
    check(c) {
        if (c.network !== undefined || c.cluster?.mode === "create") return [];
        const needs = [
            c.database?.enabled !== false && c.database?.mode === "aurora" ? "finbot:database.mode aurora" : undefined,
            c.cache?.enabled !== false && c.cache?.mode === "elasticache" ? "finbot:cache.mode elasticache" : undefined,
            c.traffic?.enabled !== false && c.traffic?.cdn?.enabled ? "finbot:traffic.cdn" : undefined,
            c.cluster?.nodeAutoscaler === "karpenter" ? "finbot:cluster.nodeAutoscaler karpenter" : undefined,
        ].filter((n): n is string => n !== undefined);
        if (needs.length > 0)
            return [{ path: ["network"], input: undefined, message: `the AWS network ids (needed by ${needs.join(" and ")})` }];
        if (production(c))
            return [
                {
                    path: ["network"],
                    input: undefined,
                    message: "the AWS network ids (vpcId, privateSubnetIds, nodeSecurityGroupId) in production",
                },
            ];
        return [];
    },
};

export const auroraResilience: ConfigCheck = {
    name: "aurora-resilience",
    description: "Aurora's reader bounds are ordered; in production backups are kept 14 days and copied to a second region.",
    check(c) {
        const a = c.database?.mode === "aurora" && c.database?.enabled !== false ? c.database?.aurora : undefined;
        if (a === undefined) return [];
        const issues: CheckIssue[] = [];
        if (isNumber(a.readers?.min) && isNumber(a.readers?.max) && a.readers.min > a.readers.max)
            issues.push({
                path: ["database", "aurora", "readers", "min"],
                input: a.readers.min,
                message: `a value <= readers.max (${a.readers.max})`,
            });
        if (production(c) && isNumber(a.backupRetentionDays) && a.backupRetentionDays < 14)
            issues.push({
                path: ["database", "aurora", "backupRetentionDays"],
                input: a.backupRetentionDays,
                message: "at least 14 days in production",
            });
        if (production(c) && a.backupCopyRegion === undefined)
            issues.push({
                path: ["database", "aurora", "backupCopyRegion"],
                input: undefined,
                message: "a second region for backup copies in production",
            });
        return issues;
    },
};

export const eksForAws: ConfigCheck = {
    name: "eks-for-aws",
    description:
        "AWS-managed stores, Karpenter, a created cluster and production run on EKS with a named cluster: their clients get pod identities there.",
    check(c) {
        const needs =
            production(c) ||
            c.cluster?.mode === "create" ||
            c.cluster?.nodeAutoscaler === "karpenter" ||
            (c.database?.enabled !== false && c.database?.mode === "aurora") ||
            (c.cache?.enabled !== false && c.cache?.mode === "elasticache");
        if (!needs) return [];
        const mode = c.cluster?.mode ?? "local";
        if (mode === "local")
            return [
                {
                    path: ["cluster", "mode"],
                    input: mode,
                    message: "existing or create (an EKS cluster) in production and with AWS-managed stores",
                },
            ];
        if (c.cluster?.name === undefined) return [{ path: ["cluster", "name"], input: undefined, message: "the EKS cluster's name" }];
        return [];
    },
};

export const clusterCreated: ConfigCheck = {
    name: "cluster-created",
    description:
        "A cluster the stack creates has zones (three in production; its name is eks-for-aws's), brings its own VPC (finbot:network is refused), and pins the AMI of Karpenter's nodes in production.",
    check(c) {
        const cluster = c.cluster ?? {};
        const issues: CheckIssue[] = [];
        if (cluster.mode === "create") {
            if (c.network !== undefined)
                issues.push({
                    path: ["network"],
                    input: c.network,
                    message: "nothing in create mode (finbot:cluster.mode create makes the VPC; remove finbot:network)",
                });
            const zones = cluster.availabilityZones;
            if (!Array.isArray(zones))
                issues.push({ path: ["cluster", "availabilityZones"], input: zones, message: "the zones of the VPC's subnets" });
            else if (production(c) && zones.length < 3)
                issues.push({ path: ["cluster", "availabilityZones"], input: zones, message: "three zones in production" });
        } else if (cluster.mode !== "existing" && cluster.nodeAutoscaler === "karpenter") {
            issues.push({
                path: ["cluster", "nodeAutoscaler"],
                input: "karpenter",
                message: "none on a laptop cluster (Karpenter needs EKS)",
            });
        }
        const karpenter = nodeAutoscalerOf(cluster as ClusterConfig) === "karpenter";
        if (production(c) && karpenter && typeof cluster.amiAlias === "string" && cluster.amiAlias.endsWith("@latest"))
            issues.push({
                path: ["cluster", "amiAlias"],
                input: cluster.amiAlias,
                message:
                    'a pinned AMI version in production (such as "al2023@v20260801"): @latest replaces every node when AWS publishes one',
            });
        return issues;
    },
};

export const networkPolicyEnforced: ConfigCheck = {
    name: "network-policy-enforced",
    description:
        "The cluster's CNI enforces NetworkPolicy: the platform's isolation is default-deny policies in every namespace, inert on a CNI that ignores them. A created cluster runs the VPC CNI with its network policy agent; a local or existing one names its CNI.",
    check(c) {
        const cluster = c.cluster ?? {};
        const mode = cluster.mode ?? "local";
        const enforcing = (Object.keys(CNI_ENFORCES_NETWORK_POLICY) as Cni[]).filter((cni) => CNI_ENFORCES_NETWORK_POLICY[cni]);
        const cni = cniOf({ mode, cni: cluster.cni });
        if (cni === undefined)
            return [
                {
                    path: ["cluster", "cni"],
                    input: undefined,
                    message: `the cluster's CNI, one that enforces NetworkPolicy (${enforcing.join(", ")}): the stack's isolation is NetworkPolicies`,
                },
            ];
        if (mode === "create" && cni !== "vpc-cni")
            return [{ path: ["cluster", "cni"], input: cni, message: "vpc-cni in create mode (the created cluster runs the VPC CNI)" }];
        if (CNI_ENFORCES_NETWORK_POLICY[cni] === false)
            return [
                {
                    path: ["cluster", "cni"],
                    input: cni,
                    message: `a CNI that enforces NetworkPolicy (${enforcing.join(", ")}): ${cni} ignores them, so every default-deny would be inert`,
                },
            ];
        return [];
    },
};

export const apiServerPrivate: ConfigCheck = {
    name: "api-server-private",
    description:
        "The API server's addresses (finbot:kubernetes.apiServerCidrs) are private ranges: every operator and scraper may reach them, so a public range would let those pods reach the internet.",
    check(c) {
        const cidrs: unknown[] = Array.isArray(c.kubernetes?.apiServerCidrs) ? c.kubernetes.apiServerCidrs : [];
        return cidrs
            .map((cidr, i) => [i, cidr] as const)
            .filter(([, cidr]) => typeof cidr === "string" && isIpv4Cidr(cidr) && reachesInternet(cidr))
            .map(([i, cidr]) => ({
                path: ["kubernetes", "apiServerCidrs", i],
                input: cidr,
                message: "a private range where the control plane and the nodes answer (the VPC's, or the laptop cluster's node network)",
            }));
    },
};

export const deployRunnerReachesCluster: ConfigCheck = {
    name: "deploy-runner-reaches-cluster",
    description:
        "A production cluster whose API is private is deployed from a runner inside its VPC (finbot:delivery.runner), which runs only where the program knows the VPC and the cluster.",
    check(c) {
        const cluster = c.cluster ?? {};
        const runner = c.delivery?.runner;
        const privateApi = cluster.mode === "create" && (cluster.publicAccessCidrs ?? []).length === 0;
        if (production(c) && privateApi && runner === undefined)
            return [
                {
                    path: ["delivery", "runner"],
                    input: undefined,
                    message:
                        "a runner in the VPC (the created cluster's API is private: no hosted runner can reach it), or finbot:cluster.publicAccessCidrs listing where deploys come from",
                },
            ];
        const knowsVpc = cluster.mode === "create" || (cluster.mode === "existing" && c.network !== undefined);
        if (runner !== undefined && !knowsVpc)
            return [
                {
                    path: ["delivery", "runner"],
                    input: runner,
                    message:
                        "nothing on a laptop cluster, or an EKS cluster without finbot:network (the runner lives in the cluster's VPC)",
                },
            ];
        return [];
    },
};

export const usesWhatExists: ConfigCheck = {
    name: "uses-what-exists",
    description: "What a service or worker uses of the data tier is enabled, and the queues it publishes to exist.",
    check(c) {
        const queues = new Set(listOf(c.queue?.queues).map((q) => q.name));
        const consumers = [
            ...indexed(c.services).map(([i, s]) => ["services", i, s] as const),
            ...indexed(c.workers).map(([i, w]) => ["workers", i, w] as const),
        ];
        return consumers.flatMap(([list, i, consumer]): CheckIssue[] => {
            const uses = consumer.uses ?? {};
            const at = (...rest: PropertyKey[]) => [list, i, "uses", ...rest];
            const issues: CheckIssue[] = [];
            if ((uses.database ?? "none") !== "none" && c.database?.enabled === false)
                issues.push({ path: at("database"), input: uses.database, message: "none while finbot:database.enabled is false" });
            if (uses.cache === true && c.cache?.enabled === false)
                issues.push({ path: at("cache"), input: true, message: "false while finbot:cache.enabled is false" });
            (Array.isArray(uses.publishes) ? uses.publishes : []).forEach((queue: unknown, q: number) => {
                if (typeof queue === "string" && (c.queue?.enabled === false || !queues.has(queue)))
                    issues.push({
                        path: at("publishes", q),
                        input: queue,
                        message: `a queue of finbot:queue.queues (${[...queues].join(", ") || "none"})`,
                    });
            });
            return issues;
        });
    },
};

export const productionQuorums: ConfigCheck = {
    name: "production-quorums",
    description: "In production RabbitMQ runs 3 or 5 nodes and Elasticsearch at least 3 (one per zone).",
    check(c) {
        if (!production(c)) return [];
        const issues: CheckIssue[] = [];
        if (c.queue?.enabled !== false && isNumber(c.queue?.replicas) && c.queue.replicas < 3)
            issues.push({
                path: ["queue", "replicas"],
                input: c.queue.replicas,
                message: "3 or 5 nodes in production (quorum queues survive one node)",
            });
        const es = c.logging?.elasticsearch;
        if (c.logging?.enabled !== false && isNumber(es?.nodes) && es.nodes < 3)
            issues.push({
                path: ["logging", "elasticsearch", "nodes"],
                input: es.nodes,
                message: "at least 3 nodes in production (one per zone)",
            });
        return issues;
    },
};

export const gatewayReady: ConfigCheck = {
    name: "gateway-ready",
    description: "ACME certificates have an account email; production runs at least 2 proxies of each gateway.",
    check(c) {
        const t = c.traffic;
        if (t?.enabled === false) return [];
        const issues: CheckIssue[] = [];
        const issuer = tlsIssuerOf(t, production(c));
        if (issuer === "acme" && t?.tls?.acmeEmail === undefined)
            issues.push({
                path: ["traffic", "tls", "acmeEmail"],
                input: undefined,
                message: "an email for the ACME account (tls.issuer acme)",
            });
        if (production(c) && isNumber(t?.gateway?.replicas) && t.gateway.replicas < 2)
            issues.push({ path: ["traffic", "gateway", "replicas"], input: t.gateway.replicas, message: "at least 2 in production" });
        const egress = t?.egressGateway?.replicas;
        if (production(c) && listOf(c.thirdParties).length > 0 && isNumber(egress) && egress < 2)
            issues.push({ path: ["traffic", "egressGateway", "replicas"], input: egress, message: "at least 2 in production" });
        return issues;
    },
};

export const operatorUisPrivate: ConfigCheck = {
    name: "operator-uis-private",
    description:
        "In production people sign in to the operator UIs through single sign-on (OIDC), never a shared password; OIDC needs its settings, and Grafana's role groups are allowed ones.",
    check(c) {
        const access = c.traffic?.operatorAccess ?? {};
        const mode = access.mode ?? (production(c) ? "oidc" : "basic-auth");
        if (c.traffic?.enabled === false) return [];
        if (production(c) && mode !== "oidc")
            return [
                {
                    path: ["traffic", "operatorAccess", "mode"],
                    input: mode,
                    message: "oidc in production (a shared password can silence every page)",
                },
            ];
        if (mode === "oidc" && access.oidc === undefined)
            return [
                {
                    path: ["traffic", "operatorAccess", "oidc"],
                    input: undefined,
                    message: "the identity provider's settings (issuer, jwksUri, clientId, clientSecret, allowedGroups)",
                },
            ];
        // A role group the gateway refuses would never reach Grafana.
        const allowed = new Set(Array.isArray(access.oidc?.allowedGroups) ? access.oidc.allowedGroups : []);
        const roles = access.oidc?.grafanaRoles ?? {};
        return (["admin", "editor"] as const).flatMap((role) =>
            (Array.isArray(roles[role]) ? roles[role] : []).flatMap((group: unknown, i: number) =>
                typeof group === "string" && !allowed.has(group)
                    ? [
                          {
                              path: ["traffic", "operatorAccess", "oidc", "grafanaRoles", role, i],
                              input: group,
                              message: `one of allowedGroups (${[...allowed].join(", ")}): the gateway lets no one else reach Grafana`,
                          },
                      ]
                    : [],
            ),
        );
    },
};

export const edgeReady: ConfigCheck = {
    name: "edge-ready",
    description: "In production the CDN serves the domain's aliases with an ACM certificate validated in the Route 53 zone.",
    check(c) {
        const cdn = c.traffic?.cdn;
        if (!production(c) || c.traffic?.enabled === false || cdn?.enabled !== true) return [];
        const issues: CheckIssue[] = [];
        if (!Array.isArray(cdn.aliases) || cdn.aliases.length === 0)
            issues.push({
                path: ["traffic", "cdn", "aliases"],
                input: cdn.aliases,
                message: "at least one domain name CloudFront serves in production",
            });
        if (cdn.hostedZoneId === undefined)
            issues.push({
                path: ["traffic", "cdn", "hostedZoneId"],
                input: undefined,
                message: "the Route 53 zone of the domain in production",
            });
        return issues;
    },
};

export const snapshotsStored: ConfigCheck = {
    name: "snapshots-stored",
    description:
        "Elasticsearch with more than one node snapshots to S3 (on EKS: finbot:cluster.name and finbot:network or a created cluster); a volume serves a single node only.",
    check(c) {
        const nodes = c.logging?.elasticsearch?.nodes;
        if (c.logging?.enabled === false || !isNumber(nodes) || nodes <= 1) return [];
        if ((c.network !== undefined || c.cluster?.mode === "create") && c.cluster?.name !== undefined) return [];
        return [
            {
                path: ["logging", "elasticsearch", "nodes"],
                input: nodes,
                message: "1 without an S3 snapshot repository (set finbot:network and finbot:cluster.name for one)",
            },
        ];
    },
};

export const pagesServed: ConfigCheck = {
    name: "pages-served",
    description: "Every measured page (finbot:traffic.pages) has a unique name and is served by a public service.",
    check(c) {
        const publicServices = new Set(
            listOf(c.services)
                .filter((s) => s.public !== false)
                .map((s) => s.name),
        );
        const seen = new Set<string>();
        return indexed(c.traffic?.pages).flatMap(([i, page]): CheckIssue[] => {
            const issues: CheckIssue[] = [];
            if (typeof page.service === "string" && !publicServices.has(page.service))
                issues.push({
                    path: ["traffic", "pages", i, "service"],
                    input: page.service,
                    message: `a public service (${[...publicServices].join(", ") || "none"})`,
                });
            if (typeof page.name === "string") {
                if (seen.has(page.name))
                    issues.push({ path: ["traffic", "pages", i, "name"], input: page.name, message: "a unique page name" });
                seen.add(page.name);
            }
            return issues;
        });
    },
};

export const tenTimesPeak: ConfigCheck = {
    name: "ten-times-peak",
    description: "In production every public service declares its measured capacity and can serve 10x its peak at maxReplicas.",
    check(c) {
        if (!production(c)) return [];
        return indexed(c.services).flatMap(([i, s]): CheckIssue[] => {
            const problem = capacityProblem(s);
            if (problem) return [{ path: ["services", i, "replicas", "max"], input: s.replicas?.max, message: problem }];
            if (s.public !== false && s.capacity === undefined)
                return [
                    {
                        path: ["services", i, "capacity"],
                        input: undefined,
                        message: "measured capacity (requestsPerSecondPerPod, peakRequestsPerSecond) for the 10x check in production",
                    },
                ];
            return [];
        });
    },
};

export const tenTimesFitsNodes: ConfigCheck = {
    name: "ten-times-fits-nodes",
    description:
        "In production with Karpenter, every service at the replicas 10x peak needs and every worker at maxReplicas fit under the services pool's limits.",
    check(c) {
        const cluster = c.cluster ?? {};
        const karpenter = nodeAutoscalerOf(cluster as ClusterConfig) === "karpenter";
        if (!production(c) || !karpenter || !cluster.servicesPool || !c.logging) return [];
        const workloads = [...listOf(c.services), ...listOf(c.workers)];
        // Only well-formed workloads are counted; the fields' own checks report the rest.
        const wellFormed = (w: { replicas?: { min?: unknown; max?: unknown }; resources?: { requests?: { memory?: unknown } } }) =>
            isNumber(w.replicas?.min) && isNumber(w.replicas?.max) && typeof w.resources?.requests?.memory === "string";
        if (!workloads.every(wellFormed) || !listOf(c.services).every((s) => s.scaling?.scaleUp)) return [];
        if (c.logging.enabled !== false && typeof c.logging.filebeat?.resources?.requests?.memory !== "string") return [];
        const lines = servicesAtTenTimes({ services: listOf(c.services), workers: listOf(c.workers), traffic: c.traffic } as never);
        // The pool's own fields are the schema's to check; here only its limits are read.
        const pool = cluster.servicesPool as ClusterConfig["servicesPool"];
        const problem = poolProblem(poolFit("services", pool, lines, perNodeRequests(c as never)), "10x peak");
        return problem ? [{ path: ["cluster", "servicesPool"], input: cluster.servicesPool, message: problem }] : [];
    },
};

export const tenTimesReads: ConfigCheck = {
    name: "ten-times-reads",
    description:
        "In production with Aurora, where reads per request and a reader's measured capacity are declared, the readers at their maximum serve 10x peak's reads.",
    check(c) {
        const a = c.database?.aurora;
        if (!production(c) || c.database?.mode !== "aurora" || !isNumber(a?.readQueriesPerSecondPerReader) || !isNumber(a?.readers?.max))
            return [];
        const reads = readQueriesAtTenTimes(listOf(c.services)) ?? 0;
        const capacity = a.readers.max * a.readQueriesPerSecondPerReader;
        if (reads <= capacity) return [];
        return [
            {
                path: ["database", "aurora", "readers", "max"],
                input: a.readers.max,
                message: `readers for ${CAPACITY_FACTOR}x peak's ${reads} read queries/s: ${a.readers.max} readers × ${a.readQueriesPerSecondPerReader} q/s = ${capacity} q/s; ${Math.ceil(reads / a.readQueriesPerSecondPerReader)} readers are needed`,
            },
        ];
    },
};

export const thirdPartiesMetered: ConfigCheck = {
    name: "third-parties-metered",
    description:
        "Every external API is a finbot:thirdParties entry reached through the metered egress gateway: names unique, callers that exist, Sentry listed when errors go to it, no service egress to a public address, the gateway (traffic) on.",
    check(c) {
        const issues: CheckIssue[] = [];
        const consumers = new Set([...listOf(c.services), ...listOf(c.workers)].map((x) => x.name));
        const seen = new Set<string>();
        const parties = indexed(c.thirdParties);
        for (const [i, party] of parties) {
            if (typeof party.name === "string") {
                if (seen.has(party.name))
                    issues.push({ path: ["thirdParties", i, "name"], input: party.name, message: "a unique provider name" });
                seen.add(party.name);
            }
            (Array.isArray(party.callers) ? party.callers : []).forEach((caller: unknown, k: number) => {
                if (typeof caller === "string" && !consumers.has(caller))
                    issues.push({
                        path: ["thirdParties", i, "callers", k],
                        input: caller,
                        message: `a service or worker of this stack (${[...consumers].join(", ") || "none"})`,
                    });
            });
        }
        if (parties.length > 0 && c.traffic?.enabled === false)
            issues.push({
                path: ["traffic", "enabled"],
                input: false,
                message: "true while finbot:thirdParties lists providers (the egress gateway is part of traffic)",
            });
        if (c.errorTracking?.enabled === true && !seen.has(SENTRY_PROVIDER))
            issues.push({
                path: ["thirdParties"],
                input: [...seen],
                message: `an entry named "${SENTRY_PROVIDER}" (its host, callers, price and budget) while finbot:errorTracking is on`,
            });
        for (const [i, service] of indexed(c.services))
            for (const [e, egress] of indexed(service.egress))
                if (typeof egress.cidr === "string" && isIpv4Cidr(egress.cidr) && reachesInternet(egress.cidr))
                    issues.push({
                        path: ["services", i, "egress", e, "cidr"],
                        input: egress.cidr,
                        message:
                            "a private range (VPN, peering): an API on the internet is a finbot:thirdParties entry, reached through the metered egress gateway",
                    });
        return issues;
    },
};

/** Every check, in the order their problems are reported. */
export const CONFIG_CHECKS: ConfigCheck[] = [
    uniqueServiceNames,
    imageKeysExist,
    productionServiceReplicas,
    productionMonitoring,
    grafanaStateInDatabase,
    runbooksLinked,
    workerScaling,
    workerQueueExists,
    awsNetworkKnown,
    auroraResilience,
    eksForAws,
    clusterCreated,
    networkPolicyEnforced,
    apiServerPrivate,
    deployRunnerReachesCluster,
    usesWhatExists,
    productionQuorums,
    gatewayReady,
    operatorUisPrivate,
    edgeReady,
    snapshotsStored,
    pagesServed,
    tenTimesPeak,
    tenTimesFitsNodes,
    tenTimesReads,
    thirdPartiesMetered,
];

/**
 * The whole stack config: its shape, then every check across keys. The checks run even when other
 * fields failed (`when`), so every problem is reported at once.
 */
export const checkedPlatformSchema = platformSchema.superRefine(
    (config, ctx) => {
        for (const check of CONFIG_CHECKS)
            // A config whose fields failed their own checks: any field may hold anything.
            for (const issue of check.check(config as unknown as LooseConfig))
                ctx.addIssue({ code: "custom", path: issue.path, input: issue.input, message: issue.message });
    },
    { when: () => true },
);
