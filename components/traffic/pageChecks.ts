// Synthetic page-load checks: a real browser (k6 with Chromium) loads each configured page on a
// schedule, through the CDN in production, and writes its Web Vitals to Prometheus, where the
// page-load rules and dashboard read them.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PageConfig } from "../config/traffic";
import { FINBOT_CHECKS } from "../lib/priority";
import { hardenedContainer, hardenedPodSpec } from "../lib/security";

/** Pod label of the browser checks (network policies select it). */
export const PAGE_CHECK_LABELS = { "app.kubernetes.io/name": "page-check" } as const;
/** Loads per run: the run's p75 is over these. */
const LOADS_PER_RUN = 3;

/**
 * The check's own Trends of LCP and TTFB (milliseconds; k6 writes them in seconds as
 * `k6_finbot_page_lcp_p75` and `k6_finbot_page_ttfb_p75`), tagged only with the page. k6 v2.2.0's
 * own web vitals cannot serve: the browser module adds a `rating` tag (good / needs-improvement /
 * poor) to every sample (internal/js/modules/k6/browser/common/frame_session.go,
 * parseAndEmitWebVitalMetric), `rating` is no system tag that `systemTags` could drop, the
 * remote-write output has no label filter and keeps one aggregate per tag set
 * (internal/output/prometheusrw/remotewrite), so its `_p75` is a p75 per rating, not per page.
 */
export const PAGE_TRENDS = { lcp: "finbot_page_lcp", ttfb: "finbot_page_ttfb" } as const;

/** k6 thresholds from a page's budgets: the run fails when its p75 LCP or TTFB over all its loads is over budget. */
export function pageThresholds(page: PageConfig): Record<string, string[]> {
    return {
        [PAGE_TRENDS.lcp]: [`p(75)<${page.lcpBudgetMs}`],
        [PAGE_TRENDS.ttfb]: [`p(75)<${page.ttfbBudgetMs}`],
        checks: ["rate==1"],
    };
}

/**
 * The k6 browser script of one page: a fresh page per load, its LCP and TTFB measured in the page
 * the way the web-vitals library k6 injects does (the last largest-contentful-paint entry's start
 * and the navigation's responseStart, less activationStart; k6 v2.2.0's
 * internal/js/modules/k6/browser/common/js/web_vital_iife.js), each added to the page's Trends
 * with the `page` tag only. k6's evaluate awaits the returned promise (execution_context.go,
 * WithAwaitPromise).
 */
export function pageCheckScript(page: PageConfig, url: string): string {
    return `import { browser } from "k6/browser";
import { check } from "k6";
import { Trend } from "k6/metrics";

const lcp = new Trend("${PAGE_TRENDS.lcp}", true);
const ttfb = new Trend("${PAGE_TRENDS.ttfb}", true);

export const options = {
  scenarios: {
    load: { executor: "shared-iterations", vus: 1, iterations: ${LOADS_PER_RUN}, options: { browser: { type: "chromium" } } },
  },
  thresholds: ${JSON.stringify(pageThresholds(page))},
  tags: { page: "${page.name}" },
};

// In the page: LCP and TTFB as web-vitals v5 computes them (k6's own copy, web_vital_iife.js).
function measure() {
  return new Promise((resolve) => {
    const navigation = performance.getEntriesByType("navigation")[0];
    const start = (navigation && navigation.activationStart) || 0;
    const since = (time) => Math.max(time - start, 0);
    const done = (lcp) => resolve({ lcp, ttfb: navigation ? since(navigation.responseStart) : null });
    new PerformanceObserver((list) => {
      const entries = list.getEntries();
      done(since(entries[entries.length - 1].startTime));
    }).observe({ type: "largest-contentful-paint", buffered: true });
    setTimeout(() => done(null), 5000);
  });
}

export default async function () {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const response = await page.goto("${url}", { waitUntil: "load" });
    check(response, { "status is 2xx or 3xx": (r) => r !== null && r.status() < 400 });
    const vitals = await page.evaluate(measure);
    if (check(vitals, { "LCP and TTFB measured": (v) => v.lcp !== null && v.ttfb !== null })) {
      lcp.add(vitals.lcp);
      ttfb.add(vitals.ttfb);
    }
  } finally {
    await page.close();
    await context.close();
  }
}
`;
}

