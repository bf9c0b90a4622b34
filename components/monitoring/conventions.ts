// The names FinBot's SLOs go by, in one place (as sloth's conventions): the recording rules, the
// alert, its labels and the windows. The rule generator, the dashboards, the promotion health gate,
// the detection-time script and the tests all read them from here.

/** The SLO window. */
export const SLO_PERIOD = "30d";

/** The alert every objective raises, with `severity`, `service` and `slo` labels. */
export const SLO_ALERT = "SLOErrorBudgetBurn";

export type SloKind = "availability" | "latency" | "uptime" | "uptime-edge";
export type Severity = "page" | "ticket";

/** The fraction of bad events over a window: `slo:sli_error:ratio_rate<window>`. */
export const sliErrorRatio = (window: string) => `slo:sli_error:ratio_rate${window}`;
/** The objective as a ratio (0.999). */
export const SLO_OBJECTIVE = "slo:objective:ratio";
/** The share of the period's error budget still unspent. */
export const SLO_BUDGET_REMAINING = "slo:error_budget_remaining:ratio";

/**
 * Burn-rate alert conditions (Google SRE Workbook, "Alerting on SLOs"): an alert fires when both
 * windows burn the budget faster than `factor` times the sustainable rate. A 14.4x burn spends 2%
 * of a 30-day budget in an hour.
 */
export const BURN_RATE_WINDOWS: ReadonlyArray<{ severity: Severity; long: string; short: string; factor: number }> = [
    { severity: "page", long: "1h", short: "5m", factor: 14.4 },
    { severity: "page", long: "6h", short: "30m", factor: 6 },
    { severity: "ticket", long: "1d", short: "2h", factor: 3 },
    { severity: "ticket", long: "3d", short: "6h", factor: 1 },
];

/** Every window an error ratio is recorded for. */
export const RATIO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/** Uniform RED recording rules per service, whatever the service's own metric names. */
export const RED = {
    requests: "service:requests:rate5m",
    errors: "service:errors:rate5m",
    latency: (quantile: number) => `service:latency_seconds:p${Math.round(quantile * 100)}`,
} as const;

/** Quantiles recorded per service for dashboards. */
export const LATENCY_QUANTILES = [0.5, 0.95, 0.99];

/** PromQL of the firing SLO alerts (optionally of one severity and objective). */
export function firingSloAlerts(filter: { severity?: Severity; slo?: SloKind } = {}): string {
    const extra = Object.entries(filter)
        .map(([k, v]) => `, ${k}="${v}"`)
        .join("");
    return `ALERTS{alertname="${SLO_ALERT}", alertstate="firing"${extra}}`;
}
