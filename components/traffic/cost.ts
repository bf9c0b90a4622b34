// The monthly cost estimate of a stack: the AWS resources the plan creates and the cluster
// capacity the workloads request, from the dated price table of the region. Pure.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { PlatformConfig } from "../config/schema";

export interface PriceTable {
    region: string;
    date: string;
    currency: string;
    hoursPerMonth: number;
    rdsInstanceHourly: Record<string, number>;
    rdsMultiAzFactor: number;
    rdsGp3StorageGbMonth: number;
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

/** Cluster capacity the stack requests at the services' minimum replicas plus every other pod. */
export function estimateCost(config: PlatformConfig, prices: PriceTable, requested: { millicores: number; bytes: number }): CostLine[] {
    const month = prices.hoursPerMonth;
    const lines: CostLine[] = [];
    const { database: db, cache, traffic } = config;
    const price = (table: Record<string, number>, key: string, what: string) => {
        const value = table[key];
        if (value === undefined) throw new Error(`the price table for ${prices.region} (${prices.date}) has no ${what} "${key}"`);
        return value;
    };
    if (db.enabled && db.mode === "rds") {
        const hourly = price(prices.rdsInstanceHourly, db.rds.instanceClass, "RDS instance class");
        lines.push({ item: "RDS primary (Multi-AZ)", quantity: db.rds.instanceClass, monthly: hourly * prices.rdsMultiAzFactor * month });
        if (db.readReplicas > 0)
            lines.push({
                item: "RDS read replicas",
                quantity: `${db.readReplicas} × ${db.rds.instanceClass}`,
                monthly: db.readReplicas * hourly * month,
            });
        lines.push({
            item: "RDS storage (gp3, at allocated size)",
            quantity: `${(prices.rdsMultiAzFactor + db.readReplicas) * db.rds.allocatedStorageGb} GB (the primary twice for Multi-AZ, and each replica)`,
            monthly: (prices.rdsMultiAzFactor + db.readReplicas) * db.rds.allocatedStorageGb * prices.rdsGp3StorageGbMonth,
        });
        const vcpus = price(prices.rdsInstanceVcpus, db.rds.instanceClass, "vCPU count of");
        lines.push({ item: "RDS Proxy", quantity: `${vcpus} vCPU of the writer`, monthly: vcpus * prices.rdsProxyVcpuHourly * month });
    }
    if (cache.enabled && cache.mode === "elasticache") {
        const nodes = config.network?.availabilityZones.length ?? 2;
        const hourly = price(prices.elasticacheNodeHourly, cache.elasticache.nodeType, "ElastiCache node type");
        const factor = cache.elasticache.engine === "valkey" ? 1 - prices.valkeyDiscount : 1;
        lines.push({
            item: `ElastiCache (${cache.elasticache.engine})`,
            quantity: `${nodes} × ${cache.elasticache.nodeType}`,
            monthly: nodes * hourly * factor * month,
        });
    }
    if (traffic.enabled && config.environment === "production") {
        lines.push({ item: "Network Load Balancer", quantity: "1 NLB + 1 LCU", monthly: (prices.nlbHourly + prices.nlbLcuHourly) * month });
    }
    if (traffic.enabled && traffic.cdn.enabled) {
        lines.push({
            item: "CloudFront",
            quantity: `${CDN_ASSUMPTION.gb} GB, ${CDN_ASSUMPTION.requests / 1e6}M HTTPS requests (assumed)`,
            monthly:
                CDN_ASSUMPTION.gb * prices.cloudfrontDataTransferGb +
                (CDN_ASSUMPTION.requests / 10_000) * prices.cloudfrontHttpsRequestsPer10k,
        });
    }
    const vcpu = requested.millicores / 1000;
    const gib = requested.bytes / 2 ** 30;
    lines.push({
        item: "Cluster capacity for requested pods",
        quantity: `${Number(vcpu.toFixed(2))} vCPU, ${Number(gib.toFixed(1))} GiB (on-demand EC2 equivalent)`,
        monthly: (vcpu * prices.ec2VcpuHourly + gib * prices.ec2GibHourly) * month,
    });
    return lines;
}
