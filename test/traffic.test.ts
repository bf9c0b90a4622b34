import * as assert from "node:assert/strict";
import { Footprint } from "../components/lib/footprint";
import { capacityProblem, capacityReport, scaleUpTime } from "../components/config/capacity";
import { PlatformConfig, ServiceConfig } from "../components/config/schema";
import { PriceTable, estimateCost, k6Thresholds, serviceRouteRules, thirdPartySpend } from "../components/traffic";
import { PlatformRun, loadStackConfig, revealSecrets, runPlatform, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const GW = (kind: string) => `kubernetes:gateway.networking.k8s.io/v1:${kind}`;
const EG = (kind: string) => `kubernetes:gateway.envoyproxy.io/v1alpha1:${kind}`;
const inputs = (run: PlatformRun, type: string, name: string): Any => run.get(type, name).inputs;

function withService(config: PlatformConfig, edit: (s: ServiceConfig) => ServiceConfig): PlatformConfig {
    return { ...config, services: config.services.map(edit) };
}

describe("traffic", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
    });

    it("installs pinned Envoy Gateway and cert-manager, then a Gateway with HTTPS (and, without the CDN, an HTTP redirect)", () => {
        for (const run of [dev, prod]) {
            const eg = inputs(run, "kubernetes:helm.sh/v3:Release", "finbot-traffic-envoy-gateway");
            assert.deepEqual([eg.chart, eg.version], ["oci://docker.io/envoyproxy/gateway-helm", "v1.9.0"]);
            const cm = inputs(run, "kubernetes:helm.sh/v3:Release", "finbot-traffic-cert-manager");
            assert.deepEqual([cm.version, cm.values.crds.enabled], ["v1.21.1", true]);
            const gateway = inputs(run, GW("Gateway"), "finbot-traffic-gateway").spec;
            // Behind CloudFront (prod) the origin listens on 443 only: CloudFront redirects to HTTPS itself.
            assert.deepEqual(
                gateway.listeners.map((l: Any) => `${l.name}:${l.protocol}:${l.port}`),
                run === prod ? ["https:HTTPS:443"] : ["http:HTTP:80", "https:HTTPS:443"],
            );
            assert.deepEqual(gateway.listeners.at(-1).tls, {
                mode: "Terminate",
                certificateRefs: [{ kind: "Secret", name: "finbot-gateway-tls" }],
            });
            const releaseUrn = run.get("kubernetes:helm.sh/v3:Release", "finbot-traffic-envoy-gateway").urn;
            assert.ok(run.get(GW("Gateway"), "finbot-traffic-gateway").dependsOn.includes(releaseUrn));
        }
    });

    it("prod runs two of Envoy Gateway, cert-manager's controller and its webhook, each under a disruption budget; dev one of each without", () => {
        const cm = inputs(prod, "kubernetes:helm.sh/v3:Release", "finbot-traffic-cert-manager").values;
        assert.deepEqual([cm.replicaCount, cm.podDisruptionBudget], [2, { enabled: true, minAvailable: 1 }]);
        assert.deepEqual([cm.webhook.replicaCount, cm.webhook.podDisruptionBudget], [2, { enabled: true, minAvailable: 1 }]);
        const devCm = inputs(dev, "kubernetes:helm.sh/v3:Release", "finbot-traffic-cert-manager").values;
        assert.deepEqual(
            [devCm.replicaCount, devCm.podDisruptionBudget.enabled, devCm.webhook.podDisruptionBudget.enabled],
            [1, false, false],
        );
    });

    it("issues certificates with ACME in prod and self-signed in dev, for every routed hostname", () => {
        // CloudFront reaches the origin over HTTPS only: prod answers ACME with DNS-01 in its zone, through cert-manager's pod identity.
        assert.deepEqual(inputs(prod, "kubernetes:cert-manager.io/v1:ClusterIssuer", "finbot-traffic-issuer").spec.acme.solvers, [
            { dns01: { route53: { region: "eu-central-1", hostedZoneID: "ZREPLACE_ME" } } },
        ]);
        const dnsPolicy = JSON.parse(inputs(prod, "aws:iam/rolePolicy:RolePolicy", "finbot-traffic-cert-manager-dns").policy);
        assert.deepEqual(dnsPolicy.Statement[0].Resource, ["arn:aws:route53:::hostedzone/ZREPLACE_ME"]);
        assert.deepEqual(dnsPolicy.Statement[0].Condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"], [
            "TXT",
        ]);
        assert.deepEqual(inputs(dev, "kubernetes:cert-manager.io/v1:ClusterIssuer", "finbot-traffic-issuer").spec, { selfSigned: {} });
        const names = inputs(dev, "kubernetes:cert-manager.io/v1:Certificate", "finbot-traffic-certificate").spec.dnsNames;
        assert.deepEqual(names, [
            "api.finbot.localtest.me",
            "grafana.finbot.localtest.me",
            "prometheus.finbot.localtest.me",
            "alertmanager.finbot.localtest.me",
            "kibana.finbot.localtest.me",
            "rum.finbot.localtest.me",
        ]);
    });

    it("serves every host an HTTPS route answers on with the gateway's certificate, in both stacks", () => {
        for (const run of [dev, prod]) {
            const names = inputs(run, "kubernetes:cert-manager.io/v1:Certificate", "finbot-traffic-certificate").spec.dnsNames as string[];
            // Routes on the HTTPS listeners (the HTTP listener only redirects).
            const hosts = run
                .ofType(GW("HTTPRoute"))
                .filter((r) => (r.inputs as Any).spec.parentRefs.some((p: Any) => p.sectionName === "https"))
                .flatMap((r) => (r.inputs as Any).spec.hostnames ?? []);
            assert.ok(hosts.length > 0);
            assert.deepEqual(
                hosts.filter((h: string) => !names.includes(h)),
                [],
                run.stack,
            );
        }
    });

    it("names the gateway's Service in staging only: renaming it in production would replace its load balancer", () => {
        const service = (run: PlatformRun) => inputs(run, EG("EnvoyProxy"), "finbot-traffic-proxy").spec.provider.kubernetes.envoyService;
        assert.equal(service(dev).name, "envoy-finbot");
        assert.equal(service(prod).name, undefined);
    });

    it("in prod: an internet-facing NLB that admits only CloudFront, and an internal NLB for the operator UIs", () => {
        const service = (run: PlatformRun, name = "finbot-traffic-proxy") =>
            inputs(run, EG("EnvoyProxy"), name).spec.provider.kubernetes.envoyService;
        assert.equal(service(prod).annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internet-facing");
        assert.equal(service(prod).annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip");
        assert.match(service(prod).annotations["service.beta.kubernetes.io/aws-load-balancer-security-group-prefix-lists"], /^pl-/);
        assert.equal(
            service(prod, "finbot-traffic-internal-proxy").annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"],
            "internal",
        );
        assert.deepEqual(service(dev).annotations, {});
        assert.deepEqual(
            dev.ofType(EG("EnvoyProxy")).map((p) => p.name),
            ["finbot-traffic-proxy", "finbot-traffic-egress-proxy"],
            "dev: the public gateway and the egress gateway",
        );
        assert.equal(inputs(prod, EG("EnvoyProxy"), "finbot-traffic-proxy").spec.provider.kubernetes.envoyDeployment.replicas, 3);
    });

    it("both stacks plan the metered egress gateway: a TLS listener per provider, its host verified, rate limit and circuit breaker", () => {
        for (const run of [dev, prod]) {
            const providers = run.config.thirdParties;
            assert.ok(providers.length > 0, `${run.config.environment} lists third parties`);
            const eg = inputs(run, "kubernetes:helm.sh/v3:Release", "finbot-traffic-envoy-gateway");
            assert.equal(eg.values.config.envoyGateway.extensionApis.enableBackend, true, "Envoy Gateway's Backend API is on");
            const proxy = inputs(run, EG("EnvoyProxy"), "finbot-traffic-egress-proxy").spec.provider.kubernetes;
            assert.deepEqual(proxy.envoyService, { name: "envoy-finbot-egress", type: "ClusterIP" }, "in the cluster only");
            assert.equal(proxy.envoyDeployment.replicas, run === prod ? 2 : 1);
            const gateway = inputs(run, GW("Gateway"), "finbot-traffic-egress-gateway").spec;
            assert.deepEqual(
                gateway.listeners.map((l: Any) => [
                    l.name,
                    l.protocol,
                    l.port,
                    l.tls.certificateRefs[0].name,
                    l.allowedRoutes.namespaces.from,
                ]),
                // The third parties in order; in prod (single sign-on) then the identity provider's keys for Grafana.
                [...providers.map((p) => p.name), ...(run === prod ? ["identity-provider"] : [])].map((name, i) => [
                    name,
                    "HTTPS",
                    11000 + i,
                    "finbot-egress-tls",
                    "Same",
                ]),
            );
            const certificate = inputs(run, "kubernetes:cert-manager.io/v1:Certificate", "finbot-traffic-egress-certificate").spec;
            assert.ok(certificate.dnsNames.includes("envoy-finbot-egress.finbot-traffic.svc"));
            assert.equal(certificate.issuerRef.name, "finbot-internal-ca");
            for (const p of providers) {
                const backend = inputs(run, EG("Backend"), `finbot-traffic-egress-${p.name}-backend`).spec;
                assert.deepEqual(backend.endpoints, [{ fqdn: { hostname: p.host, port: 443 } }]);
                assert.deepEqual(backend.tls, { wellKnownCACertificates: "System", sni: p.host, minVersion: "1.2" });
                const rule = inputs(run, GW("HTTPRoute"), `finbot-traffic-egress-${p.name}-route`).spec.rules[0];
                assert.deepEqual(rule.filters, [{ type: "URLRewrite", urlRewrite: { hostname: p.host } }]);
                assert.deepEqual(rule.backendRefs, [{ group: "gateway.envoyproxy.io", kind: "Backend", name: `egress-${p.name}` }]);
                assert.equal(rule.timeouts.request, p.timeout);
                const policy = inputs(run, EG("BackendTrafficPolicy"), `finbot-traffic-egress-${p.name}-policy`).spec;
                assert.deepEqual(policy.rateLimit.local.rules[0].limit, { requests: p.rateLimitPerSecond, unit: "Second" });
                assert.equal(policy.circuitBreaker.maxParallelRequests, p.maxConcurrentRequests);
                // A call that reached the provider is never repeated unless its API is idempotent.
                assert.equal(policy.retry.numRetries, p.idempotent ? 2 : 0, p.name);
            }
        }
        const retried = (name: string) =>
            inputs(prod, EG("BackendTrafficPolicy"), `finbot-traffic-egress-${name}-policy`).spec.retry.numRetries > 0;
        assert.deepEqual([retried("sentry"), retried("payments")], [true, false], "Sentry's envelopes are retried, payments never");
    });

    it("hands each caller the gateway's URL of its providers only, and nobody else", () => {
        const data = (run: PlatformRun, consumer: string) =>
            (revealSecrets(run.get("kubernetes:core/v1:Secret", `finbot-${consumer}-third-parties`).inputs) as Any).stringData;
        assert.deepEqual(data(prod, "api"), {
            THIRD_PARTY_SENTRY_URL: "https://envoy-finbot-egress.finbot-traffic.svc:11000",
            THIRD_PARTY_LLM_URL: "https://envoy-finbot-egress.finbot-traffic.svc:11002",
        });
        assert.deepEqual(data(prod, "settlement-worker"), {
            THIRD_PARTY_SENTRY_URL: "https://envoy-finbot-egress.finbot-traffic.svc:11000",
            THIRD_PARTY_PAYMENTS_URL: "https://envoy-finbot-egress.finbot-traffic.svc:11001",
        });
        assert.equal(
            dev.resources.find((r) => r.name === "finbot-settlement-worker-third-parties"),
            undefined,
            "dev's worker calls nobody",
        );
        const envFrom = (inputs(prod, "kubernetes:apps/v1:Deployment", "finbot-api") as Any).spec.template.spec.containers[0].envFrom;
        assert.ok(
            envFrom.some((e: Any) => e.secretRef?.name === "api-third-parties"),
            "the api reads its URLs",
        );
    });

    it("the egress gateway's PodMonitor keeps every Envoy metric the third-party rules and dashboard read, under a sample limit", () => {
        for (const run of [dev, prod]) {
            const monitor = inputs(run, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "finbot-traffic-egress-monitor").spec;
            const endpoint = monitor.podMetricsEndpoints[0];
            assert.deepEqual([endpoint.port, endpoint.path], ["metrics", "/stats/prometheus"]);
            // Prometheus anchors a relabelling regex at both ends.
            const kept = new RegExp(`^(?:${endpoint.metricRelabelings[0].regex})$`);
            const read = new Set(
                run
                    .ofType("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
                    .flatMap((r) => (r.inputs as Any).spec.groups.flatMap((g: Any) => g.rules.map((x: Any) => x.expr as string)))
                    .flatMap((expr) => expr.match(/\benvoy_[a-z_]+(?=[{[])/g) ?? []),
            );
            assert.ok(read.size >= 6, [...read].join(", "));
            assert.deepEqual(
                [...read].filter((name) => !kept.test(name)),
                [],
            );
            assert.ok(monitor.sampleLimit > 0 && monitor.labelLimit > 0);
        }
    });

    it("without the gateway the data tier and logging still get their certificates: the PKI runs on its own in the traffic namespace", async () => {
        const base = loadStackConfig("dev").config;
        const run = await runPlatform({ ...base, traffic: { ...base.traffic, enabled: false, pages: [] }, thirdParties: [] }, "dev");
        assert.equal(run.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.name === "finbot-traffic-envoy-gateway").length, 0);
        const certManager = inputs(run, "kubernetes:helm.sh/v3:Release", "finbot-traffic-cert-manager");
        assert.equal(certManager.values.config, undefined, "no Gateway API solver without the Gateway API");
        assert.equal(
            inputs(run, "kubernetes:cert-manager.io/v1:ClusterIssuer", "finbot-traffic-internal-issuer").metadata.name,
            "finbot-internal-ca",
        );
        assert.ok(run.get("kubernetes:cert-manager.io/v1:Certificate", "finbot-logging-kibana-tls"));
        // The traffic namespace holds cert-manager alone: its flows, none of the proxies'.
        const policies = run
            .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .map((p) => p.inputs as Any)
            .filter((p) => p.metadata.namespace === "finbot-traffic")
            .map((p) => p.metadata.name);
        assert.ok(policies.includes("allow-cert-manager-api-server"));
        assert.ok(!policies.some((n) => /public-in|to-backends|to-operator-uis/.test(n)), policies.join(", "));
    });

    it("routes each public service with a timeout, retries and a rate limit", () => {
        const route = inputs(dev, GW("HTTPRoute"), "finbot-traffic-route-api");
        assert.deepEqual(route.spec.hostnames, ["api.finbot.localtest.me"]);
        assert.deepEqual(route.spec.parentRefs[0], {
            group: "gateway.networking.k8s.io",
            kind: "Gateway",
            name: "finbot",
            namespace: "finbot-traffic",
            sectionName: "https",
        });
        // To the service's TLS front (ghostunnel beside it, forwarding to its port on localhost), verified.
        assert.deepEqual(route.spec.rules[0].backendRefs, [{ name: "api", port: 8443, weight: 100 }]);
        for (const run of [dev, prod]) {
            const tls = inputs(run, GW("BackendTLSPolicy"), "finbot-traffic-backend-tls-api").spec;
            assert.equal(tls.validation.hostname, "api.finbot-apps.svc");
            const pod = inputs(run, "kubernetes:apps/v1:Deployment", "finbot-api").spec.template.spec;
            const front = pod.containers.find((c: Any) => c.name === "tls-frontend");
            assert.ok(front.args.includes("--target=127.0.0.1:9898"), "forwards to the service's own port");
            assert.deepEqual(pod.volumes.at(-1), { name: "ui-tls", secret: { secretName: "api-tls" } });
            const service = inputs(run, "kubernetes:core/v1:Service", "finbot-api").spec;
            assert.deepEqual(service.ports[1], { name: "https", port: 8443, targetPort: 8443, protocol: "TCP" });
            const certificate = inputs(run, "kubernetes:cert-manager.io/v1:Certificate", "finbot-api-tls").spec;
            assert.ok(certificate.dnsNames.includes("api.finbot-apps.svc"));
        }
        assert.equal(route.spec.rules[0].timeouts.request, "15s");
        const policy = inputs(dev, EG("BackendTrafficPolicy"), "finbot-traffic-policy-api").spec;
        assert.equal(policy.retry.numRetries, 2);
        // Only attempts that never reached a backend are retried: a POST that timed out or failed with
        // a 5xx may have settled a payment, and a retry would settle it twice.
        for (const run of [dev, prod]) {
            const retry = inputs(run, EG("BackendTrafficPolicy"), "finbot-traffic-policy-api").spec.retry;
            assert.deepEqual(retry.retryOn, { triggers: ["connect-failure", "refused-stream"] });
        }
        assert.deepEqual(policy.rateLimit.local.rules[0].limit, { requests: 1000, unit: "Second" });
    });

    it("the gateway speaks TLS to Kibana and verifies its internal-CA certificate; Kibana never serves plain HTTP", () => {
        for (const run of [dev, prod]) {
            const kibana = inputs(run, "kubernetes:kibana.k8s.elastic.co/v1:Kibana", "finbot-logging-kibana").spec;
            assert.deepEqual(kibana.http.tls, { certificate: { secretName: "kibana-tls" } });
            const certificate = inputs(run, "kubernetes:cert-manager.io/v1:Certificate", "finbot-logging-kibana-tls").spec;
            assert.equal(certificate.issuerRef.name, "finbot-internal-ca");
            assert.ok(certificate.dnsNames.includes("logs-kb-http.finbot-logging.svc"));
            const policy = inputs(run, GW("BackendTLSPolicy"), "finbot-traffic-backend-tls-kibana").spec;
            assert.deepEqual(policy.targetRefs, [{ group: "", kind: "Service", name: "logs-kb-http" }]);
            assert.equal(policy.validation.hostname, "logs-kb-http.finbot-logging.svc");
            // One CA ConfigMap per namespace of TLS backends: logging's serves the RUM intake's policy and Kibana's.
            assert.deepEqual(
                run
                    .ofType("kubernetes:core/v1:ConfigMap")
                    .filter((c) => (c.inputs as Any).metadata.name === "finbot-gateway-backend-ca")
                    .map((c) => (c.inputs as Any).metadata.namespace)
                    .sort(),
                ["finbot-apps", "finbot-logging", "finbot-monitoring"],
            );
        }
    });

    it("the gateway reaches Grafana, Prometheus and Alertmanager at their TLS fronts, verified against the internal CA", () => {
        for (const run of [dev, prod]) {
            const values = inputs(run, "kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack").values;
            for (const [ui, service, port] of [
                ["grafana", "kube-prometheus-stack-grafana", 80],
                ["prometheus", "kube-prometheus-stack-prometheus", 8443],
                ["alertmanager", "kube-prometheus-stack-alertmanager", 8443],
            ] as const) {
                const policy = inputs(run, GW("BackendTLSPolicy"), `finbot-traffic-backend-tls-${ui}`).spec;
                assert.deepEqual(policy.targetRefs, [{ group: "", kind: "Service", name: service }]);
                assert.equal(policy.validation.hostname, `${service}.finbot-monitoring.svc`);
                assert.deepEqual(policy.validation.caCertificateRefs, [
                    { group: "", kind: "ConfigMap", name: "finbot-gateway-backend-ca" },
                ]);
                const route = inputs(run, GW("HTTPRoute"), `finbot-traffic-route-${ui}`).spec;
                assert.deepEqual(route.rules.at(-1).backendRefs, [{ name: service, port }]);
                const certificate = inputs(run, "kubernetes:cert-manager.io/v1:Certificate", `finbot-monitoring-${ui}-certificate`).spec;
                assert.ok(certificate.dnsNames.includes(`${service}.finbot-monitoring.svc`), ui);
                assert.equal(certificate.issuerRef.name, "finbot-internal-ca");
            }
            // The fronts: ghostunnel beside each UI, forwarding to its plain port on localhost, with the UI's certificate.
            const front = (containers: Any[]) => containers.find((c) => c.name === "tls-frontend");
            const grafana = front(JSON.parse(values.grafana.extraContainers));
            assert.ok(grafana.args.includes("--target=127.0.0.1:3000") && grafana.args.includes("--listen=0.0.0.0:8443"));
            assert.equal(values.grafana.service.targetPort, 8443, "Grafana's Service reaches its front");
            assert.deepEqual(values.grafana.extraContainerVolumes, [{ name: "ui-tls", secret: { secretName: "grafana-tls" } }]);
            assert.ok(front(values.prometheus.prometheusSpec.containers).args.includes("--target=127.0.0.1:9090"));
            assert.ok(front(values.alertmanager.alertmanagerSpec.containers).args.includes("--target=127.0.0.1:9093"));
            assert.deepEqual(values.prometheus.service.additionalPorts, [{ name: "https-ui", port: 8443, targetPort: 8443 }]);
            // Prometheus scrapes Grafana through its front, verifying it for the Service's name.
            assert.equal(values.grafana.serviceMonitor.scheme, "https");
            assert.equal(values.grafana.serviceMonitor.tlsConfig.serverName, "kube-prometheus-stack-grafana.finbot-monitoring.svc");
        }
    });

    it("prod: operator UIs only on the internal gateway, behind single sign-on for the allowed groups; dev: basic auth where there is no login", () => {
        const policies = (run: PlatformRun) =>
            Object.fromEntries(run.ofType(EG("SecurityPolicy")).map((p) => [(p.inputs as Any).metadata.name, (p.inputs as Any).spec]));
        const prodPolicies = policies(prod);
        assert.deepEqual(Object.keys(prodPolicies).sort(), [
            "alertmanager-sso",
            "cloudfront-only",
            "grafana-sso",
            "kibana-sso",
            "prometheus-sso",
        ]);
        const sso = prodPolicies["prometheus-sso"];
        assert.equal(sso.oidc.redirectURL, "https://prometheus.finbot.replace-me.example.com/oauth2/callback");
        assert.deepEqual(sso.oidc.clientSecret, { name: "finbot-oidc-client" });
        assert.equal(sso.authorization.defaultAction, "Deny");
        assert.deepEqual(sso.authorization.rules[0].principal.jwt.claims, [
            { name: "groups", valueType: "StringArray", values: ["finbot-platform-oncall", "finbot-platform-admins"] },
        ]);
        assert.deepEqual(sso.jwt.providers[0].extractFrom, { cookies: ["finbot-id-token"] });
        // Only Grafana, which signs people in with it, gets the ID token; the others never see it.
        assert.deepEqual(prodPolicies["grafana-sso"].oidc.forwardIDToken, { header: "x-finbot-id-token" });
        for (const ui of ["prometheus", "alertmanager", "kibana"])
            assert.equal(prodPolicies[`${ui}-sso`].oidc.forwardIDToken, undefined, ui);
        for (const ui of ["grafana", "prometheus", "alertmanager", "kibana"])
            assert.equal(inputs(prod, GW("HTTPRoute"), `finbot-traffic-route-${ui}`).spec.parentRefs[0].name, "finbot-internal");
        assert.equal(
            prod.ofType("kubernetes:core/v1:Secret").filter((s) => s.name.includes("ui-auth")).length,
            0,
            "no shared password in prod",
        );
        assert.equal(prod.platform.uiPassword, undefined);
        const devPolicies = policies(dev);
        assert.deepEqual(Object.keys(devPolicies).sort(), ["alertmanager-basic-auth", "prometheus-basic-auth"]);
        const secret = dev.get("kubernetes:core/v1:Secret", "finbot-traffic-ui-auth-finbot-monitoring");
        assert.match((revealSecrets(secret.inputs) as Any).stringData[".htpasswd"], /^finbot:\{SHA\}[A-Za-z0-9+/]{27}=$/);
        assert.ok(JSON.stringify(secret.inputs).includes("1b47061264138c4ac30d75fd1eb44270"));
    });

    it("prod: the public gateway refuses requests without CloudFront's origin key, which only CloudFront sends", () => {
        const policy = inputs(prod, EG("SecurityPolicy"), "finbot-traffic-origin-only").spec;
        assert.deepEqual(policy.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "finbot" }]);
        assert.deepEqual(policy.apiKeyAuth.extractFrom, [{ headers: ["x-finbot-origin-key"] }]);
        assert.equal(policy.apiKeyAuth.sanitize, true, "the key stops at the gateway: no service sees it");
        const key = (revealSecrets(prod.get("kubernetes:core/v1:Secret", "finbot-traffic-origin-key").inputs) as Any).stringData.cloudfront;
        const origins = (
            revealSecrets(prod.get("aws:cloudfront/distribution:Distribution", "finbot-traffic-cdn-distribution").inputs) as Any
        ).origins;
        assert.deepEqual(origins.find((o: Any) => o.originId === "gateway").customHeaders, [{ name: "x-finbot-origin-key", value: key }]);
    });

    it("splits traffic by weight for a canary and by header for an A/B cohort", async () => {
        const base = loadStackConfig("dev").config;
        const config = withService(base, (s) => ({
            ...s,
            canary: { image: "podinfo", weight: 10, header: { name: "X-Cohort", value: "b" } },
        }));
        const run = await runPlatform(config, "dev");
        const rules = inputs(run, GW("HTTPRoute"), "finbot-traffic-route-api").spec.rules;
        assert.deepEqual(rules[0].matches[0].headers, [{ type: "Exact", name: "X-Cohort", value: "b" }]);
        // To the canary's TLS front, verified like the stable one's.
        assert.deepEqual(rules[0].backendRefs, [{ name: "api-canary", port: 8443, weight: 100 }]);
        assert.equal(
            inputs(run, GW("BackendTLSPolicy"), "finbot-traffic-backend-tls-api-canary").spec.validation.hostname,
            "api-canary.finbot-apps.svc",
        );
        assert.deepEqual(
            rules[1].backendRefs.map((b: Any) => `${b.name}:${b.weight}`),
            ["api:90", "api-canary:10"],
        );
        assert.ok(run.get("kubernetes:apps/v1:Deployment", "finbot-api-canary"));
        assert.equal(serviceRouteRules({ ...base.services[0], canary: { image: "podinfo", weight: 0 } }, "5s", 8443).length, 1);
    });

    it("scales on requests per second per pod through prometheus-adapter where a target is set", () => {
        const metrics = inputs(prod, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "finbot-api").spec.metrics;
        assert.deepEqual(metrics[0], {
            type: "Pods",
            pods: { metric: { name: "http_requests_per_second" }, target: { type: "AverageValue", averageValue: "150" } },
        });
        const adapter = inputs(prod, "kubernetes:helm.sh/v3:Release", "finbot-autoscaling-prometheus-adapter").values;
        assert.equal(adapter.rules.custom[0].name.as, "http_requests_per_second");
        assert.equal(adapter.prometheus.url, "http://kube-prometheus-stack-prometheus.finbot-monitoring.svc.cluster.local");
        assert.ok(dev.get("kubernetes:helm.sh/v3:Release", "finbot-autoscaling-metrics-server"));
        assert.deepEqual(inputs(dev, "kubernetes:helm.sh/v3:Release", "finbot-autoscaling-metrics-server").values.args, [
            "--kubelet-insecure-tls",
        ]);
    });

    it("puts CloudFront in front in prod: private versioned bucket behind origin access control, long TTLs only for static paths", () => {
        const block = inputs(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "finbot-traffic-cdn-assets");
        assert.deepEqual(
            [block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets],
            [true, true, true, true],
        );
        assert.equal(
            inputs(prod, "aws:s3/bucketVersioning:BucketVersioning", "finbot-traffic-cdn-assets").versioningConfiguration.status,
            "Enabled",
        );
        const distribution = inputs(prod, "aws:cloudfront/distribution:Distribution", "finbot-traffic-cdn-distribution");
        assert.deepEqual(
            distribution.orderedCacheBehaviors.map((b: Any) => `${b.pathPattern}->${b.targetOriginId}`),
            ["/intake/*->rum", "/static/*->assets", "/assets/*->assets"],
        );
        assert.equal(distribution.defaultCacheBehavior.cachePolicyId, "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "the API is never cached");
        assert.ok((revealSecrets(distribution.origins) as Any)[0].originAccessControlId);
        // The aliases with an ACM certificate (us-east-1): TLS 1.2 at least; a web ACL; access logs that expire.
        assert.deepEqual(distribution.aliases, ["app.finbot.replace-me.example.com"]);
        assert.equal(distribution.viewerCertificate.minimumProtocolVersion, "TLSv1.2_2021");
        assert.equal(distribution.viewerCertificate.sslSupportMethod, "sni-only");
        assert.equal(inputs(prod, "aws:acm/certificate:Certificate", "finbot-traffic-cdn-certificate").region, "us-east-1");
        const acl = inputs(prod, "aws:wafv2/webAcl:WebAcl", "finbot-traffic-cdn-web-acl");
        assert.deepEqual([acl.scope, acl.region], ["CLOUDFRONT", "us-east-1"]);
        assert.deepEqual(
            acl.rules.map((r: Any) => r.name),
            ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "rate-limit-per-ip"],
        );
        assert.equal(inputs(prod, "aws:cloudwatch/logGroup:LogGroup", "finbot-traffic-cdn-access-logs").retentionInDays, 90);
        assert.ok(prod.get("aws:cloudwatch/logDelivery:LogDelivery", "finbot-traffic-cdn-access-logs"));
        assert.equal(inputs(prod, "aws:cloudfront/cachePolicy:CachePolicy", "finbot-traffic-cdn-static").defaultTtl, 31536000);
        assert.equal(dev.ofType("aws:cloudfront/distribution:Distribution").length, 0);
    });

    it("runs opt-in k6 load tests in dev with thresholds from the SLO and results in the checks' receiver", async () => {
        const base = loadStackConfig("dev").config;
        const run = await runPlatform(
            { ...base, traffic: { ...base.traffic, loadTest: { enabled: true, virtualUsers: 10, duration: "2m" } } },
            "dev",
        );
        const job = inputs(run, "kubernetes:batch/v1:Job", "finbot-load-test-api");
        assert.equal(job.spec.template.spec.containers[0].image, "docker.io/grafana/k6:2.2.0");
        assert.equal(job.spec.template.spec.containers[0].env[0].value, "http://prometheus-operated.finbot-checks.svc:9090/api/v1/write");
        const script = inputs(run, "kubernetes:core/v1:ConfigMap", "finbot-load-test-api").data["test.js"];
        assert.match(script, /"http_req_failed":\["rate<0\.001"\]/);
        assert.match(script, /"http_req_duration":\["p\(99\)<250"\]/);
        // Into the checks' receiver, which the platform's Prometheus federates; it accepts no writes itself.
        assert.equal(
            inputs(run, "kubernetes:monitoring.coreos.com/v1:Prometheus", "finbot-checks-receiver-prometheus").spec
                .enableRemoteWriteReceiver,
            true,
        );
        assert.equal(
            inputs(run, "kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack").values.prometheus.prometheusSpec
                .enableRemoteWriteReceiver,
            false,
        );
        assert.equal(
            dev.ofType("kubernetes:batch/v1:Job").filter((j) => j.name.startsWith("finbot-load-test")).length,
            0,
            "off unless asked",
        );
        assert.deepEqual(k6Thresholds({ ...base.services[0], slo: { ...base.services[0].slo, availability: 99.5 } }).http_req_failed, [
            "rate<0.005",
        ]);
    });
});

