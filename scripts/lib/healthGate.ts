// The promotion health gate: is any SLO of the source stack burning right now?
import { firingSloAlerts } from "../../components/monitoring/conventions";

/** Descriptions of firing SLO burn alerts in the Prometheus at `url`; throws when it cannot tell. */
export async function burningSlos(url: string): Promise<string[]> {
    const query = firingSloAlerts();
    const endpoint = `${url.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`;
    let body: { status?: string; data?: { result?: Array<{ metric: Record<string, string> }> } };
    try {
        const response = await fetch(endpoint, { signal: AbortSignal.timeout(10_000) });
        body = (await response.json()) as typeof body;
        if (!response.ok || body.status !== "success") throw new Error(`HTTP ${response.status}`);
    } catch (error) {
        // An unknown health is not a healthy one.
        return [`cannot query ${url}: ${(error as Error).message}`];
    }
    return (body.data?.result ?? []).map((r) => `${r.metric.service}/${r.metric.slo} (${r.metric.severity})`);
}
