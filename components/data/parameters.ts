// PostgreSQL server parameters, the same in both modes. Pure.
import { DatabaseConfig } from "../config/data";

/**
 * PostgreSQL server parameters both modes set: query telemetry, the slow-query log, and no bound
 * parameter values in the log (they carry amounts, IBANs, names).
 */
export function postgresParameters(config: DatabaseConfig): Record<string, string> {
    return {
        "pg_stat_statements.track": "all",
        "pg_stat_statements.max": "10000",
        log_min_duration_statement: String(config.slowQueryMs),
        log_parameter_max_length: "0",
        log_parameter_max_length_on_error: "0",
    };
}