describe("capacity arithmetic", () => {
    const base = loadStackConfig("prod").config.services[0];
    const service = (overrides: Partial<ServiceConfig>): ServiceConfig => ({ ...base, ...overrides });

    it("walks the HPA behaviour: 3 -> 7 -> 14 -> 28 takes three 15-second periods", () => {
        // +100% or +4 pods per 15 s, whichever is more; first decision after the 15 s sync.
        assert.deepEqual(scaleUpTime(service({ replicas: { min: 3, max: 30 } }), 25), { seconds: 45, steps: 3 });
        assert.deepEqual(scaleUpTime(service({ replicas: { min: 3, max: 30 } }), 3), { seconds: 0, steps: 0 });
        const slow = service({
            replicas: { min: 2, max: 20 },
            scaling: { ...base.scaling, scaleUp: { stabilizationSeconds: 60, percent: 50, pods: 1, periodSeconds: 60 } },
        });
        // 2 -> 3 -> 5 -> 8 -> 12 -> 18 -> 20: six periods of 60 s after the 60 s window and the sync.
        assert.deepEqual(scaleUpTime(slow, 20), { seconds: 15 + 60 + 5 * 60, steps: 6 });
    });

    it("reports throughput, ratio, replicas for 10x and their requests", () => {
        const report = capacityReport(
            service({ replicas: { min: 3, max: 30 }, capacity: { requestsPerSecondPerPod: 200, peakRequestsPerSecond: 500 } }),
        )!;
        assert.equal(report.maxThroughput, 6000);
        assert.equal(report.ratio, 12);
        assert.equal(report.meetsTarget, true);
        assert.equal(report.replicasFor10x, 25);
        assert.equal(report.cpuMillicores, 25 * 250);
        assert.equal(report.memoryBytes, 25 * 256 * 2 ** 20);
    });

    it("fails a production config that cannot serve 10x its peak, naming the service and the numbers", () => {
        const problem = capacityProblem({
            name: "api",
            replicas: { max: 20 },
            capacity: { requestsPerSecondPerPod: 200, peakRequestsPerSecond: 500 },
        });
        assert.equal(
            problem,
            "enough replicas for 10x peak: 20 replicas x 200 req/s = 4000 req/s is 8x the peak of 500 req/s; 25 replicas are needed",
        );
    });
});

