// What the smoke check requests, derived from an offline plan of the stack (its Gateway, HTTPRoutes,
// SecurityPolicies and CloudFront distribution) and the services' health paths: never hand-written
// URLs. The gateway itself for each public route's hosts (its address, with the origin key where
// the gateway demands it), and the edge for the CDN's origin service (each CDN alias -> CloudFront
// -> NLB -> gateway -> service). Pure.
import { GATEWAY, cdnOriginService } from "../../components/traffic/routes";
import { PlannedResource } from "./planDiff";

/** What the checks read of a planned resource. */
type Planned = Pick<PlannedResource, "type" | "inputs">;

export interface SmokeCheck {
    /** What a failure names: the path through the stack. */
    name: string;
    /** TLS server name and Host header. */
    host: string;
    path: string;
    /** `edge`: the host's public DNS (CloudFront); `gateway`: the public gateway's address. */
    via: "edge" | "gateway";
    /** The header the gateway checks the origin key in (CloudFront sends it; a direct request must). */
    originKeyHeader?: string;
}

/** A FinBot service as the smoke check needs it. */
export interface SmokeService {
    name: string;
    public: boolean;
    health?: { readiness: string };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const ofKind = (resources: Planned[], kind: string) =>
    resources.filter((r) => r.type.startsWith("kubernetes:") && r.type.endsWith(`:${kind}`)).map((r) => r.inputs as Any);

/** Whether a route's rules send `path` to the backend (a PathPrefix or Exact match covering it). */
function serves(route: Any, path: string): boolean {
    return (route.spec?.rules ?? []).some((rule: Any) =>
        (rule.matches ?? [{ path: { type: "PathPrefix", value: "/" } }]).some((m: Any) => {
            const { type = "PathPrefix", value = "/" } = m.path ?? {};
            if (type === "Exact") return value === path;
            return value === "/" || path === value || path.startsWith(value.endsWith("/") ? value : `${value}/`);
        }),
    );
}

export function smokeChecks(resources: Planned[], services: SmokeService[]): { checks: SmokeCheck[]; skipped: string[] } {
    const checks: SmokeCheck[] = [];
    const skipped: string[] = [];
    const byName = new Map(services.map((s) => [s.name, s]));
    const keyPolicy = ofKind(resources, "SecurityPolicy").find((p) =>
        (p.spec?.targetRefs ?? []).some((t: Any) => t.kind === "Gateway" && t.name === GATEWAY),
    );
    const originKeyHeader: string | undefined = keyPolicy?.spec?.apiKeyAuth?.extractFrom?.[0]?.headers?.[0];
    const routes = ofKind(resources, "HTTPRoute").filter((r) => (r.spec?.parentRefs ?? []).some((p: Any) => p.name === GATEWAY));
    for (const route of routes) {
        const backend: string | undefined = route.spec?.rules?.[0]?.backendRefs?.[0]?.name;
        const hosts: string[] = route.spec?.hostnames ?? [];
        if (!backend) continue; // a redirect (HTTP to HTTPS): nothing behind it to be healthy
        const service = byName.get(backend);
        const health = service?.health?.readiness;
        if (!health) {
            skipped.push(`${hosts.join(", ")}: routes to ${backend}, which has no readiness path of FinBot's`);
            continue;
        }
        if (!serves(route, health)) {
            skipped.push(`${hosts.join(", ")}: the route does not serve ${backend}'s readiness path ${health}`);
            continue;
        }
        for (const host of hosts)
            checks.push({ name: `gateway ${host}${health} -> ${backend}`, host, path: health, via: "gateway", originKeyHeader });
    }
    const origin = byName.get(cdnOriginService(services));
    for (const cdn of resources.filter((r) => r.type === "aws:cloudfront/distribution:Distribution")) {
        const aliases: string[] = (cdn.inputs as { aliases?: string[] }).aliases ?? [];
        if (aliases.length === 0) skipped.push("the CDN has no alias: its cloudfront.net name is known only once deployed");
        const health = origin?.health?.readiness;
        if (!origin || !health) continue;
        for (const alias of aliases)
            checks.push({
                name: `edge ${alias}${health} -> CloudFront -> gateway -> ${origin.name}`,
                host: alias,
                path: health,
                via: "edge",
            });
    }
    return { checks, skipped };
}
