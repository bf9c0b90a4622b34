#!/usr/bin/env bash
# Measures what one PostgreSQL server answers in read-only queries per second (pgbench -S: a
# primary-key SELECT per transaction), on this machine, with the Debian packages: the basis of
# finbot:database.aurora.readQueriesPerSecondPerReader until it is measured on a reader itself.
# Usage: bash scripts/pg-read-capacity.sh [clients] [seconds]   (server on 127.0.0.1 only, stopped by its PID)
set -euo pipefail
clients="${1:-8}"
seconds="${2:-20}"
bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -1)"
[ -x "$bin/pgbench" ] || { echo "pg-read-capacity: needs PostgreSQL (apt-get install postgresql)" >&2; exit 2; }
dir="$(mktemp -d)"
run=()
[ "$(id -u)" = 0 ] && { chown postgres "$dir"; run=(runuser -u postgres --); }
cleanup() { [ -f "$dir/data/postmaster.pid" ] && kill "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null; sleep 1; rm -rf "$dir"; }
trap cleanup EXIT
"${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -o "-c listen_addresses=127.0.0.1 -p 55432 -k $dir -c shared_buffers=256MB" -w -t 30 start >/dev/null
"${run[@]}" "$bin/pgbench" -h 127.0.0.1 -p 55432 -U postgres -i -s 20 -q postgres >/dev/null 2>&1
echo "cpus: $(nproc); clients: $clients; seconds: $seconds"
timeout $((seconds + 30)) "${run[@]}" "$bin/pgbench" -h 127.0.0.1 -p 55432 -U postgres -S -c "$clients" -j 2 -T "$seconds" postgres 2>/dev/null | grep -E "^(tps|latency average|number of transactions actually processed)"