describe("cost arithmetic", () => {
    it("prices each third party by its expected requests, today and at 10x, and bounds a day by its rate limit on every egress proxy", () => {
        const prod = loadStackConfig("prod").config;
        const spend = thirdPartySpend(prod.thirdParties, prod.traffic.egressGateway.replicas, 10);
        const llm = spend.find((s) => s.provider === "llm");
        // 600,000 calls at 0.002 USD; 20 calls a second on each of 2 proxies for a day at 0.002 USD.
        assert.deepEqual(llm, {
            provider: "llm",
            requestsPerMonth: 600000,
            today: 1200,
            atFactor: 12000,
            budget: 2000,
            ceilingPerDay: 6912,
        });
        assert.equal(
            spend.find((s) => s.provider === "payments")?.today,
            0,
            "the payment API's calls cost nothing; its fee is per payment",
        );
    });

    it("adds up Aurora, RDS Proxy, backup copies, ElastiCache, the NLB, CloudFront, WAF and the cluster's requests from the price table", () => {
        // What prod's components declare: the managed services it creates and 10 vCPU and 20 GiB of pods.
        const footprint: Footprint = {
            requests: [{ part: "pods", pods: 10, cpu: "1", memory: "2Gi" }],
            managed: [
                { kind: "aurora-instance", role: "writer", instanceClass: "db.r6g.large", count: 1 },
                { kind: "aurora-instance", role: "readers (minimum)", instanceClass: "db.r6g.large", count: 2 },
                { kind: "aurora-storage", gb: 100 },
                { kind: "rds-proxy", instanceClass: "db.r6g.large", instances: 3 },
                { kind: "backup-copy", gb: 200 },
                { kind: "elasticache-node", engine: "valkey", nodeType: "cache.r7g.large", count: 3 },
                { kind: "nlb" },
                { kind: "cloudfront" },
                { kind: "waf", rules: 4 },
            ],
        };
        const prices: PriceTable = {
            region: "test",
            date: "2026-01-01",
            currency: "USD",
            hoursPerMonth: 100,
            auroraInstanceHourly: { "db.r6g.large": 1 },
            auroraStorageGbMonth: 0.1,
            backupStorageGbMonth: 0.02,
            rdsProxyVcpuHourly: 0.01,
            rdsInstanceVcpus: { "db.r6g.large": 2 },
            elasticacheNodeHourly: { "cache.r7g.large": 0.5 },
            valkeyDiscount: 0.2,
            nlbHourly: 0.02,
            nlbLcuHourly: 0.01,
            cloudfrontDataTransferGb: 0.1,
            cloudfrontHttpsRequestsPer10k: 0.01,
            s3StandardGbMonth: 0.02,
            ec2VcpuHourly: 0.04,
            ec2GibHourly: 0.005,
            wafWebAclMonthly: 5,
            wafRuleMonthly: 1,
            wafRequestsPerMillion: 0.6,
        };
        const lines = Object.fromEntries(estimateCost(footprint, prices).map((l) => [l.item, Number(l.monthly.toFixed(4))]));
        assert.deepEqual(lines, {
            "Aurora writer": 100, // 1 $/h x 100 h
            "Aurora readers (minimum)": 200, // 2 readers x 1 $/h x 100 h
            "Aurora storage": 10, // 100 GB x 0.1
            "RDS Proxy": 6, // 3 instances x 2 vCPU x 0.01 x 100 h
            "Backup copies (second region)": 4, // 200 GB x 0.02
            "ElastiCache (valkey)": 120, // 3 nodes x 0.5 x 0.8 x 100 h
            "Network Load Balancer": 3, // (0.02 + 0.01) x 100 h
            CloudFront: 150, // 1000 GB x 0.1 + 5000 x 0.01
            "WAF (web ACL on CloudFront)": 39, // 5 + 4 rules x 1 + 50M requests x 0.6 per million
            "Cluster capacity for requested pods": 50, // (10 vCPU x 0.04 + 20 GiB x 0.005) x 100 h
        });
    });
});
