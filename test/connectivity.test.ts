// What the NetworkPolicies of a plan allow, computed by NetworkPolicy semantics between every
// workload the plan runs (its own pod templates, and the pods operators and charts make from what
// the plan declares, with the labels they give them) and the outside (the internet, the VPC, the API
// server): every flow of the table (docs/network.md) is allowed at both ends, a must-deny list stays
// denied, and no policy selects pods that nothing runs.
import * as assert from "node:assert/strict";
import { platformFlows } from "../components/platform/networkFlows";
import { PlatformRun, perRun, revealSecrets, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
type Labels = Record<string, string>;

/** Pods of one kind: where they run, their labels, the ports they listen on, and their address. */
interface Workload {
    name: string;
    namespace: string;
    labels: Labels;
    ports: number[];
}
/** A destination outside the cluster's pods. */
interface External {
    name: string;
    ip: string;
    ports: number[];
}
type Endpoint = Workload | External;
const isPod = (e: Endpoint): e is Workload => "namespace" in e;

/** The inputs of a run's resources of a type, secrets revealed (made once per run and type; read-only). */
const revealedByType = perRun(() => new Map<string, Any[]>());
function inputsOf(run: PlatformRun, suffix: string): Any[] {
    const byType = revealedByType(run);
    if (!byType.has(suffix))
        byType.set(
            suffix,
            run.resources.filter((r) => r.type.endsWith(suffix)).map((r) => revealSecrets(r.inputs) as Any),
        );
    return byType.get(suffix)!;
}
/** A release of the chart `name` (by name, or an OCI reference ending in it). */
const chart = (run: PlatformRun, name: string): Any | undefined =>
    inputsOf(run, ":Release").find((r) => String(r.chart).split("/").pop() === name);

/** The pods a plan runs: its own pod templates, and those operators and charts make from it. */
function workloads(run: PlatformRun): Workload[] {
    const own = run.resources.flatMap((r) => {
        const spec = (revealSecrets(r.inputs) as Any).spec;
        const template =
            r.type === "kubernetes:batch/v1:CronJob"
                ? spec?.jobTemplate?.spec?.template
                : /:(apps\/v1:(Deployment|StatefulSet|DaemonSet)|batch\/v1:Job)$/.test(r.type)
                  ? spec?.template
                  : undefined;
        if (!template) return [];
        const meta = (revealSecrets(r.inputs) as Any).metadata;
        const ports = template.spec.containers.flatMap((c: Any) => (c.ports ?? []).map((p: Any) => p.containerPort));
        return [{ name: `${meta.namespace}/${meta.name}`, namespace: meta.namespace, labels: template.metadata?.labels ?? {}, ports }];
    });
    const made: Workload[] = [];
    const add = (name: string, namespace: string, labels: Labels, ports: number[]) => made.push({ name, namespace, labels, ports });
    const kps = chart(run, "kube-prometheus-stack");
    if (kps) {
        // Behind the gateway each UI also listens on its TLS front (8443).
        add("prometheus", kps.namespace, { "app.kubernetes.io/name": "prometheus" }, [9090, 8443]);
        add("alertmanager", kps.namespace, { "app.kubernetes.io/name": "alertmanager" }, [9093, 8443]);
        add("grafana", kps.namespace, { "app.kubernetes.io/name": "grafana" }, [3000, 8443]);
        add("kube-state-metrics", kps.namespace, { "app.kubernetes.io/name": "kube-state-metrics" }, [8080]);
    }
    for (const [name, labels, ports] of [
        ["prometheus-blackbox-exporter", { "app.kubernetes.io/name": "prometheus-blackbox-exporter" }, [9115]],
        ["opencost", { "app.kubernetes.io/name": "opencost" }, [9003]],
        ["cert-manager", { "app.kubernetes.io/instance": "cert-manager" }, [9402]],
        ["gateway-helm", { "control-plane": "envoy-gateway" }, [18000, 9443, 19001]],
        ["gateway-helm", { app: "certgen" }, []],
        ["karpenter", { "app.kubernetes.io/name": "karpenter" }, [8080]],
        ["prometheus-adapter", { "app.kubernetes.io/name": "prometheus-adapter" }, [6443]],
        ["keda", { "app.kubernetes.io/name": "keda-operator" }, [8080]],
        ["prometheus-elasticsearch-exporter", { "app.kubernetes.io/name": "prometheus-elasticsearch-exporter" }, [9108]],
    ] as const) {
        const release = chart(run, name);
        if (release) add(name, release.namespace, labels, [...ports]);
    }
    // The operator's selector labels on a Prometheus CR's pods (prometheus-operator v0.93 makeSelectorLabels).
    for (const p of inputsOf(run, "monitoring.coreos.com/v1:Prometheus"))
        add(
            `prometheus ${p.metadata.name}`,
            p.metadata.namespace,
            {
                "app.kubernetes.io/name": "prometheus",
                "app.kubernetes.io/instance": p.metadata.name,
                "operator.prometheus.io/name": p.metadata.name,
                prometheus: p.metadata.name,
            },
            [9090],
        );
    for (const c of inputsOf(run, "postgresql.cnpg.io/v1:Cluster"))
        add(`cnpg ${c.metadata.name}`, c.metadata.namespace, { "cnpg.io/cluster": c.metadata.name }, [5432, 9187]);
    for (const p of inputsOf(run, "postgresql.cnpg.io/v1:Pooler"))
        add(`pooler ${p.metadata.name}`, p.metadata.namespace, { "cnpg.io/poolerName": p.metadata.name }, [5432, 9127]);
    for (const q of inputsOf(run, "rabbitmq.com/v1beta1:RabbitmqCluster"))
        add(`rabbitmq ${q.metadata.name}`, q.metadata.namespace, { "app.kubernetes.io/name": q.metadata.name }, [5671, 15671, 15691]);
    for (const [suffix, type, ports] of [
        ["elasticsearch.k8s.elastic.co/v1:Elasticsearch", "elasticsearch", [9200, 9300]],
        ["kibana.k8s.elastic.co/v1:Kibana", "kibana", [5601]],
        ["logstash.k8s.elastic.co/v1alpha1:Logstash", "logstash", [5044, 9600]],
        ["apm.k8s.elastic.co/v1:ApmServer", "apm-server", [8200]],
        ["beat.k8s.elastic.co/v1beta1:Beat", "beat", []],
    ] as const)
        for (const o of inputsOf(run, suffix))
            add(`${type} ${o.metadata.name}`, o.metadata.namespace, { "common.k8s.elastic.co/type": type }, [...ports]);
    const traffic = run.config.namespaces.traffic;
    // Envoy Gateway listens on a listener's port, shifted by 10000 below 1024 (v1.9 internal/gatewayapi/listener.go),
    // and serves Envoy's metrics on 19001.
    for (const g of inputsOf(run, "gateway.networking.k8s.io/v1:Gateway"))
        add(
            `proxies of ${g.metadata.name}`,
            traffic,
            {
                "app.kubernetes.io/component": "proxy",
                "app.kubernetes.io/managed-by": "envoy-gateway",
                "gateway.envoyproxy.io/owning-gateway-name": g.metadata.name,
            },
            [...g.spec.listeners.map((l: Any) => (l.port < 1024 ? l.port + 10000 : l.port)), 19001],
        );
    add("kube-dns", "kube-system", { "k8s-app": "kube-dns" }, [53, 9153]);
    return [...own, ...made];
}

/** Where pods get their addresses: the VPC (the VPC CNI in prod), kind's pod network on a laptop. */
const podIp = (run: PlatformRun) => (run.config.network?.vpcCidr || run.config.cluster.vpcCidr ? "10.0.77.7" : "10.244.1.7");

function ipToNumber(ip: string): number {
    return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}
function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    const start = Math.floor(ipToNumber(base) / size) * size;
    return ipToNumber(ip) >= start && ipToNumber(ip) < start + size;
}
/** A label selector's verdict: matchLabels, and matchExpressions by the Kubernetes operators. */
const matches = (selector: Any, labels: Labels) =>
    Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (selector?.matchExpressions ?? []).every((e: Any) => {
        switch (e.operator) {
            case "In":
                return e.values.includes(labels[e.key]);
            case "NotIn":
                return !e.values.includes(labels[e.key]);
            case "Exists":
                return e.key in labels;
            case "DoesNotExist":
                return !(e.key in labels);
            default:
                throw new Error(`unknown selector operator ${e.operator}`);
        }
    });

