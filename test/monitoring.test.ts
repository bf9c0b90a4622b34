import * as assert from "node:assert/strict";
import { CHARTS } from "../components/config/releases";
import { withRunbookUrls } from "../components/monitoring/rules";
import { platformRuleGroups } from "../components/platform/areas";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR, PlatformRun, RecordedResource, redactSecrets, revealSecrets, runPlatform, runStack, runStackFile } from "./harness";

// lezer-promql ships CommonJS next to its ES module, but its typings are ES-only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require("@prometheus-io/lezer-promql") as typeof import("@prometheus-io/lezer-promql", {
    with: { "resolution-mode": "import" },
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const RELEASE = "kubernetes:helm.sh/v3:Release";
const CUSTOM = (kind: string) => `kubernetes:monitoring.coreos.com/v1:${kind}`;

/** Syntax errors of a PromQL expression, by lezer-promql (Grafana variables replaced by sample values). */
export function promqlErrors(expr: string): string[] {
    const text = expr.replace(/\$__rate_interval/g, "5m").replace(/\$service/g, "api");
    const errors: string[] = [];
    parser.parse(text).iterate({
        enter: (node) => {
            if (node.type.isError) errors.push(`at ${node.from}: "${text.slice(Math.max(0, node.from - 20), node.to + 20)}"`);
        },
    });
    return errors;
}

function kpsValues(run: PlatformRun): Any {
    return run.get(RELEASE, "finbot-monitoring-kube-prometheus-stack").inputs.values;
}

/** The rule groups the stack's PrometheusRule deploys. */
function servedGroups(run: PlatformRun): Any[] {
    return (run.get(CUSTOM("PrometheusRule"), "finbot-monitoring-rules").inputs as Any).spec.groups;
}

function rules(run: PlatformRun): Any[] {
    return servedGroups(run).flatMap((g: Any) => g.rules);
}

