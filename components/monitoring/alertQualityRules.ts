// Alert noise, from Prometheus's own ALERTS series: how often each alert starts firing (a page, or
// a ticket, each time), how long it fires, and two tickets: pages a week over the noise budget, and
// an alert that flaps. Pure.
import { MonitoringConfig } from "../config/monitoring";
import { RuleGroup } from "./rules";

/** How often this group evaluates: a start is a firing alert that was not firing one evaluation earlier. */
export const ALERT_QUALITY_INTERVAL = "1m";
/** Firing alerts by name and severity, each evaluation. */
export const ALERTS_FIRING = "finbot:alerts_firing:count";
/** Alerts that started firing since the last evaluation (one sample per start), by name and severity. */
export const ALERT_STARTS = "finbot:alert_starts:count";

/** The always-firing heartbeat and kube-prometheus-stack's inhibitor say nothing about noise. */
const FIRING = 'ALERTS{alertstate="firing", alertname!~"Watchdog|InfoInhibitor"}';

export function alertQualityRuleGroup(noise: MonitoringConfig["noise"]): RuleGroup {
    return {
        name: "finbot-alert-quality",
        interval: ALERT_QUALITY_INTERVAL,
        rules: [
            { record: ALERTS_FIRING, expr: `count by (alertname, severity) (${FIRING})` },
            // Prometheus marks an alert's series stale when it resolves, so "firing one evaluation ago"
            // sees only the same episode: each start is counted once. An alert that fires for less than
            // one evaluation is not seen at all.
            {
                record: ALERT_STARTS,
                expr: `count by (alertname, severity) (${FIRING} unless ${FIRING} offset ${ALERT_QUALITY_INTERVAL})`,
            },
            {
                alert: "FinbotPagesOverNoiseBudget",
                expr: `sum(sum_over_time(${ALERT_STARTS}{severity=~"page|critical"}[7d])) > ${noise.pagesPerWeek}`,
                labels: { severity: "ticket" },
                annotations: {
                    summary: "More pages in the last 7 days than the on-call can act on",
                    description: `{{ $value }} pages in 7 days, over the noise budget of ${noise.pagesPerWeek} (finbot:monitoring.noise.pagesPerWeek). Open FinBot / Alert quality: which alerts paged, for how long, and whether each was acted on.`,
                    runbook: "alert-noise",
                },
            },
            {
                alert: "FinbotAlertFlapping",
                expr: `sum by (alertname) (sum_over_time(${ALERT_STARTS}[1d])) > ${noise.flapsPerDay}`,
                labels: { severity: "ticket" },
                annotations: {
                    summary: "{{ $labels.alertname }} started firing {{ $value }} times in a day",
                    description: `{{ $labels.alertname }} started firing more than ${noise.flapsPerDay} times in 24 hours (finbot:monitoring.noise.flapsPerDay): its threshold sits on the signal's normal swing, or it needs a longer for or keep_firing_for.`,
                    runbook: "alert-noise",
                },
            },
        ],
    };
}
