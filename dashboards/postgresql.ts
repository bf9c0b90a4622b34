// PostgreSQL: availability, replication lag, connections against the limit, and query
// performance from pg_stat_statements (time spent, mean time and calls of the top statements).
import { DashboardDefinition, FOLDER, finbotDashboard, query, statPanel, tablePanel, timeseriesPanel, dashboard } from "./common";

export const UID = "finbot-postgresql";

export function postgresql(namespace: string, mode: "in-cluster" | "aurora"): DashboardDefinition {
    const ns = `namespace="${namespace}"`;
    const m =
        mode === "in-cluster"
            ? {
                  up: `cnpg_collector_up{${ns}}`,
                  lag: `cnpg_pg_replication_lag{${ns}}`,
                  replica: "pod",
                  backends: `sum by (pod) (cnpg_backends_total{${ns}})`,
                  time: `cnpg_pg_stat_statements_total_exec_seconds{${ns}}`,
                  calls: `cnpg_pg_stat_statements_calls{${ns}}`,
                  instance: "pod",
              }
            : {
                  up: `pg_up{${ns}}`,
                  lag: `aurora_replica_lag_seconds{${ns}}`,
                  replica: "server_id",
                  backends: `sum by (aurora_endpoint) (pg_stat_database_numbackends{${ns}})`,
                  time: `pg_stat_statements_seconds_total{${ns}}`,
                  calls: `pg_stat_statements_calls_total{${ns}}`,
                  instance: "aurora_endpoint",
              };
    const builder = finbotDashboard(UID, "FinBot / PostgreSQL")
        .withRow(new dashboard.RowBuilder("Health"))
        .withPanel(statPanel("Instances up", "PostgreSQL instances whose exporter reaches them.", "short", query(`sum(${m.up})`)))
        .withPanel(
            statPanel(
                "Max replication lag",
                "Largest lag of a read replica behind the primary: reads see data this old.",
                "s",
                query(`max(${m.lag})`),
            ),
        )
        .withPanel(statPanel("Connections", "Backends connected now, against max_connections.", "short", query(`sum(${m.backends})`)))
        .withPanel(
            statPanel("Statements/s", "Statements executed per second (pg_stat_statements).", "ops", query(`sum(rate(${m.calls}[5m]))`)),
        )
        .withPanel(
            timeseriesPanel("Replication lag", "Lag of each read replica behind the primary.", "s", [query(m.lag, `{{${m.replica}}}`)]),
        )
        .withPanel(
            timeseriesPanel("Connections", "Backends per instance over time; clients should come through the pooler.", "short", [
                query(m.backends, `{{${m.instance}}}`),
            ]),
        )
        .withRow(new dashboard.RowBuilder("Query performance (pg_stat_statements)"))
        .withPanel(
            timeseriesPanel(
                "Time spent per second, top 10 statements",
                "Seconds spent executing per second, by statement: where the database's time goes.",
                "s",
                [query(`topk(10, sum by (queryid) (rate(${m.time}[$__rate_interval])))`, "{{queryid}}")],
            ),
        )
        .withPanel(
            timeseriesPanel(
                "Mean execution time, top 10",
                "Mean execution time of the ten slowest statements; the slow-query alert compares this with slowQueryMs.",
                "s",
                [
                    query(
                        `topk(10, sum by (queryid) (rate(${m.time}[$__rate_interval])) / sum by (queryid) (rate(${m.calls}[$__rate_interval])))`,
                        "{{queryid}}",
                    ),
                ],
            ),
        )
        .withPanel(
            tablePanel(
                "Slowest statements now (mean seconds)",
                "The statements with the highest mean execution time now, by query id.",
                query(`topk(20, sum by (datname, queryid) (rate(${m.time}[15m])) / sum by (datname, queryid) (rate(${m.calls}[15m])))`),
            ),
        );
    return { uid: UID, title: "FinBot / PostgreSQL", folder: FOLDER, model: builder.build() };
}
