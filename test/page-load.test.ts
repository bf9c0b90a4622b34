// Page load as users feel it: synthetic browser checks per page (through the CDN in prod), APM
// Server's RUM intake behind the gateway with backend TLS, the dashboard and the rules, in both stacks.
import * as assert from "node:assert/strict";
import { browserArgs, pageCheckScript, pageThresholds } from "../components/traffic/pageChecks";
import { PlatformRun, revealSecrets, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const inputs = (run: PlatformRun, type: string, name: string): Any => revealSecrets(run.get(type, name).inputs);
const home = { name: "home", service: "api", path: "/", lcpBudgetMs: 2500, ttfbBudgetMs: 800 };

describe("page load", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
    });

    it("a k6 browser check per page fails a run whose p75 LCP or TTFB is over budget, tagged with the page", () => {
        assert.deepEqual(pageThresholds(home), {
            finbot_page_lcp: ["p(75)<2500"],
            finbot_page_ttfb: ["p(75)<800"],
            checks: ["rate==1"],
        });
        const script = pageCheckScript(home, "https://api.example.com/");
        assert.match(script, /import \{ browser \} from "k6\/browser"/);
        assert.match(script, /tags: \{ page: "home" \}/);
        // The page's own time Trends (written in seconds as k6_finbot_page_*_p75, one series per
        // page), fed with every load's measurement: not k6's web vitals, split by rating band.
        assert.match(script, /const lcp = new Trend\("finbot_page_lcp", true\);/);
        assert.match(script, /const ttfb = new Trend\("finbot_page_ttfb", true\);/);
        assert.match(script, /lcp\.add\(vitals\.lcp\);\s+ttfb\.add\(vitals\.ttfb\);/);
        assert.doesNotMatch(script, /browser_web_vital/);
        assert.match(script, /page\.goto\("https:\/\/api\.example\.com\/"/);
    });

    it("prod loads the page through the CDN with public DNS; dev through the gateway's Service inside the laptop cluster", () => {
        const job = (run: PlatformRun) => inputs(run, "kubernetes:batch/v1:CronJob", "finbot-page-checks-home").spec;
        const script = (run: PlatformRun) => inputs(run, "kubernetes:core/v1:ConfigMap", "finbot-page-checks-home").data["check.js"];
        assert.match(script(prod), /page\.goto\("https:\/\/app\.finbot\.replace-me\.example\.com\/"/);
        assert.match(script(dev), /page\.goto\("https:\/\/api\.finbot\.localtest\.me\/"/);
        const env = (run: PlatformRun) =>
            Object.fromEntries(job(run).jobTemplate.spec.template.spec.containers[0].env.map((e: Any) => [e.name, e.value]));
        assert.equal(env(prod).K6_BROWSER_ARGS, "no-sandbox");
        assert.equal(
            env(dev).K6_BROWSER_ARGS,
            browserArgs({ domain: "finbot.localtest.me", gatewayHost: "envoy-finbot.finbot-traffic.svc.cluster.local" }),
        );
        for (const run of [dev, prod]) {
            assert.equal(job(run).schedule, "*/5 * * * *");
            assert.equal(env(run).K6_PROMETHEUS_RW_SERVER_URL, "http://prometheus-operated.finbot-checks.svc:9090/api/v1/write");
            const pod = job(run).jobTemplate.spec.template.spec;
            assert.match(pod.containers[0].image, /grafana\/k6:[\d.]+-with-browser$/);
            assert.equal(pod.priorityClassName, "finbot-checks");
            assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
        }
        // The gateway's proxies answer at the Service name the dev check resolves to.
        const proxy = inputs(dev, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "finbot-traffic-proxy");
        assert.equal(proxy.spec.provider.kubernetes.envoyService.name, "envoy-finbot");
    });

    it("APM Server takes RUM page loads anonymously from FinBot's origins, only as the RUM agent, rate-limited", () => {
        for (const run of [dev, prod]) {
            const config = inputs(run, "kubernetes:apm.k8s.elastic.co/v1:ApmServer", "finbot-logging-apm").spec.config;
            assert.equal(config["apm-server.rum.enabled"], true);
            assert.deepEqual(config["apm-server.auth.anonymous.allow_agent"], ["rum-js"]);
            assert.equal(config["apm-server.auth.anonymous.rate_limit.event_limit"], 300);
            assert.equal(config["apm-server.auth.secret_token"], "${FINBOT_APM_SECRET_TOKEN}");
        }
        const origins = (run: PlatformRun) =>
            inputs(run, "kubernetes:apm.k8s.elastic.co/v1:ApmServer", "finbot-logging-apm").spec.config["apm-server.rum.allow_origins"];
        assert.deepEqual(origins(dev), ["https://api.finbot.localtest.me"]);
        assert.ok(origins(prod).includes("https://app.finbot.replace-me.example.com"));
    });

    it("browsers reach the RUM intake at rum.<domain> (and /intake/* of the CDN in prod), the gateway verifying APM Server's certificate", () => {
        for (const run of [dev, prod]) {
            const route = inputs(run, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "finbot-traffic-route-rum").spec;
            assert.match(route.hostnames[0], /^rum\./);
            assert.deepEqual(route.rules[0].matches, [{ path: { type: "PathPrefix", value: "/intake/" } }]);
            assert.deepEqual(route.rules[0].backendRefs, [{ name: "apm-apm-http", port: 8200 }]);
            const limit = inputs(
                run,
                "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
                "finbot-traffic-rum-rate-limit",
            ).spec;
            assert.deepEqual(limit.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "rum-intake" }]);
            assert.equal(limit.rateLimit.local.rules[0].limit.requests, run.config.traffic.rateLimitPerSecond);
            const tls = inputs(run, "kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy", "finbot-traffic-rum-backend-tls").spec;
            assert.equal(tls.validation.hostname, "apm-apm-http.finbot-logging.svc");
        }
        const cdn = inputs(prod, "aws:cloudfront/distribution:Distribution", "finbot-traffic-cdn-distribution");
        const intake = cdn.orderedCacheBehaviors.find((b: Any) => b.pathPattern === "/intake/*");
        assert.equal(intake.targetOriginId, "rum");
        assert.ok(intake.allowedMethods.includes("POST"));
        assert.equal(cdn.origins.find((o: Any) => o.originId === "rum").domainName, "rum.finbot.replace-me.example.com");
    });

    it("both stacks have the Page load dashboard and the page-load rules", () => {
        for (const run of [dev, prod]) {
            const groups = run.platform.monitoring?.ruleGroups ?? [];
            const rules = groups.find((g) => g.name === "finbot-page-load")?.rules ?? [];
            const alerts = rules.flatMap((r) => ("alert" in r ? [r.alert] : []));
            assert.deepEqual([...new Set(alerts)].sort(), ["FinbotPageLoadOverBudget", "FinbotPageLoadRegressed"]);
            const board = run.platform.monitoring?.dashboards.find((d) => d.uid === "finbot-page-load");
            assert.ok(board);
            assert.match(JSON.stringify(board.model), /offset 4w/);
        }
    });
});