/** Whether a NetworkPolicy peer admits `other` (a pod of some namespace, or an address), seen from a policy in `namespace`. */
function peerAdmits(peer: Any, namespace: string, other: Endpoint, run: PlatformRun): boolean {
    if (peer.ipBlock) {
        const ip = isPod(other) ? podIp(run) : other.ip;
        return inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => inCidr(ip, c));
    }
    if (!isPod(other)) return false;
    const namespaceOk = peer.namespaceSelector
        ? matches(peer.namespaceSelector, { "kubernetes.io/metadata.name": other.namespace })
        : other.namespace === namespace;
    return namespaceOk && (!peer.podSelector || matches(peer.podSelector, other.labels));
}

/** Whether the policies of `pod`'s namespace let `pod` send to (egress) or receive from (ingress) `other` on `port`. */
function side(run: PlatformRun, pod: Workload, direction: "Ingress" | "Egress", other: Endpoint, port: number): boolean {
    const policies = inputsOf(run, "networking.k8s.io/v1:NetworkPolicy").filter(
        (p) => p.metadata.namespace === pod.namespace && p.spec.policyTypes.includes(direction) && matches(p.spec.podSelector, pod.labels),
    );
    // A namespace the platform does not govern (kube-system) isolates nothing.
    if (policies.length === 0) return true;
    return policies.some((p) =>
        (direction === "Ingress" ? (p.spec.ingress ?? []) : (p.spec.egress ?? [])).some((rule: Any) => {
            const peers = direction === "Ingress" ? rule.from : rule.to;
            const portOk = !rule.ports || rule.ports.some((x: Any) => x.port === port || x.port === undefined);
            return portOk && (!peers || peers.some((peer: Any) => peerAdmits(peer, pod.namespace, other, run)));
        }),
    );
}