/**
 * Chromium's flags: no sandbox (it needs privileges the restricted Pod Security Standard refuses;
 * the browser only opens FinBot's own pages), and where the check cannot use public DNS (a laptop
 * cluster's `*.localtest.me`), the domain resolved to the gateway's Service inside the cluster
 * and its self-signed certificate accepted.
 */
export function browserArgs(inCluster?: { domain: string; gatewayHost: string }): string {
    const args = ["no-sandbox"];
    if (inCluster) args.push(`host-resolver-rules=MAP *.${inCluster.domain} ${inCluster.gatewayHost}`, "ignore-certificate-errors");
    return args.join(",");
}

export interface PageChecksArgs {
    /** The pages, one CronJob each. */
    pages: PageConfig[];
    /** The public URL of each page, by page name. */
    urls: Record<string, string>;
    /** Namespace of the checks (FinBot's apps). */
    namespace: pulumi.Input<string>;
    /** Pinned k6 image with a browser. */
    image: string;
    /** Cron schedule of every check. */
    schedule: string;
    /** Prometheus remote-write URL for the Web Vitals. */
    remoteWriteUrl: string;
    /**
     * Resolve the domain to the gateway inside the cluster (a laptop cluster without public DNS).
     * @default public DNS
     */
    inCluster?: { domain: string; gatewayHost: string };
}

/** A CronJob per page: k6's browser loads it LOADS_PER_RUN times and writes the page's p75 (and p95) LCP and TTFB to Prometheus. */
export class PageChecks extends pulumi.ComponentResource {
    constructor(name: string, args: PageChecksArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:traffic:PageChecks", name, {}, opts);
        for (const page of args.pages) {
            const objectName = `page-check-${page.name}`;
            const metadata = { name: objectName, namespace: args.namespace, labels: { ...PAGE_CHECK_LABELS, "finbot.io/page": page.name } };
            const script = new k8s.core.v1.ConfigMap(
                `${name}-${page.name}`,
                { metadata, data: { "check.js": pageCheckScript(page, args.urls[page.name]) } },
                { parent: this },
            );
            new k8s.batch.v1.CronJob(
                `${name}-${page.name}`,
                {
                    metadata,
                    spec: {
                        schedule: args.schedule,
                        concurrencyPolicy: "Forbid",
                        successfulJobsHistoryLimit: 1,
                        failedJobsHistoryLimit: 3,
                        jobTemplate: {
                            spec: {
                                backoffLimit: 0,
                                activeDeadlineSeconds: 180,
                                ttlSecondsAfterFinished: 3600,
                                template: {
                                    metadata: { labels: metadata.labels },
                                    spec: hardenedPodSpec({
                                        restartPolicy: "Never",
                                        priorityClassName: FINBOT_CHECKS,
                                        runAs: { user: 12345 },
                                        containers: [
                                            {
                                                name: "k6",
                                                image: args.image,
                                                args: ["run", "--quiet", "--out", "experimental-prometheus-rw", "/scripts/check.js"],
                                                env: [
                                                    { name: "K6_PROMETHEUS_RW_SERVER_URL", value: args.remoteWriteUrl },
                                                    { name: "K6_PROMETHEUS_RW_TREND_STATS", value: "p(75),p(95)" },
                                                    { name: "K6_BROWSER_HEADLESS", value: "true" },
                                                    { name: "K6_BROWSER_ARGS", value: browserArgs(args.inCluster) },
                                                    { name: "HOME", value: "/tmp" },
                                                ],
                                                resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
                                                securityContext: hardenedContainer(),
                                                volumeMounts: [
                                                    { name: "scripts", mountPath: "/scripts", readOnly: true },
                                                    { name: "tmp", mountPath: "/tmp" },
                                                    // Chromium's shared memory: the default 64 MiB crashes tabs.
                                                    { name: "shm", mountPath: "/dev/shm" },
                                                ],
                                            },
                                        ],
                                        volumes: [
                                            { name: "scripts", configMap: { name: objectName } },
                                            { name: "tmp", emptyDir: { sizeLimit: "512Mi" } },
                                            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
                                        ],
                                    }),
                                },
                            },
                        },
                    },
                },
                { parent: this, dependsOn: [script] },
            );
        }
        this.registerOutputs({});
    }
}
