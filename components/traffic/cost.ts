// The monthly cost estimate of a stack: the AWS resources the plan creates and the cluster
// capacity the workloads request, from the dated price table of the region. Pure.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { totalRequests } from "../lib/footprint";
import { Footprint } from "../lib/footprint";
import { ThirdPartyConfig } from "../config/thirdParties";

export interface PriceTable {
    region: string;
    date: string;
    currency: string;
    hoursPerMonth: number;
    auroraInstanceHourly: Record<string, number>;
    auroraStorageGbMonth: number;
    backupStorageGbMonth: number;
    rdsProxyVcpuHourly: number;
    rdsInstanceVcpus: Record<string, number>;
    elasticacheNodeHourly: Record<string, number>;
    valkeyDiscount: number;
    nlbHourly: number;
    nlbLcuHourly: number;
    cloudfrontDataTransferGb: number;
    cloudfrontHttpsRequestsPer10k: number;
    s3StandardGbMonth: number;
    ec2VcpuHourly: number;
    ec2GibHourly: number;
    wafWebAclMonthly: number;
    wafRuleMonthly: number;
    wafRequestsPerMillion: number;
}

export function loadPriceTable(region: string): PriceTable | undefined {
    try {
        return JSON.parse(readFileSync(path.join(__dirname, "prices", `${region}.json`), "utf8")) as PriceTable;
    } catch {
        return undefined;
    }
}

export interface CostLine {
    item: string;
    quantity: string;
    monthly: number;
}

/** Assumed monthly CDN traffic, for the estimate only. */
export const CDN_ASSUMPTION = { gb: 1000, requests: 50_000_000 };

/**
 * The monthly cost of what the components declare: the managed AWS services they create, priced
 * from the table, and the cluster capacity their pods request (on-demand EC2 equivalent).
 */
export function estimateCost(footprint: Footprint, prices: PriceTable): CostLine[] {
    const month = prices.hoursPerMonth;
    const price = (table: Record<string, number>, key: string, what: string) => {
        const value = table[key];
        if (value === undefined) throw new Error(`the price table for ${prices.region} (${prices.date}) has no ${what} "${key}"`);
        return value;
    };
    const lines: CostLine[] = footprint.managed.map((service): CostLine => {
        switch (service.kind) {
            case "aurora-instance": {
                const hourly = price(prices.auroraInstanceHourly, service.instanceClass, "Aurora instance class");
                return {
                    item: `Aurora ${service.role}`,
                    quantity: service.count === 1 ? service.instanceClass : `${service.count} × ${service.instanceClass}`,
                    monthly: service.count * hourly * month,
                };
            }
            case "aurora-storage":
                return {
                    item: "Aurora storage",
                    quantity: `${service.gb} GB (assumed)`,
                    monthly: service.gb * prices.auroraStorageGbMonth,
                };
            case "rds-proxy": {
                const vcpus = service.instances * price(prices.rdsInstanceVcpus, service.instanceClass, "vCPU count of");
                return { item: "RDS Proxy", quantity: `${vcpus} vCPU behind it`, monthly: vcpus * prices.rdsProxyVcpuHourly * month };
            }
            case "backup-copy":
                return {
                    item: "Backup copies (second region)",
                    quantity: `${service.gb} GB (assumed)`,
                    monthly: service.gb * prices.backupStorageGbMonth,
                };
            case "elasticache-node": {
                const hourly = price(prices.elasticacheNodeHourly, service.nodeType, "ElastiCache node type");
                const factor = service.engine === "valkey" ? 1 - prices.valkeyDiscount : 1;
                return {
                    item: `ElastiCache (${service.engine})`,
                    quantity: `${service.count} × ${service.nodeType}`,
                    monthly: service.count * hourly * factor * month,
                };
            }
            case "nlb":
                return {
                    item: "Network Load Balancer",
                    quantity: "1 NLB + 1 LCU",
                    monthly: (prices.nlbHourly + prices.nlbLcuHourly) * month,
                };
            case "waf":
                return {
                    item: "WAF (web ACL on CloudFront)",
                    quantity: `${service.rules} rules, ${CDN_ASSUMPTION.requests / 1e6}M requests (assumed)`,
                    monthly:
                        prices.wafWebAclMonthly +
                        service.rules * prices.wafRuleMonthly +
                        (CDN_ASSUMPTION.requests / 1e6) * prices.wafRequestsPerMillion,
                };
            case "cloudfront":
                return {
                    item: "CloudFront",
                    quantity: `${CDN_ASSUMPTION.gb} GB, ${CDN_ASSUMPTION.requests / 1e6}M HTTPS requests (assumed)`,
                    monthly:
                        CDN_ASSUMPTION.gb * prices.cloudfrontDataTransferGb +
                        (CDN_ASSUMPTION.requests / 10_000) * prices.cloudfrontHttpsRequestsPer10k,
                };
        }
    });
    const { millicores, bytes } = totalRequests(footprint.requests);
    const vcpu = millicores / 1000;
    const gib = bytes / 2 ** 30;
    lines.push({
        item: "Cluster capacity for requested pods",
        quantity: `${Number(vcpu.toFixed(2))} vCPU, ${Number(gib.toFixed(1))} GiB (on-demand EC2 equivalent)`,
        monthly: (vcpu * prices.ec2VcpuHourly + gib * prices.ec2GibHourly) * month,
    });
    return lines;
}

/** A third party's monthly spend at today's expected traffic and at `factor` times it, in USD. */
export interface ThirdPartySpend {
    provider: string;
    requestsPerMonth: number;
    today: number;
    atFactor: number;
    budget: number;
    /** The most a day can cost with every egress proxy at the provider's rate limit. */
    ceilingPerDay: number;
}

/**
 * What each provider costs by requests alone (the expected requests a month × the price per request;
 * bytes are priced in the running cluster, not estimated here). Pure.
 */
export function thirdPartySpend(providers: ThirdPartyConfig[], egressReplicas: number, factor: number): ThirdPartySpend[] {
    return providers.map((p) => ({
        provider: p.name,
        requestsPerMonth: p.expectedRequestsPerMonth,
        today: p.expectedRequestsPerMonth * p.price.perRequest,
        atFactor: factor * p.expectedRequestsPerMonth * p.price.perRequest,
        budget: p.monthlyBudget,
        ceilingPerDay: p.rateLimitPerSecond * egressReplicas * 86400 * p.price.perRequest,
    }));
}