/** Whether a connection from `from` to `to` on `port` gets through both ends' policies. */
function allowed(run: PlatformRun, from: Workload, to: Endpoint, port: number): boolean {
    return side(run, from, "Egress", to, port) && (!isPod(to) || side(run, to, "Ingress", from, port));
}

describe("connectivity, computed from the plans' NetworkPolicies", () => {
    for (const stack of ["dev", "prod"] as const) {
        describe(stack, () => {
            let run: PlatformRun;
            let pods: Workload[];
            const pod = (name: string): Workload => {
                const found = pods.find((w) => w.name === name || w.name.endsWith(`/${name}`));
                assert.ok(found, `no workload ${name} in ${stack}: ${pods.map((w) => w.name).join(", ")}`);
                return found;
            };
            const external = (name: string, ip: string): External => ({ name, ip, ports: [] });
            /** The connections of `list` whose verdict is not `expected`, named. */
            const otherThan = (list: Array<[Workload, Endpoint, number]>, expected: boolean) =>
                list
                    .filter(([from, to, port]) => allowed(run, from, to, port) !== expected)
                    .map(([f, t, p]) => `${f.name} -> ${t.name}:${p}`);
            const INTERNET = external("the internet", "93.184.216.34");
            before(async () => {
                run = await runStack(stack);
                pods = workloads(run);
            });

            it("no policy selects pods that nothing runs, on either end", () => {
                const unmatched: string[] = [];
                for (const policy of inputsOf(run, "networking.k8s.io/v1:NetworkPolicy")) {
                    const ns = policy.metadata.namespace;
                    const here = pods.filter((w) => w.namespace === ns);
                    if (here.length > 0 && !here.some((w) => matches(policy.spec.podSelector, w.labels)))
                        unmatched.push(`${ns}/${policy.metadata.name}: ${JSON.stringify(policy.spec.podSelector)}`);
                    for (const rule of [...(policy.spec.ingress ?? []), ...(policy.spec.egress ?? [])])
                        for (const peer of rule.from ?? rule.to ?? [])
                            if (peer.podSelector && !pods.some((w) => peerAdmits(peer, ns, w, run)))
                                unmatched.push(`${ns}/${policy.metadata.name} peer ${JSON.stringify(peer)}`);
                }
                assert.deepEqual(unmatched, []);
            });

            it("every flow of the table is allowed at both ends, between pods it names", () => {
                const missing: string[] = [];
                for (const ns of platformFlows(run.config)) {
                    for (const flow of ns.flows) {
                        const selects = (labels?: Labels, except?: { key: string; values: string[] }) => ({
                            matchLabels: labels ?? {},
                            matchExpressions: except ? [{ key: except.key, operator: "NotIn", values: except.values }] : [],
                        });
                        const own = pods.filter((w) => w.namespace === ns.namespace && matches(selects(flow.pods, flow.except), w.labels));
                        for (const peer of flow.peers) {
                            if ("cidrs" in peer) continue; // addresses: one end only, checked below per destination
                            const others = pods.filter(
                                (w) => w.namespace === peer.namespace && matches(selects(peer.pods, peer.except), w.labels),
                            );
                            for (const a of own)
                                for (const b of others) {
                                    const [from, to] = flow.direction === "egress" ? [a, b] : [b, a];
                                    // A flow names peers and ports together: each destination on the ports it listens on.
                                    const flowPorts = flow.ports?.map((p) => (typeof p === "number" ? p : p.port));
                                    const ports = flowPorts ? flowPorts.filter((p) => to.ports.includes(p)) : to.ports;
                                    for (const port of ports)
                                        if (!allowed(run, from, to, port))
                                            missing.push(`${ns.namespace} ${flow.name}: ${from.name} -> ${to.name}:${port}`);
                                }
                        }
                    }
                }
                assert.deepEqual(missing, []);
            });

            it("FinBot's services reach their stores, APM and DNS, and are reached by their gateway and Prometheus", () => {
                const api = pod("api");
                const reach: Array<[Workload, Endpoint, number]> = [
                    [api, pod("kube-dns"), 53],
                    [api, pod("apm-server apm"), 8200],
                    [api, pod("rabbitmq finbot-queue"), 5671],
                    [pod("settlement-worker"), pod("rabbitmq finbot-queue"), 5671],
                    [pod("prometheus"), api, 9898],
                    [pod("proxies of finbot"), api, 8443],
                    [pod("grafana"), pod("elasticsearch logs"), 9200],
                    [pod("prometheus"), pod("grafana"), 8443],
                    [pod("apm-server apm"), pod("kibana logs"), 5601],
                    [pod("grafana"), pod("prometheus"), 9090],
                    [pod("grafana"), pod("alertmanager"), 9093],
                    [pod("page-check-home"), pod("prometheus checks-receiver"), 9090],
                    [pod("prometheus"), pod("prometheus checks-receiver"), 9090],
                    ...(stack === "dev"
                        ? ([
                              [api, pod("pooler finbot-db-pooler-rw"), 5432],
                              [api, pod("redis"), 6379],
                          ] as Array<[Workload, Endpoint, number]>)
                        : ([
                              [api, external("Aurora through RDS Proxy", "10.0.130.20"), 5432],
                              [pod("grafana"), external("Grafana's database through RDS Proxy", "10.0.130.20"), 5432],
                              [pod("proxies of finbot-internal"), pod("grafana"), 8443],
                              [pod("proxies of finbot-internal"), pod("prometheus"), 8443],
                              [pod("proxies of finbot-internal"), pod("alertmanager"), 8443],
                          ] as Array<[Workload, Endpoint, number]>)),
                ];
                assert.deepEqual(otherThan(reach, true), [], "refused");
            });

            it("keeps denied what must be: an app never reaches the logs, the operator UIs, RabbitMQ's management API, or Prometheus", () => {
                const api = pod("api");
                const mustDeny: Array<[Workload, Endpoint, number]> = [
                    [api, pod("elasticsearch logs"), 9200],
                    [api, pod("kibana logs"), 5601],
                    [api, pod("rabbitmq finbot-queue"), 15671],
                    [api, pod("prometheus"), 9090],
                    [api, pod("grafana"), 3000],
                    [api, pod("grafana"), 8443],
                    // The gateway reaches the UIs at their TLS fronts only, never their plain ports.
                    [pod(stack === "prod" ? "proxies of finbot-internal" : "proxies of finbot"), pod("grafana"), 3000],
                    [pod(stack === "prod" ? "proxies of finbot-internal" : "proxies of finbot"), pod("prometheus"), 9090],
                    [api, pod("alertmanager"), 9093],
                    [pod("settlement-worker"), pod("prometheus"), 9090],
                    // The UIs admit their gateway and what they serve only, not their namespace's other pods.
                    [pod("prometheus-blackbox-exporter"), pod("grafana"), 3000],
                    [pod("alertmanager"), pod("grafana"), 3000],
                    [pod("logstash logs"), pod("kibana logs"), 5601],
                    [pod("elasticsearch logs"), pod("kibana logs"), 5601],
                    // Grafana reads its data sources only: not the apps, not the data tier, not its namespace's
                    // other pods (the blackbox exporter would fetch any URL for it).
                    [pod("grafana"), api, 9898],
                    [pod("grafana"), pod("prometheus-blackbox-exporter"), 9115],
                    [pod("grafana"), pod("kube-state-metrics"), 8080],
                    [pod("grafana"), pod("opencost"), 9003],
                    [pod("grafana"), pod("rabbitmq finbot-queue"), 5671],
                    // The page checks write into their receiver and load pages; nothing else.
                    [pod("page-check-home"), pod("elasticsearch logs"), 9200],
                    // Nobody reaches the platform's Prometheus to write (it accepts no writes anyway), nor the checks' receiver.
                    [pod("page-check-home"), pod("prometheus"), 9090],
                    [api, pod("prometheus checks-receiver"), 9090],
                    [pod("grafana"), pod("prometheus checks-receiver"), 9090],
                    [pod("kibana logs"), pod("rabbitmq finbot-queue"), 5671],
                    ...(stack === "dev"
                        ? ([
                              [pod("grafana"), pod("pooler finbot-db-pooler-rw"), 5432],
                              [pod("kibana logs"), pod("pooler finbot-db-pooler-rw"), 5432],
                          ] as Array<[Workload, Endpoint, number]>)
                        : ([
                              // The public gateway never reaches the operator UIs; only the internal one does.
                              [pod("proxies of finbot"), pod("grafana"), 3000],
                              // Of the autoscaling namespace only prometheus-adapter reaches Prometheus (it could write series too).
                              [pod("karpenter"), pod("prometheus"), 9090],
                              [pod("proxies of finbot"), pod("kibana logs"), 5601],
                          ] as Array<[Workload, Endpoint, number]>)),
                ];
                assert.deepEqual(otherThan(mustDeny, false), [], "allowed");
            });

            it("Prometheus scrapes on the ports its monitors name, and reaches nothing else of the pods it scrapes", () => {
                const prometheus = pod("prometheus");
                const scrapes: Array<[Workload, Endpoint, number]> = [
                    [prometheus, pod("api"), 9898],
                    [prometheus, pod("rabbitmq finbot-queue"), 15691],
                    [prometheus, pod("prometheus-elasticsearch-exporter"), 9108],
                    [prometheus, pod("cert-manager"), 9402],
                    [prometheus, pod("proxies of finbot-egress"), 19001],
                    [prometheus, pod("prometheus checks-receiver"), 9090],
                    [prometheus, pod("kube-dns"), 9153],
                    ...(stack === "dev"
                        ? ([
                              [prometheus, pod("cnpg finbot-db"), 9187],
                              [prometheus, pod("pooler finbot-db-pooler-rw"), 9127],
                              [prometheus, pod("redis"), 9121],
                          ] as Array<[Workload, Endpoint, number]>)
                        : ([
                              [prometheus, pod("postgres-exporter-writer"), 9187],
                              [prometheus, pod("redis-exporter"), 9121],
                              [prometheus, pod("karpenter"), 8080],
                          ] as Array<[Workload, Endpoint, number]>)),
                ];
                const beyond: Array<[Workload, Endpoint, number]> = [
                    [prometheus, pod("rabbitmq finbot-queue"), 5671],
                    [prometheus, pod("rabbitmq finbot-queue"), 15671],
                    [prometheus, pod("elasticsearch logs"), 9200],
                    [prometheus, pod("kibana logs"), 5601],
                    [prometheus, pod("proxies of finbot"), 10443],
                    [prometheus, pod("proxies of finbot-egress"), 11000],
                    [prometheus, INTERNET, 443],
                    ...(stack === "dev"
                        ? ([
                              [prometheus, pod("cnpg finbot-db"), 5432],
                              [prometheus, pod("pooler finbot-db-pooler-rw"), 5432],
                              [prometheus, pod("redis"), 6379],
                          ] as Array<[Workload, Endpoint, number]>)
                        : []),
                ];
                assert.deepEqual(otherThan(scrapes, true), [], "refused");
                assert.deepEqual(otherThan(beyond, false), [], "allowed");
            });

            it("apps reach a third party only through the egress gateway, each caller only its own providers' listeners", () => {
                const egress = pod("proxies of finbot-egress");
                const portOf = (provider: string) => {
                    const index = run.config.thirdParties.findIndex((p) => p.name === provider);
                    assert.ok(index >= 0, `${stack} has no provider ${provider}`);
                    return egress.ports[index];
                };
                const worker = pod("settlement-worker");
                // After the third parties, in prod (single sign-on): the identity provider's keys, for Grafana alone.
                const keysPort = egress.ports[run.config.thirdParties.length];
                const reach: Array<[Workload, Endpoint, number]> = [
                    [pod("api"), egress, portOf("llm")],
                    [egress, INTERNET, 443],
                    ...(stack === "prod"
                        ? ([
                              [pod("grafana"), egress, keysPort],
                              [pod("api"), egress, portOf("sentry")],
                              [worker, egress, portOf("sentry")],
                              [worker, egress, portOf("payments")],
                          ] as Array<[Workload, Endpoint, number]>)
                        : []),
                ];
                const deny: Array<[Workload, Endpoint, number]> = [
                    ...[pod("api"), worker].flatMap((app): Array<[Workload, Endpoint, number]> => [
                        [app, INTERNET, 443],
                        [app, INTERNET, 80],
                    ]),
                    // Not a caller of the LLM: the worker cannot reach its listener.
                    [worker, egress, portOf("llm")],
                    [pod("kibana logs"), egress, portOf("llm")],
                    // The egress proxies reach the providers, not the cluster's stores.
                    [egress, pod("elasticsearch logs"), 9200],
                    // Nothing of the traffic namespace itself reaches the egress listeners: only the providers' callers do.
                    [pod("cert-manager"), egress, portOf("llm")],
                    [pod("proxies of finbot"), egress, portOf("llm")],
                    // The public gateway's proxies never reach the internet.
                    [pod("proxies of finbot"), INTERNET, 443],
                    // Grafana reaches no provider, and the internet not at all.
                    [pod("grafana"), egress, portOf("llm")],
                    [pod("grafana"), INTERNET, 443],
                    ...(stack === "prod"
                        ? ([
                              [pod("api"), egress, portOf("payments")],
                              [pod("api"), egress, keysPort],
                              [pod("prometheus"), egress, keysPort],
                          ] as Array<[Workload, Endpoint, number]>)
                        : []),
                ];
                assert.deepEqual(otherThan(reach, true), [], "refused");
                assert.deepEqual(otherThan(deny, false), [], "allowed");
            });
        });
    }
});