describe("monitoring", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
    });

    it("serves the rule groups the areas give for the stack's config, which the promtool tests evaluate", () => {
        for (const run of [dev, prod]) {
            const served = servedGroups(run);
            const given = withRunbookUrls(platformRuleGroups(run.config), run.config.monitoring.runbookBaseUrl);
            assert.ok(given.length > 10, `${run.stack} has rule groups`);
            assert.deepEqual(served, JSON.parse(JSON.stringify(given)), run.stack);
        }
    });

    it("installs kube-prometheus-stack and the blackbox exporter as pinned Helm releases", () => {
        for (const run of [dev, prod]) {
            const kps = run.get(RELEASE, "finbot-monitoring-kube-prometheus-stack").inputs as Any;
            assert.equal(kps.chart, "kube-prometheus-stack");
            assert.equal(kps.version, run.config.releases.charts["kube-prometheus-stack"]);
            assert.equal(kps.repositoryOpts.repo, "https://prometheus-community.github.io/helm-charts");
            assert.equal(kps.namespace, "finbot-monitoring");
            const blackbox = run.get(RELEASE, "finbot-monitoring-blackbox-exporter").inputs as Any;
            assert.equal(blackbox.version, CHARTS["prometheus-blackbox-exporter"].version);
        }
    });

    it("sizes Prometheus and Alertmanager per stack: dev small, prod replicated with hard anti-affinity", () => {
        const d = kpsValues(dev);
        const p = kpsValues(prod);
        assert.deepEqual(
            [d.prometheus.prometheusSpec.replicas, d.prometheus.prometheusSpec.retention, d.prometheus.prometheusSpec.podAntiAffinity],
            [1, "3d", "soft"],
        );
        assert.deepEqual(
            [p.prometheus.prometheusSpec.replicas, p.prometheus.prometheusSpec.retention, p.prometheus.prometheusSpec.podAntiAffinity],
            [2, "30d", "hard"],
        );
        assert.equal(p.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage, "100Gi");
        assert.equal(p.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName, "finbot-retain");
        // Production's volumes outlive their claims.
        const retain = prod.get("kubernetes:storage.k8s.io/v1:StorageClass", "finbot-retained-volumes");
        assert.deepEqual(
            [(retain.inputs as Any).reclaimPolicy, (retain.inputs as Any).parameters.encrypted, retain.protect],
            ["Retain", "true", true],
        );
        assert.equal(p.prometheus.prometheusSpec.retentionSize, "87040MiB", "85% of 100Gi leaves room for the WAL");
        assert.equal(p.alertmanager.alertmanagerSpec.replicas, 3);
        assert.equal(d.alertmanager.alertmanagerSpec.replicas, 1);
        assert.deepEqual(p.prometheus.prometheusSpec.resources, { requests: { cpu: "1", memory: "4Gi" }, limits: { memory: "8Gi" } });
    });

    it("selects the project's own ServiceMonitors, PodMonitors, Probes and PrometheusRules", () => {
        const spec = kpsValues(dev).prometheus.prometheusSpec;
        for (const kind of ["rule", "serviceMonitor", "podMonitor", "probe"])
            assert.equal(spec[`${kind}SelectorNilUsesHelmValues`], false, kind);
    });

    it("switches off the control-plane scrapes and rules that EKS cannot serve and laptop clusters bind to loopback, in both stacks", async () => {
        const p = kpsValues(prod);
        const d = kpsValues(dev);
        for (const part of ["kubeEtcd", "kubeScheduler", "kubeControllerManager", "kubeProxy"]) {
            assert.equal(p[part].enabled, false, `prod ${part}`);
            assert.equal(
                d[part].enabled,
                false,
                `dev ${part}: kind binds it to 127.0.0.1, its "down" alert would fire from the first minute`,
            );
        }
        assert.equal(p.defaultRules.rules.etcd, false);
        assert.equal(d.defaultRules.rules.kubeControllerManager, false);
        // A self-managed control plane serving them: scraped, and the flows reach their ports on the nodes.
        const selfManaged = await runPlatform(
            { ...dev.config, monitoring: { ...dev.config.monitoring, managedControlPlane: false } },
            "dev",
        );
        assert.equal(kpsValues(selfManaged).kubeControllerManager.enabled, true);
        const scrapeNodes = selfManaged
            .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .find((r) => (r.inputs as Any).metadata.name === "allow-scrape-nodes");
        assert.deepEqual(
            (scrapeNodes?.inputs as Any).spec.egress[0].ports.map((x: Any) => x.port),
            [10250, 9100, 2381, 10259, 10257, 10249],
        );
        assert.equal(p.defaultRules.create, true, "the chart's Kubernetes rules stay on");
        assert.equal(p.grafana.sidecar.dashboards.enabled, true);
    });

    it("gives Grafana a generated admin password through an existing Secret, never a literal", () => {
        const values = kpsValues(prod).grafana;
        assert.deepEqual(values.admin, { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
        assert.equal(values.adminPassword, undefined);
        const secret = prod.get("kubernetes:core/v1:Secret", "finbot-monitoring-grafana-admin");
        assert.equal((revealSecrets(secret.inputs) as Any).stringData["admin-password"].length, 32);
        assert.ok(JSON.stringify(secret.inputs).includes("1b47061264138c4ac30d75fd1eb44270"), "the password is a Pulumi secret");
        assert.ok(prod.get("random:index/randomPassword:RandomPassword", "finbot-monitoring-grafana-admin"));
    });

    it("runs Grafana in prod as two pods over two zones with its state in its own Aurora database; one pod on a volume in dev", async () => {
        const d = kpsValues(dev).grafana;
        assert.deepEqual([d.replicas, d.persistence.enabled, d["grafana.ini"].database], [1, true, undefined]);
        const p = kpsValues(prod).grafana;
        assert.equal(p.replicas, 2);
        assert.equal(p.persistence.enabled, false, "no zonal volume");
        assert.deepEqual(p.podDisruptionBudget, { minAvailable: 1 });
        assert.deepEqual(
            p.topologySpreadConstraints.map((c: Any) => [c.topologyKey, c.whenUnsatisfiable, c.labelSelector.matchLabels]),
            [["topology.kubernetes.io/zone", "DoNotSchedule", { "app.kubernetes.io/name": "grafana" }]],
        );
        // Through RDS Proxy, the server verified against the image's CA bundle, the password only from a Secret.
        const proxy = (prod.get("aws:rds/proxy:Proxy", "finbot-database-aurora-proxy").state as Any).endpoint;
        assert.deepEqual(p["grafana.ini"].database, {
            type: "postgres",
            host: `${proxy}:5432`,
            name: "grafana",
            user: "grafana",
            ssl_mode: "verify-full",
            ca_cert_path: "/etc/ssl/certs/ca-certificates.crt",
        });
        assert.deepEqual(p.envValueFrom.GF_DATABASE_PASSWORD, { secretKeyRef: { name: "grafana-database", key: "password" } });
        assert.ok(!JSON.stringify(p).includes('password":"'), "no password in the values");
        const secret = revealSecrets(prod.get("kubernetes:core/v1:Secret", "finbot-grafana-database").inputs) as Any;
        assert.equal(secret.metadata.namespace, "finbot-monitoring");
        assert.equal(secret.stringData.password.length, 32);
        // Its pods get the security group RDS Proxy admits; the release waits for the role and database.
        assert.deepEqual(p.podLabels, { "finbot.io/postgres-client": "true" });
        const sgPolicy = prod.get(
            "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy",
            "finbot-database-aurora-pod-sg-finbot-monitoring",
        );
        assert.deepEqual((sgPolicy.inputs as Any).spec.podSelector.matchLabels, { "finbot.io/postgres-client": "true" });
        const release = prod.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack");
        const rolesJob = prod.resources.find((r) => r.type === "kubernetes:batch/v1:Job" && r.name === "finbot-database-aurora-roles")!;
        assert.ok(release.dependsOn.includes(rolesJob.urn), "kube-prometheus-stack waits for the roles Job");
        assert.ok(release.dependsOn.includes(prod.get("kubernetes:core/v1:Secret", "finbot-grafana-database").urn));
    });

    it("answers 403 at the gateway for Prometheus's remote-write path: people query through the UI route, never write", () => {
        for (const run of [dev, prod]) {
            const route = (run.get("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "finbot-traffic-route-prometheus").inputs as Any)
                .spec;
            assert.deepEqual(route.rules[0].matches, [{ path: { type: "PathPrefix", value: "/api/v1/write" } }]);
            assert.equal(route.rules[0].backendRefs, undefined);
            const filter = (
                run.get("kubernetes:gateway.envoyproxy.io/v1alpha1:HTTPRouteFilter", "finbot-traffic-forbidden-prometheus").inputs as Any
            ).spec;
            assert.equal(route.rules[0].filters[0].extensionRef.name, "prometheus-forbidden");
            assert.equal(filter.directResponse.statusCode, 403);
            assert.ok(route.rules[1].backendRefs[0].name.includes("prometheus"));
        }
    });

    it("delivers the Alertmanager config, receivers' keys included, only as a secret Kubernetes Secret", () => {
        const values = kpsValues(prod).alertmanager;
        assert.equal(values.config, undefined, "no receiver config in Helm values");
        assert.equal(values.alertmanagerSpec.configSecret, "alertmanager-finbot");
        assert.equal(values.alertmanagerSpec.useExistingSecret, true);
        const secret = prod.get("kubernetes:core/v1:Secret", "finbot-monitoring-alertmanager-config");
        const yaml = (revealSecrets(secret.inputs) as Any).stringData["alertmanager.yaml"];
        assert.match(yaml, /pagerduty_configs/);
        assert.match(yaml, /channel: "#finbot-alerts"/);
        assert.deepEqual(
            redactSecrets(secret.inputs),
            { ...(redactSecrets(secret.inputs) as object), stringData: "[secret]" },
            "wrapped as a secret",
        );
        const devYaml = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-monitoring-alertmanager-config").inputs) as Any)
            .stringData["alertmanager.yaml"];
        assert.doesNotMatch(devYaml, /pagerduty_configs|slack_configs/, "dev pages nobody");
    });

    it("orders every monitoring.coreos.com resource after the release that installs the CRDs", () => {
        for (const run of [dev, prod]) {
            const operator = run.get(RELEASE, "finbot-monitoring-kube-prometheus-stack").urn;
            const custom = run.resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"));
            assert.ok(custom.length >= 3);
            for (const r of custom) assert.ok(r.dependsOn.includes(operator), `${r.name} waits for the CRDs`);
        }
    });

    it("scrapes each service with a ServiceMonitor and probes each public one for uptime", () => {
        const monitor = dev.get(CUSTOM("ServiceMonitor"), "finbot-api").inputs as Any;
        assert.equal(monitor.metadata.namespace, "finbot-apps");
        assert.deepEqual(monitor.spec.endpoints[0], { port: "http", path: "/metrics", interval: "30s", scheme: "http" });
        const probe = dev.get(CUSTOM("Probe"), "finbot-monitoring-uptime-api").inputs as Any;
        assert.deepEqual(probe.spec.targets.staticConfig.static, ["http://api.finbot-apps.svc.cluster.local:9898/readyz"]);
        assert.equal(probe.spec.prober.url, "prometheus-blackbox-exporter.finbot-monitoring.svc:9115");
        // The module the probe asks for is one the blackbox exporter defines, else every probe fails.
        for (const run of [dev, prod]) {
            const modules = (run.get(RELEASE, "finbot-monitoring-blackbox-exporter").inputs as Any).values.config.modules;
            const uptime = run.get(CUSTOM("Probe"), "finbot-monitoring-uptime-api").inputs as Any;
            assert.ok(
                Object.keys(modules).includes(uptime.spec.module),
                `${uptime.spec.module} is not in ${Object.keys(modules).join(", ")}`,
            );
            assert.deepEqual(modules[uptime.spec.module].prober, "http");
        }
    });

    it("generates page and ticket SLO alerts for availability, latency and uptime (in the cluster and, behind the CDN, from outside in)", () => {
        const alerts = rules(prod).filter((r) => r.alert === "SLOErrorBudgetBurn");
        const keys = alerts.map((a) => `${a.labels.service}/${a.labels.slo}/${a.labels.severity}`).sort();
        assert.deepEqual(keys, [
            "api/availability/page",
            "api/availability/ticket",
            "api/latency/page",
            "api/latency/ticket",
            "api/uptime-edge/page",
            "api/uptime-edge/ticket",
            "api/uptime/page",
            "api/uptime/ticket",
        ]);
        assert.ok(!rules(dev).some((r) => r.labels?.slo === "uptime-edge"), "dev has no public edge: its in-cluster probe is the only one");
        const edge = prod.get("kubernetes:monitoring.coreos.com/v1:Probe", "finbot-monitoring-edge-api-0").inputs as Any;
        assert.deepEqual(edge.spec.targets.staticConfig.static, ["https://app.finbot.replace-me.example.com/readyz"]);
        const page = alerts.find((a) => a.labels.slo === "availability" && a.labels.severity === "page");
        assert.match(page.expr, /slo:sli_error:ratio_rate1h\{service="api", slo="availability"\} > \(14\.4 \* 0\.001\)/);
        assert.match(page.expr, /slo:sli_error:ratio_rate30m\{service="api", slo="availability"\} > \(6 \* 0\.001\)/);
        const records = new Set(
            rules(prod)
                .filter((r) => r.record)
                .map((r) => r.record),
        );
        for (const name of [
            "slo:sli_error:ratio_rate5m",
            "slo:sli_error:ratio_rate3d",
            "slo:error_budget_remaining:ratio",
            "service:latency_seconds:p95",
        ]) {
            assert.ok(records.has(name), name);
        }
    });

    it("uses the service's SLI metrics: podinfo's status label and the latency bucket", () => {
        const ratio = rules(dev).find((r) => r.record === "slo:sli_error:ratio_rate5m" && r.labels.slo === "availability");
        assert.equal(
            ratio.expr,
            'sum(rate(http_requests_total{namespace="finbot-apps", service="api", status=~"5.."}[5m])) / sum(rate(http_requests_total{namespace="finbot-apps", service="api"}[5m]))',
        );
        const latency = rules(dev).find((r) => r.record === "slo:sli_error:ratio_rate5m" && r.labels.slo === "latency");
        assert.match(latency.expr, /le="0\.25"/);
    });

    it("adds the platform alerts: HPA at max, memory leak, volumes, regressions, certificates", () => {
        const names = new Set(
            rules(dev)
                .filter((r) => r.alert)
                .map((r) => r.alert),
        );
        for (const name of [
            "FinbotHPAAtMaxReplicas",
            "FinbotMemoryLeakSuspected",
            "FinbotVolumeFillingUp",
            "FinbotLatencyRegression",
            "FinbotCertificateExpiresSoon",
        ]) {
            assert.ok(names.has(name), name);
        }
        for (const rule of rules(dev).filter((r) => r.alert)) assert.ok(["page", "ticket"].includes(rule.labels.severity), rule.alert);
    });

    it("every PromQL expression of the rules and dashboards parses", async () => {
        const exprs: string[] = rules(prod).map((r) => r.expr);
        const withBusiness = await runPlatform(
            {
                ...prod.config,
                monitoring: {
                    ...prod.config.monitoring,
                    businessMetrics: [{ title: "Payments/s", expr: "sum(rate(payments_total[5m]))", unit: "short" }],
                },
            },
            "prod",
        );
        const boards = withBusiness.platform.monitoring?.dashboards ?? [];
        for (const board of boards)
            for (const panel of board.model.panels ?? []) for (const target of (panel as Any).targets ?? []) exprs.push(target.expr);
        assert.ok(exprs.length > 40);
        const broken = exprs.map((e) => [e, promqlErrors(e)] as const).filter(([, errors]) => errors.length > 0);
        assert.deepEqual(broken, []);
        assert.notDeepEqual(promqlErrors("sum(rate(x[5m])"), [], "the parser catches a broken expression");
    });

    it("provisions the dashboards as ConfigMaps for Grafana's sidecar, with stable uids and the Prometheus datasource", () => {
        const maps = dev
            .ofType("kubernetes:core/v1:ConfigMap")
            .filter((r: RecordedResource) => (r.inputs as Any).metadata.labels?.grafana_dashboard === "1");
        const uids = maps.map((m) => Object.keys((m.inputs as Any).data)[0].replace(/\.json$/, "")).sort();
        assert.deepEqual(uids, [
            "finbot-alert-quality",
            "finbot-alerts",
            "finbot-autoscaling",
            "finbot-business",
            "finbot-cost",
            "finbot-logging",
            "finbot-page-load",
            "finbot-platform-overview",
            "finbot-postgresql",
            "finbot-rabbitmq",
            "finbot-redis",
            "finbot-service-slo",
            "finbot-third-party-apis",
        ]);
        for (const map of maps) {
            assert.equal((map.inputs as Any).metadata.annotations.grafana_folder, "FinBot");
            const model = JSON.parse(Object.values((map.inputs as Any).data)[0] as string);
            assert.equal(`${model.uid}.json`, Object.keys((map.inputs as Any).data)[0]);
            for (const panel of model.panels.filter((p: Any) => p.type !== "row")) {
                assert.deepEqual(panel.datasource, { type: "prometheus", uid: "prometheus" }, `${model.uid}: ${panel.title}`);
                assert.ok(panel.targets.length > 0, `${model.uid}: ${panel.title} has queries`);
                assert.ok(
                    typeof panel.description === "string" && panel.description.length > 10,
                    `${model.uid}: ${panel.title} has a description`,
                );
            }
        }
    });

    it("draws panels only for what the stack deploys: the load-test row with load tests, the assets budget with the Pushgateway", async () => {
        const everything = await runStackFile("test/stacks/everything.yaml");
        const queries = (run: PlatformRun) =>
            run
                .ofType("kubernetes:core/v1:ConfigMap")
                .filter((r: RecordedResource) => (r.inputs as Any).metadata.labels?.grafana_dashboard === "1")
                .flatMap((m) => JSON.parse(Object.values((m.inputs as Any).data)[0] as string).panels as Any[])
                .flatMap((p) => (p.targets ?? []).map((t: Any) => String(t.expr)))
                .join("\n");
        for (const run of [dev, prod]) {
            assert.ok(!run.config.traffic.loadTest.enabled && !run.config.monitoring.pushgateway, `${run.stack} runs neither`);
            assert.ok(!/k6_http_/.test(queries(run)), `${run.stack}: no load-test panels`);
            assert.ok(!/finbot_asset_/.test(queries(run)), `${run.stack}: no budget panel`);
        }
        assert.match(queries(everything), /k6_http_reqs_total/);
        assert.match(queries(everything), /finbot_asset_gzip_bytes/);
    });

    it("alert rules link a runbook that exists, as an absolute runbook_url under the configured base", () => {
        const base = prod.config.monitoring.runbookBaseUrl ?? "";
        assert.ok(base.startsWith("https://"));
        for (const rule of rules(prod).filter((r) => r.alert)) {
            const url: string = rule.annotations.runbook_url;
            assert.ok(url.startsWith(`${base}/`), `${rule.alert}: ${url}`);
            assert.ok(existsSync(path.join(PROJECT_DIR, "docs", "runbooks", url.slice(base.length + 1))), url);
            assert.equal(rule.annotations.runbook, undefined, "Prometheus gets runbook_url only");
        }
    });
});
