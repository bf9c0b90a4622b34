// The promotion health gate: is any SLO of the source stack burning right now? An unknown health
// is not a healthy one, and not a burning one either: it is reported as what it is.
import { firingSloAlerts } from "../../components/monitoring/conventions";

export type SloHealth = { reachable: true; burning: string[] } | { reachable: false; why: string };

/** The firing SLO burn alerts in the Prometheus at `url`, or why it could not be asked. */
export async function sloHealth(url: string): Promise<SloHealth> {
    const query = firingSloAlerts();
    const endpoint = `${url.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`;
    let body: { status?: string; data?: { result?: Array<{ metric: Record<string, string> }> } };
    try {
        const response = await fetch(endpoint, { signal: AbortSignal.timeout(10_000) });
        if (!response.ok) return { reachable: false, why: `HTTP ${response.status}` };
        body = (await response.json()) as typeof body;
        if (body?.status !== "success") return { reachable: false, why: "not a Prometheus query answer" };
    } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        return { reachable: false, why: cause ?? (error as Error).message.split("\n")[0] };
    }
    return {
        reachable: true,
        burning: (body.data?.result ?? []).map((r) => `${r.metric.service}/${r.metric.slo} (${r.metric.severity})`),
    };
}
