// SLO rules: multiwindow, multi-burn-rate alerts as in the Google SRE Workbook (chapter "Alerting
// on SLOs"), for a 30-day window, with recording rules for the SLI error ratios and the error
// budget remaining. Pure: service config in, rule groups out.
import { ServiceConfig } from "../config/schema";
import {
    BURN_RATE_WINDOWS,
    LATENCY_QUANTILES,
    RATIO_WINDOWS,
    RED,
    SLO_ALERT,
    SLO_BUDGET_REMAINING,
    SLO_OBJECTIVE,
    SLO_PERIOD,
    Severity,
    SloKind,
    sliErrorRatio,
} from "./conventions";
import { RuleGroup, selector } from "./rules";

/** One objective: which service, what SLI (as an error ratio over a window), what target. */
export interface Objective {
    service: string;
    slo: SloKind;
    /** Target in percent, e.g. 99.9. */
    objective: number;
    /** PromQL of the fraction of bad events over `window`. */
    errorRatio: (window: string) => string;
    /** What a bad event is, for humans. */
    description: string;
}

/**
 * The `le` label of a bucket boundary as Prometheus 3 stores it (kube-prometheus-stack 88 runs
 * Prometheus 3, which normalises classic histogram `le` values to floats): 0.25 -> "0.25", 1 -> "1.0".
 */
export function leLabel(seconds: number): string {
    return Number.isInteger(seconds) ? seconds.toFixed(1) : String(seconds);
}

/** The availability and latency objectives of a service, from its `slo` config. */
export function serviceObjectives(service: ServiceConfig, namespace: string): Objective[] {
    const { sli } = service.slo;
    const target = { namespace, service: service.name };
    const requests = (window: string, extra: Record<string, string> = {}) =>
        `sum(rate(${sli.requestsMetric}${selector({ ...target, ...extra })}[${window}]))`;
    const bucket = (window: string) =>
        `sum(rate(${sli.durationMetric}_bucket${selector({ ...target, le: leLabel(service.slo.latency.thresholdSeconds) })}[${window}]))`;
    const count = (window: string) => `sum(rate(${sli.durationMetric}_count${selector(target)}[${window}]))`;
    return [
        {
            service: service.name,
            slo: "availability",
            objective: service.slo.availability,
            errorRatio: (w) => `${requests(w, { [sli.statusLabel]: `~${sli.errorStatus}` })} / ${requests(w)}`,
            description: `responses with status ${sli.errorStatus}`,
        },
        {
            service: service.name,
            slo: "latency",
            objective: service.slo.latency.percent,
            errorRatio: (w) => `1 - (${bucket(w)} / ${count(w)})`,
            description: `requests slower than ${service.slo.latency.thresholdSeconds}s`,
        },
    ];
}

/** Uptime from the share of a blackbox probe's successes: `probe` is its `probe` label. */
function probeObjective(service: string, objective: number, probe: "uptime" | "edge", slo: SloKind, description: string): Objective {
    return {
        service,
        slo,
        objective,
        errorRatio: (w) => `1 - avg(avg_over_time(probe_success${selector({ service, probe })}[${w}]))`,
        description,
    };
}

/** The uptime objective of a public service, measured by its blackbox probe. */
export function uptimeObjective(service: string, objective: number): Objective {
    return probeObjective(service, objective, "uptime", "uptime", "failed probes of its health endpoint");
}

/** Uptime from outside in: probes through the public address (CDN, load balancer, gateway, certificate), a series of its own. */
export function edgeUptimeObjective(service: string, objective: number): Objective {
    return probeObjective(service, objective, "edge", "uptime-edge", "failed probes of its health endpoint through its public address");
}

/** How long a page stays firing after its burn stops: a fault that comes back within it is the same incident. */
export const PAGE_KEEP_FIRING_FOR = "15m";

/** Recording and alerting rules for one objective. */
export function sloRuleGroup(objective: Objective): RuleGroup {
    const labels = { service: objective.service, slo: objective.slo };
    const budget = Number((1 - objective.objective / 100).toPrecision(6));
    const recorded = (window: string) => `${sliErrorRatio(window)}${selector(labels)}`;
    const condition = (severity: Severity) =>
        BURN_RATE_WINDOWS.filter((w) => w.severity === severity)
            .map((w) => `(${recorded(w.long)} > (${w.factor} * ${budget}) and ${recorded(w.short)} > (${w.factor} * ${budget}))`)
            .join(" or ");
    const alert = (severity: Severity) => ({
        alert: SLO_ALERT,
        expr: condition(severity),
        // A page's short windows (5m, 30m) clear within minutes of an intermittent fault's good
        // spell: without this, each return of the fault resolved and paged again.
        ...(severity === "page" ? { keep_firing_for: PAGE_KEEP_FIRING_FOR } : {}),
        labels: { severity, ...labels },
        annotations: {
            summary: `${objective.service}: ${objective.slo} error budget burning ${severity === "page" ? "fast" : "steadily"}`,
            description:
                `${objective.service} is burning its ${objective.slo} error budget (${objective.objective}% over ${SLO_PERIOD}; bad events: ` +
                `${objective.description}) faster than the SLO allows. ` +
                (severity === "page"
                    ? "At this rate the monthly budget is gone within days."
                    : "Left alone, the budget runs out before the window ends."),
            runbook: "slo-burn" as const,
        },
    });
    return {
        name: `slo-${objective.service}-${objective.slo}`,
        rules: [
            ...RATIO_WINDOWS.map((window) => ({ record: sliErrorRatio(window), expr: objective.errorRatio(window), labels })),
            { record: SLO_OBJECTIVE, expr: `vector(${objective.objective / 100})`, labels },
            {
                record: sliErrorRatio(SLO_PERIOD),
                expr: `avg_over_time(${recorded("5m")}[${SLO_PERIOD}])`,
                labels,
            },
            {
                record: SLO_BUDGET_REMAINING,
                expr: `1 - (${recorded(SLO_PERIOD)} / ${budget})`,
                labels,
            },
            alert("page"),
            alert("ticket"),
        ],
    };
}

/**
 * RED recording rules per service (rate, errors, duration) under uniform names, so that
 * dashboards work for every service whatever its metric names.
 */
export function redRuleGroup(service: ServiceConfig, namespace: string): RuleGroup {
    const { sli } = service.slo;
    const target = selector({ namespace, service: service.name });
    const labels = { service: service.name };
    return {
        name: `red-${service.name}`,
        rules: [
            { record: RED.requests, expr: `sum(rate(${sli.requestsMetric}${target}[5m]))`, labels },
            {
                record: RED.errors,
                expr: `sum(rate(${sli.requestsMetric}${selector({ namespace, service: service.name, [sli.statusLabel]: `~${sli.errorStatus}` })}[5m]))`,
                labels,
            },
            ...LATENCY_QUANTILES.map((q) => ({
                record: RED.latency(q),
                expr: `histogram_quantile(${q}, sum by (le) (rate(${sli.durationMetric}_bucket${target}[5m])))`,
                labels,
            })),
        ],
    };
}
