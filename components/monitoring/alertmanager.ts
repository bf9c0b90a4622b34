// The Alertmanager configuration: pages to PagerDuty, tickets to Slack, the Watchdog to a dead
// man's switch, pages inhibiting tickets of the same service and SLO. Pure: the receivers'
// secrets are passed in as plain strings by the component, inside a secret Output.

export interface Receivers {
    pagerdutyRoutingKey?: string;
    slack?: { webhookUrl: string; channel: string };
    deadMansSwitchUrl?: string;
}

export interface RoutingTimes {
    groupWait: string;
    groupInterval: string;
    repeatInterval: string;
}

const NULL_RECEIVER = "null";

/** The alertmanager.yaml document. Receivers that are not configured route to "null". */
export function alertmanagerConfig(receivers: Receivers, times: RoutingTimes): Record<string, unknown> {
    const pager = receivers.pagerdutyRoutingKey ? "pagerduty" : NULL_RECEIVER;
    const tickets = receivers.slack ? "slack" : NULL_RECEIVER;
    const watchdog = receivers.deadMansSwitchUrl ? "deadmansswitch" : NULL_RECEIVER;
    const list: Array<Record<string, unknown>> = [{ name: NULL_RECEIVER }];
    if (receivers.pagerdutyRoutingKey) {
        list.push({
            name: "pagerduty",
            pagerduty_configs: [
                {
                    routing_key: receivers.pagerdutyRoutingKey,
                    send_resolved: true,
                    severity: "critical",
                    description: '{{ template "pagerduty.default.description" . }}',
                    details: { runbook_url: "{{ .CommonAnnotations.runbook_url }}", summary: "{{ .CommonAnnotations.summary }}" },
                },
            ],
        });
    }
    if (receivers.slack) {
        list.push({
            name: "slack",
            slack_configs: [
                {
                    api_url: receivers.slack.webhookUrl,
                    channel: receivers.slack.channel,
                    send_resolved: true,
                    title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ with .CommonLabels.service }}({{ . }}){{ end }}",
                    text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
                },
            ],
        });
    }
    if (receivers.deadMansSwitchUrl) {
        list.push({ name: "deadmansswitch", webhook_configs: [{ url: receivers.deadMansSwitchUrl, send_resolved: false }] });
    }
    return {
        global: { resolve_timeout: "5m" },
        route: {
            receiver: NULL_RECEIVER,
            group_by: ["alertname", "namespace", "service", "slo"],
            group_wait: times.groupWait,
            group_interval: times.groupInterval,
            repeat_interval: times.repeatInterval,
            routes: [
                // The always-firing Watchdog proves the alerting pipeline works end to end.
                { receiver: watchdog, matchers: ['alertname = "Watchdog"'], group_wait: "0s", group_interval: "1m", repeat_interval: "1m" },
                { receiver: NULL_RECEIVER, matchers: ['alertname = "InfoInhibitor"'] },
                { receiver: pager, matchers: ['severity =~ "page|critical"'] },
                { receiver: tickets, matchers: ['severity =~ "ticket|warning"'] },
            ],
        },
        inhibit_rules: [
            // A page says it all: no ticket of the same alert for the same thing on top of it.
            {
                source_matchers: ['severity = "page"'],
                target_matchers: ['severity = "ticket"'],
                equal: ["alertname", "service", "slo", "namespace", "persistentvolumeclaim", "instance"],
            },
            // kube-prometheus-stack's convention for its own rules.
            {
                source_matchers: ['severity = "critical"'],
                target_matchers: ['severity =~ "warning|info"'],
                equal: ["namespace", "alertname"],
            },
            { source_matchers: ['alertname = "InfoInhibitor"'], target_matchers: ['severity = "info"'], equal: ["namespace"] },
        ],
        receivers: list,
    };
}
