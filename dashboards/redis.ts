// Redis: is the cache up, how full, how effective (hit ratio), what it evicts and who connects.
import { DashboardDefinition, FOLDER, finbotDashboard, query, statPanel, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-redis";

export function redis(namespace: string): DashboardDefinition {
    const ns = `namespace="${namespace}"`;
    const builder = finbotDashboard(UID, "FinBot / Redis")
        .withRow(new dashboard.RowBuilder("Health"))
        .withPanel(statPanel("Up", "1 while the exporter reaches Redis.", "short", query(`min(redis_up{${ns}})`)))
        .withPanel(
            statPanel(
                "Memory used / max",
                "Memory Redis uses against its maxmemory.",
                "percentunit",
                query(`max(redis_memory_used_bytes{${ns}} / (redis_memory_max_bytes{${ns}} > 0))`),
            ),
        )
        .withPanel(
            statPanel(
                "Hit ratio (5m)",
                "Share of lookups that found their key over 5 minutes: the cache's value.",
                "percentunit",
                query(
                    `sum(rate(redis_keyspace_hits_total{${ns}}[5m])) / (sum(rate(redis_keyspace_hits_total{${ns}}[5m])) + sum(rate(redis_keyspace_misses_total{${ns}}[5m])))`,
                ),
            ),
        )
        .withPanel(statPanel("Connected clients", "Clients connected.", "short", query(`sum(redis_connected_clients{${ns}})`)))
        .withRow(new dashboard.RowBuilder("Load"))
        .withPanel(
            timeseriesPanel("Commands/s", "Commands processed per second.", "ops", [
                query(`sum(rate(redis_commands_processed_total{${ns}}[$__rate_interval]))`, "commands"),
            ]),
        )
        .withPanel(
            timeseriesPanel("Memory", "Memory used and maxmemory over time.", "bytes", [
                query(`redis_memory_used_bytes{${ns}}`, "used"),
                query(`redis_memory_max_bytes{${ns}}`, "max"),
            ]),
        )
        .withPanel(
            timeseriesPanel(
                "Evicted and expired keys/s",
                "Keys evicted (memory pressure) and expired (TTL) per second; evictions of sessions mean maxmemory is too small.",
                "short",
                [
                    query(`sum(rate(redis_evicted_keys_total{${ns}}[$__rate_interval]))`, "evicted"),
                    query(`sum(rate(redis_expired_keys_total{${ns}}[$__rate_interval]))`, "expired"),
                ],
            ),
        )
        .withPanel(timeseriesPanel("Keys", "Keys per database.", "short", [query(`sum by (db) (redis_db_keys{${ns}})`, "{{db}}")]))
        .withPanel(
            timeseriesPanel(
                "Keys per consumer prefix",
                "Keys under each service's or worker's prefix (<name>:), counted by the exporter's SCAN: a prefix that only grows writes keys past its TTL policy (REDIS_MAX_TTL_SECONDS) or without one. The exporter cannot tell which of them lack a TTL: the keys-without-expiry panel counts those for the whole cache.",
                "short",
                [query(`sum by (key_group) (redis_key_group_count{${ns}})`, "{{key_group}}")],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Memory per consumer prefix",
                "Memory the keys under each prefix take (MEMORY USAGE, summed by the exporter's scan).",
                "bytes",
                [query(`sum by (key_group) (redis_key_group_memory_usage_bytes{${ns}})`, "{{key_group}}")],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Keys without expiry (stale data)",
                "Keys that never expire: cached copies that can outlive the data they copy. It should stay near zero; growth is a consumer caching without a TTL.",
                "short",
                [query(`sum by (db) (redis_db_keys{${ns}}) - sum by (db) (redis_db_keys_expiring{${ns}})`, "{{db}}")],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Expired against evicted",
                "Share of keys leaving by their TTL rather than by eviction: below 1, maxmemory decides what stays, not the TTLs.",
                "percentunit",
                [
                    query(
                        `sum(rate(redis_expired_keys_total{${ns}}[$__rate_interval])) / (sum(rate(redis_expired_keys_total{${ns}}[$__rate_interval])) + sum(rate(redis_evicted_keys_total{${ns}}[$__rate_interval])))`,
                        "expired share",
                    ),
                ],
            ),
        );
    return { uid: UID, title: "FinBot / Redis", folder: FOLDER, model: builder.build() };
}
