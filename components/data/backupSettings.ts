// Backups of the in-cluster PostgreSQL and the point a restore goes back to: what CloudNativePG's
// Barman Cloud plugin is given (WAL archiving, a daily base backup, how long both are kept) and the
// recovery target of a restore. test/postgres-restore.test.ts runs the same archiving settings and
// recovery target on a real server. Aurora (prod) keeps its own: backupRetentionDays and AWS
// Backup in aurora.ts. Pure.

/** The CNPG-I plugin that archives WAL and takes base backups into an ObjectStore. */
export const BARMAN_CLOUD_PLUGIN = "barman-cloud.cloudnative-pg.io";

/** ObjectStore `.spec.retentionPolicy`: any point of the last 14 days can be restored (a recovery window). */
export const BACKUP_RETENTION = "14d";

/** ScheduledBackup `.spec.schedule`: a base backup every day at 03:00 (CloudNativePG's cron has six fields, seconds first). */
export const BASE_BACKUP_SCHEDULE = "0 0 3 * * *";

/**
 * Server settings continuous archiving needs. In the cluster CloudNativePG sets `archive_mode` and
 * `archive_command` itself (the plugin's sidecar ships each finished WAL segment to the object
 * store) and defaults `wal_level` to `logical`, which includes `replica`; `archive_timeout` is ours
 * to pass in `postgresql.parameters`: at most that much committed work is not yet archived when a
 * quiet primary is lost (a busy one fills and ships 16 MB segments sooner).
 */
export function archiveSettings(): { archive_mode: "on"; archive_timeout: string; wal_level: "replica" } {
    return { archive_mode: "on", archive_timeout: "5min", wal_level: "replica" };
}

/**
 * The Cluster's `bootstrap.recovery.recoveryTarget` for a point-in-time restore: replay WAL up to
 * `time` (transactions committed after it are not replayed); the operator picks the newest base
 * backup completed before it. Written as a PostgreSQL timestamp with a numeric UTC offset
 * (`2026-11-26 19:29:01.517000+00`), the form CloudNativePG's docs use: PostgreSQL refuses
 * `recovery_target_time` in the RFC 3339 form (`...T19:29:01.517Z`) at startup ("invalid value for
 * parameter"; tried on PostgreSQL 15 while writing the test), and a CloudNativePG 1.27 user reported a `Z` targetTime failing the
 * same way (cloudnative-pg/cloudnative-pg#10819).
 */
export function recoveryTarget(time: Date): { targetTime: string } {
    const iso = time.toISOString(); // always UTC: 2026-11-26T19:29:01.517Z
    return { targetTime: `${iso.slice(0, 10)} ${iso.slice(11, 23)}000+00` };
}

/**
 * What PostgreSQL itself is given for that restore (CloudNativePG's recovery job writes the same,
 * with the plugin fetching WAL from the object store as `restore_command`), next to a
 * `recovery.signal` file: fetch archived WAL, stop at the target, then promote and take writes.
 */
export function recoverySettings(time: Date, restoreCommand: string): Record<string, string> {
    return {
        restore_command: restoreCommand,
        recovery_target_time: recoveryTarget(time).targetTime,
        recovery_target_action: "promote",
    };
}
