#!/usr/bin/env bash
# End-to-end checks of a deployed dev stack: behaviour, not just pods. Each check prints
# PASS/FAIL <check>: <reason>, waits at most --timeout seconds for any one condition, and cleans up
# what it started (port-forwards, its log pod, the api's replicas). Exit 0 when every check that
# ran passed, 1 when one failed, 2 for a bad command line. Run `scripts/e2e.sh --help`.
set -euo pipefail

CHECKS=(gateway targets logs worker isolation outage)

usage() {
    cat <<'EOF'
usage: scripts/e2e.sh [options]

End-to-end checks of a deployed FinBot stack (the dev stack on kind in .github/workflows/e2e.yml;
any cluster your kube context reaches). Needs kubectl, curl, jq and openssl.

checks, in the order they run:
  gateway   the api answers https://api.<domain>/readyz through Envoy Gateway: the Envoy Service
            is port-forwarded, the TLS certificate is verified with openssl against the CA in the
            Gateway listener's Secret (and for the api's host name), and curl pins that
            certificate's public key for the request itself
  targets   Prometheus' targets API: every active target in a FinBot namespace is up, and every
            ServiceMonitor, PodMonitor and Probe FinBot (not a Helm chart) created has a target;
            a remote write to Prometheus is refused (404: only the checks' receiver takes writes)
  logs      a pod writes one JSON (ECS) log line; it must reach Elasticsearch's logs-finbot-*
            data stream with log.level, service.name and labels.e2e_run parsed into fields
            (user elastic, password from the ECK Secret, TLS verified against ECK's CA)
  worker    a message published to payments.settle (RabbitMQ management API over TLS, default
            user) makes KEDA start a settlement-worker pod from zero replicas; the test message
            is taken back afterwards when it is the only one and nothing consumes the queue
  isolation  a pod in the apps namespace reaches what the network policies allow and nothing else:
            the PostgreSQL pooler (5432) yes; Elasticsearch (9200), RabbitMQ's management API
            (15671), Prometheus' write endpoint (9090), the egress gateway's provider listener
            (11000, the probe calls no third party) and the internet (443) no. A connection that
            a policy denies but that opens anyway fails the check: the CNI does not enforce them
  outage    the api is scaled to 0: the uptime SLO alert (SLOErrorBudgetBurn, slo="uptime")
            must reach Alertmanager's API; the api's replicas are restored afterwards, also when
            the check fails or is interrupted. It takes the api down: skip it on a shared cluster

It refuses any context that is not a laptop cluster (a kind-*, k3d-* or minikube context whose API
server is on this machine; minikube's VM drivers anywhere): the checks change what runs.

options:
  --context NAME          kube context (default: the current one)
  --destructive-context NAME
                          run on NAME although it is not a laptop cluster: the outage check scales
                          its api to 0 and the others write a pod, a log line and a message there.
                          NAME must be the context in use (--context or the current one)
  --domain DOMAIN         public domain (default: the hostname of the Gateway's HTTPS listener)
  --timeout SECONDS       the longest any one wait may take (default: 300)
  --interval SECONDS      how long to wait between two tries of a condition (default: 5)
  --skip CHECK[,CHECK]    do not run these checks (repeatable)
  --namespace-prefix P    FinBot's namespaces are P + apps|data|logging|monitoring|traffic
                          (default: finbot-, the schema's defaults)
  --service NAME          the public service (default: api)
  --worker NAME           the KEDA worker (default: settlement-worker)
  --queue NAME            the worker's queue (default: payments.settle)
  --image IMAGE           image of the log-writing and isolation pods (default: docker.io/library/busybox:1.37.0)
  --internet-probe ADDR   a public address:port the isolation check must not reach (default: 1.1.1.1:443)
  -h, --help              this text
EOF
}

# ---------------------------------------------------------------- command line

usage_error() {
    echo "e2e: $*" >&2
    exit 2
}

CONTEXT=""
DESTRUCTIVE_CONTEXT=""
DOMAIN=""
TIMEOUT=300
INTERVAL=5
SKIP=()
PREFIX="finbot-"
SERVICE="api"
WORKER="settlement-worker"
QUEUE="payments.settle"
IMAGE="docker.io/library/busybox:1.37.0"
INTERNET_PROBE="1.1.1.1:443"
DB_POOLER="finbot-db-pooler-rw"
GATEWAY="finbot"
ES_NAME="logs"
RABBITMQ="finbot-queue"
ALERT="SLOErrorBudgetBurn"

parse_args() {
    while [ "$#" -gt 0 ]; do
        case "$1" in
            -h | --help)
                usage
                exit 0
                ;;
            --context | --destructive-context | --domain | --timeout | --interval | --skip | --namespace-prefix | --service | --worker | --queue | --image | --internet-probe)
                if [ "$#" -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value (see --help)"; fi
                case "$1" in
                    --context) CONTEXT=$2 ;;
                    --destructive-context) DESTRUCTIVE_CONTEXT=$2 ;;
                    --domain) DOMAIN=$2 ;;
                    --timeout) TIMEOUT=$2 ;;
                    --interval) INTERVAL=$2 ;;
                    --skip) IFS=, read -r -a names <<<"$2" && SKIP+=("${names[@]}") ;;
                    --namespace-prefix) PREFIX=$2 ;;
                    --service) SERVICE=$2 ;;
                    --worker) WORKER=$2 ;;
                    --queue) QUEUE=$2 ;;
                    --image) IMAGE=$2 ;;
                    --internet-probe) INTERNET_PROBE=$2 ;;
                esac
                shift 2
                ;;
            *) usage_error "unknown option '$1' (see --help)" ;;
        esac
    done
    [[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout $TIMEOUT: not a whole number of seconds"
    [[ "$INTERVAL" =~ ^[1-9][0-9]*$ ]] || usage_error "--interval $INTERVAL: not a whole number of seconds"
    local name
    for name in ${SKIP[@]+"${SKIP[@]}"}; do
        [[ " ${CHECKS[*]} " == *" $name "* ]] || usage_error "--skip $name: not a check (${CHECKS[*]})"
    done
    NS_APPS="${PREFIX}apps"
    NS_DATA="${PREFIX}data"
    NS_LOGGING="${PREFIX}logging"
    NS_MONITORING="${PREFIX}monitoring"
    NS_TRAFFIC="${PREFIX}traffic"
}

skipped() {
    [[ " ${SKIP[*]-} " == *" $1 "* ]]
}

# ---------------------------------------------------------------- which cluster

# The context in use, and whether it is a laptop cluster: kind-*, k3d-* or minikube by name, with
# its API server on this machine (minikube's VM drivers give it a private address of its own).
# Anything else (an EKS context above all) needs --destructive-context naming it.
guard_context() {
    local context server host
    context=${CONTEXT:-$(kubectl config current-context 2>/dev/null || true)}
    [ -n "$context" ] || usage_error "no kube context (set one, or give --context)"
    server=$(kubectl config view --raw -o jsonpath="{.clusters[?(@.name==\"$(kubectl config view -o jsonpath="{.contexts[?(@.name==\"$context\")].context.cluster}" 2>/dev/null)\")].cluster.server}" 2>/dev/null || true)
    host=${server#*://}
    host=${host%%/*}
    host=${host%:*}
    host=${host#[}
    host=${host%]}
    case "$context" in
        kind-* | k3d-*) case "$host" in 127.[0-9]*.[0-9]*.[0-9]* | localhost | 0.0.0.0 | ::1 | host.docker.internal) return 0 ;; esac ;;
        minikube) return 0 ;;
    esac
    if [ "$DESTRUCTIVE_CONTEXT" = "$context" ]; then
        echo "e2e: $context is not a laptop cluster; running there as --destructive-context asks" >&2
        return 0
    fi
    usage_error "refusing context $context (API server ${server:-unknown}): not a laptop cluster (kind, k3d, minikube); the checks scale the api to 0 and write to the cluster. Name it with --destructive-context $context to run there anyway"
}

# ---------------------------------------------------------------- helpers

KUBECTL=(kubectl)
k() { "${KUBECTL[@]}" "$@"; }

CHECK=""
REASON=""
PF_PIDS=()
PF_PORT=""
CLEANUP_PODS=()
RESTORE_REPLICAS=""

# One line per verdict, whatever the reason holds.
pass() { echo "PASS $CHECK: $(tr '\n' ' ' <<<"$*" | sed 's/ *$//')"; }
fail() {
    echo "FAIL $CHECK: $(tr '\n' ' ' <<<"$*" | sed 's/ *$//')"
    : >"$WORK/$CHECK.reported"
    exit 1
}

# Runs "$@" every --interval seconds until it succeeds or --timeout passes (then returns 1). A probe says why it
# is not there yet in REASON.
retry() {
    local deadline=$((SECONDS + TIMEOUT))
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep "$INTERVAL"
    done
}

# Port-forwards <namespace> <resource> <port> to a free local port, in the background, and sets
# PF_PORT; tries again while the resource has no running pod yet, for at most --timeout seconds.
port_forward() {
    local ns=$1 target=$2 port=$3 log pid deadline=$((SECONDS + TIMEOUT)) attempt_ends
    log=$(mktemp "$WORK/port-forward.XXXXXX")
    while :; do
        # kubectl itself in the background (not the k function, whose subshell a kill would miss).
        "${KUBECTL[@]}" -n "$ns" port-forward "$target" ":$port" >"$log" 2>&1 &
        pid=$!
        PF_PIDS+=("$pid")
        attempt_ends=$((SECONDS + 15))
        while [ "$SECONDS" -lt "$attempt_ends" ] && kill -0 "$pid" 2>/dev/null; do
            PF_PORT=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$log" | head -n 1)
            [ -z "$PF_PORT" ] || return 0
            sleep 1
        done
        kill "$pid" 2>/dev/null || true
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep "$INTERVAL"
    done
    fail "port-forward to $ns/$target:$port did not start within $TIMEOUT s: $(cat "$log")"
}

secret_value() { # <namespace> <secret> <key>: the decoded value, empty when missing
    k -n "$1" get secret "$2" -o "jsonpath={.data.${3//./\\.}}" 2>/dev/null | base64 -d 2>/dev/null || true
}

pod_started() { # <pod>: Running (or done) in the apps namespace
    local phase
    phase=$(k -n "$NS_APPS" get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null) || true
    [ "$phase" = Running ] || [ "$phase" = Succeeded ] && return 0
    REASON="pod $NS_APPS/$1 is ${phase:-not there}"
    return 1
}

# Starts <pod> in the apps namespace from --image, restricted (non-root, read-only, no token),
# running the shell <script> with E2E_LINE=<line>; cleanup deletes it whatever happens.
start_pod() { # <pod> <script> [line]
    local manifest
    manifest=$(jq -n --arg name "$1" --arg ns "$NS_APPS" --arg image "$IMAGE" --arg script "$2" --arg line "${3-}" '{
        apiVersion: "v1", kind: "Pod",
        metadata: {name: $name, namespace: $ns, labels: {"app.kubernetes.io/name": "finbot-e2e"}},
        spec: {
            restartPolicy: "Never", automountServiceAccountToken: false, terminationGracePeriodSeconds: 0,
            securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: "RuntimeDefault"}},
            containers: [{
                name: "e2e", image: $image, env: [{name: "E2E_LINE", value: $line}],
                command: ["sh", "-c", $script],
                resources: {requests: {cpu: "10m", memory: "16Mi"}, limits: {memory: "16Mi"}},
                securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ["ALL"]}}
            }]
        }}')
    CLEANUP_PODS+=("$1")
    k apply -f - <<<"$manifest" >/dev/null || fail "could not create pod $NS_APPS/$1"
    retry pod_started "$1" || fail "$REASON"
}

# Undoes what a check changed; runs when its subshell exits, whatever the reason.
cleanup() {
    local pid
    if [ -n "$RESTORE_REPLICAS" ]; then
        echo "     restoring $NS_APPS/$SERVICE to $RESTORE_REPLICAS replica(s)"
        k -n "$NS_APPS" scale "deployment/$SERVICE" --replicas="$RESTORE_REPLICAS" >/dev/null || echo "     could not restore $NS_APPS/$SERVICE: run kubectl -n $NS_APPS scale deployment/$SERVICE --replicas=$RESTORE_REPLICAS"
    fi
    if [ "${#CLEANUP_PODS[@]}" -gt 0 ]; then
        k -n "$NS_APPS" delete pod "${CLEANUP_PODS[@]}" --wait=false --ignore-not-found >/dev/null 2>&1 || true
    fi
    # ${a[@]+"${a[@]}"}: an empty array under set -u in bash 3.2 (macOS) too.
    for pid in ${PF_PIDS[@]+"${PF_PIDS[@]}"}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# ---------------------------------------------------------------- gateway

gateway_secret_ready() {
    secret_value "$NS_TRAFFIC" "$GATEWAY_SECRET" tls.crt >"$WORK/gateway.crt"
    [ -s "$WORK/gateway.crt" ] && return 0
    REASON="Secret $NS_TRAFFIC/$GATEWAY_SECRET holds no tls.crt (has cert-manager issued it?)"
    return 1
}

# The Service Envoy Gateway made for the Gateway, with a ready Envoy pod behind it.
envoy_ready() {
    local selector="gateway.envoyproxy.io/owning-gateway-name=$GATEWAY,gateway.envoyproxy.io/owning-gateway-namespace=$NS_TRAFFIC"
    ENVOY=$(k get service -A -l "$selector" -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\n"}{end}' | head -n 1)
    if [ -z "$ENVOY" ]; then
        REASON="Envoy Gateway made no Service for Gateway $NS_TRAFFIC/$GATEWAY"
        return 1
    fi
    [[ "$(k -n "${ENVOY%% *}" get pods -l "$selector" -o jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}')" == *True* ]] && return 0
    REASON="no ready Envoy pod behind ${ENVOY/ //}"
    return 1
}

envoy_answers() {
    local code
    code=$(curl -sS -k --pinnedpubkey "sha256//$PIN" --max-time 10 --resolve "$HOST:$PF_PORT:127.0.0.1" -H "Host: $HOST" \
        -o /dev/null -w '%{http_code}' "https://$HOST:$PF_PORT/readyz" 2>"$WORK/curl.err") || true
    [ "$code" = 200 ] && return 0
    REASON="https://$HOST/readyz answered ${code:-nothing} ($(tr '\n' ' ' <"$WORK/curl.err"))"
    return 1
}

check_gateway() {
    local listener verify ca_args=()
    listener=$(k -n "$NS_TRAFFIC" get gateway "$GATEWAY" -o jsonpath='{.spec.listeners[?(@.protocol=="HTTPS")].hostname}') ||
        fail "no Gateway $NS_TRAFFIC/$GATEWAY"
    listener=${listener%% *}
    local domain=${DOMAIN:-${listener#\*.}}
    [ -n "$domain" ] || fail "no --domain given and the Gateway's HTTPS listener names no hostname"
    HOST="$SERVICE.$domain"
    GATEWAY_SECRET=$(k -n "$NS_TRAFFIC" get gateway "$GATEWAY" -o jsonpath='{.spec.listeners[?(@.protocol=="HTTPS")].tls.certificateRefs[0].name}')
    GATEWAY_SECRET=${GATEWAY_SECRET%% *}
    [ -n "$GATEWAY_SECRET" ] || fail "the Gateway's HTTPS listener names no certificate Secret"

    # The certificate cert-manager issued: it must name the host, and it is what the gateway must serve.
    retry gateway_secret_ready || fail "$REASON"
    openssl x509 -in "$WORK/gateway.crt" -noout -checkhost "$HOST" | grep -q "does match" ||
        fail "the certificate in $NS_TRAFFIC/$GATEWAY_SECRET does not name $HOST"
    PIN=$(openssl x509 -in "$WORK/gateway.crt" -noout -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
    secret_value "$NS_TRAFFIC" "$GATEWAY_SECRET" ca.crt >"$WORK/gateway-ca.crt"
    if [ -s "$WORK/gateway-ca.crt" ]; then ca_args=(-CAfile "$WORK/gateway-ca.crt"); fi

    retry envoy_ready || fail "$REASON"
    port_forward "${ENVOY%% *}" "service/${ENVOY#* }" 443

    # -k only hands verification to the pin: curl before 8.11 (Ubuntu 24.04 has 8.5) refuses an empty
    # issuer name, which cert-manager's selfSigned issuer writes when the Certificate has no
    # commonName. The chain and the host name are verified by openssl below, on the same gateway.
    retry envoy_answers || fail "$REASON"
    verify=$(openssl s_client -connect "127.0.0.1:$PF_PORT" -servername "$HOST" -verify_hostname "$HOST" -verify_return_error \
        -partial_chain ${ca_args[@]+"${ca_args[@]}"} </dev/null 2>&1) || true
    grep -q "Verify return code: 0 (ok)" <<<"$verify" ||
        fail "the gateway's certificate for $HOST does not verify against $NS_TRAFFIC/$GATEWAY_SECRET: $(grep -m1 -E 'verify error|Verify return code' <<<"$verify")"
    pass "https://$HOST/readyz answered 200 through ${ENVOY/ //}; its certificate verifies for $HOST against $NS_TRAFFIC/$GATEWAY_SECRET"
}

# ---------------------------------------------------------------- targets

# Active targets in FinBot's namespaces (a probe's target is labelled by what it probes, so probes
# count by scrape pool): all up, and every monitor FinBot created has at least one. Control-plane
# targets (kube-system) are not FinBot's and stay out: on kind, etcd, the scheduler and the
# controller manager listen on 127.0.0.1 only.
targets_up() {
    local json verdict
    json=$(curl -fsS --max-time 10 "http://127.0.0.1:$PF_PORT/api/v1/targets?state=active" 2>&1) ||
        {
            REASON="Prometheus' targets API did not answer: $json"
            return 1
        }
    verdict=$(jq -r --arg p "$PREFIX" --arg expected "$EXPECTED_POOLS" '
        [.data.activeTargets[] | select(((.labels.namespace // "") | startswith($p)) or (.scrapePool | startswith("probe/" + $p)))] as $t
        | [$expected | split("\n")[] | select(. != "")] as $e
        | [$e[] as $m | select([$t[] | select(.scrapePool == $m or (.scrapePool | startswith($m + "/")))] | length == 0) | $m] as $missing
        | [$t[] | select(.health != "up") | "\(.scrapePool) \(.labels.instance // .scrapeUrl) is \(.health)\(if (.lastError // "") != "" then ": " + .lastError else "" end)"] as $down
        | if ($t | length) == 0 then "none"
          elif ($missing | length) > 0 then "missing " + ($missing | join(", "))
          elif ($down | length) > 0 then "down " + ($down | join("; "))
          else "ok \($t | length) \([$t[].scrapePool] | unique | length)" end' <<<"$json") ||
        {
            REASON="Prometheus answered something that is not a targets list"
            return 1
        }
    case "$verdict" in
        ok*)
            TARGETS_SUMMARY=$(awk '{ print $2 " targets in " $3 " scrape pools" }' <<<"$verdict")
            return 0
            ;;
        none) REASON="Prometheus has no active target in a $PREFIX* namespace" ;;
        missing*) REASON="no active target for ${verdict#missing }" ;;
        *) REASON="not up: ${verdict#down }" ;;
    esac
    return 1
}

check_targets() {
    local monitors
    monitors=$(k get servicemonitors.monitoring.coreos.com,podmonitors.monitoring.coreos.com,probes.monitoring.coreos.com -A -o json) ||
        fail "cannot list ServiceMonitors, PodMonitors and Probes (is the Prometheus Operator installed?)"
    # Scrape pools are serviceMonitor/<ns>/<name>/<endpoint>, podMonitor/<ns>/<name>/<endpoint>, probe/<ns>/<name>.
    EXPECTED_POOLS=$(jq -r --arg p "$PREFIX" '.items[]
        | select((.metadata.namespace | startswith($p)) and (.metadata.labels["app.kubernetes.io/managed-by"] // "") != "Helm")
        | ({ServiceMonitor: "serviceMonitor", PodMonitor: "podMonitor", Probe: "probe"}[.kind]) + "/" + .metadata.namespace + "/" + .metadata.name' <<<"$monitors")
    [ -n "$EXPECTED_POOLS" ] || fail "FinBot created no ServiceMonitor, PodMonitor or Probe in a $PREFIX* namespace"
    port_forward "$NS_MONITORING" service/kube-prometheus-stack-prometheus 9090
    retry targets_up || fail "$REASON"
    # Whoever reaches it, Prometheus takes no writes: the checks write into their own receiver.
    local written
    written=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-protobuf' \
        -H 'Content-Encoding: snappy' --data-binary @/dev/null "http://127.0.0.1:$PF_PORT/api/v1/write" 2>&1)
    [ "$written" = 404 ] || fail "Prometheus answered $written to a remote write: it must take none (only the checks' receiver does)"
    pass "$TARGETS_SUMMARY in $PREFIX* namespaces are up (and writes refused), among them $(wc -l <<<"$EXPECTED_POOLS" | tr -d ' ') FinBot monitors' ($(tr '\n' ' ' <<<"$EXPECTED_POOLS" | sed 's/ $//'))"
}

# ---------------------------------------------------------------- logs

log_line_found() {
    local body
    body=$(jq -cn --arg id "$RUN_ID" '{size: 1, query: {bool: {should: [{match_phrase: {message: $id}}, {term: {"labels.e2e_run": $id}}], minimum_should_match: 1}}}')
    SEARCH=$(curl -sS --max-time 15 --cacert "$WORK/es-ca.crt" --resolve "$ES_HOST:$PF_PORT:127.0.0.1" -u "elastic:$ES_PASSWORD" \
        -H 'Content-Type: application/json' -d "$body" "https://$ES_HOST:$PF_PORT/logs-finbot-*/_search" 2>&1) ||
        {
            REASON="Elasticsearch did not answer: $SEARCH"
            return 1
        }
    [ "$(jq -r '.hits.hits | length' <<<"$SEARCH" 2>/dev/null)" = 1 ] && return 0
    REASON="no document with $RUN_ID in logs-finbot-* ($(jq -c '.error.reason // .hits.total // .' <<<"$SEARCH" 2>/dev/null | cut -c1-200))"
    return 1
}

check_logs() {
    local line verdict start
    RUN_ID="e2e$(date +%s)$RANDOM"
    LOG_POD="finbot-e2e-log-$RUN_ID"
    ES_HOST="$ES_NAME-es-http.$NS_LOGGING.svc"
    ES_PASSWORD=$(secret_value "$NS_LOGGING" "$ES_NAME-es-elastic-user" elastic)
    [ -n "$ES_PASSWORD" ] || fail "no password in Secret $NS_LOGGING/$ES_NAME-es-elastic-user (key elastic)"
    secret_value "$NS_LOGGING" "$ES_NAME-es-http-certs-public" ca.crt >"$WORK/es-ca.crt"
    [ -s "$WORK/es-ca.crt" ] || fail "no ca.crt in Secret $NS_LOGGING/$ES_NAME-es-http-certs-public"

    # One line as FinBot's services write them (ECS names, dotted keys), then the pod idles so its
    # log stays on the node while Filebeat reads it.
    line=$(jq -cn --arg id "$RUN_ID" --arg ts "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        '{"@timestamp": $ts, "log.level": "warn", "message": ("finbot e2e log line " + $id), "service.name": "finbot-e2e", "labels.e2e_run": $id}')
    # shellcheck disable=SC2016 # the pod's shell expands $E2E_LINE
    start_pod "$LOG_POD" 'printf "%s\n" "$E2E_LINE"; sleep 900' "$line"
    start=$SECONDS

    port_forward "$NS_LOGGING" "service/$ES_NAME-es-http" 9200
    retry log_line_found || fail "$REASON"
    verdict=$(jq -r --arg id "$RUN_ID" '.hits.hits[0] as $h | $h._source as $s
        | [ (if ($h._index | test("^\\.ds-logs-finbot-")) then empty else "it is in \($h._index), not the logs-finbot-* data stream" end),
            (if ($s.log.level? // $s["log.level"]) == "warn" then empty else "log.level is not a field" end),
            (if ($s.service.name? // $s["service.name"]) == "finbot-e2e" then empty else "service.name is not a field" end),
            (if ($s.labels.e2e_run? // $s["labels.e2e_run"]) == $id then empty else "labels.e2e_run is not a field" end),
            (if (($s.tags // []) | index("finbot_plain_text")) == null then empty else "Logstash tagged it finbot_plain_text" end) ]
        | if length == 0 then "ok \($h._index)" else join("; ") end' <<<"$SEARCH")
    case "$verdict" in
        ok*) pass "a JSON line from pod $NS_APPS/$LOG_POD reached ${verdict#ok } within $((SECONDS - start)) s with log.level, service.name and labels.e2e_run parsed" ;;
        *) fail "the line reached Elasticsearch unparsed: $verdict" ;;
    esac
}

# ---------------------------------------------------------------- isolation

# Whether the probe pod opens a TCP connection to <host> <port> within 3 seconds. busybox's wget
# (its nc has no -z in every build): any answer, even an HTTP error or a TLS port's garbage, means
# the connection opened; only a refused, unreachable or timed-out connection means it did not.
reaches() {
    local out
    out=$(k -n "$NS_APPS" exec "$PROBE_POD" -- wget -T 3 -q -O /dev/null "http://$1:$2/" 2>&1) && return 0
    ! grep -Eqi "can't connect|timed out|bad address|unreachable|no route" <<<"$out"
}

check_isolation() {
    local target host port opened=() closed=()
    PROBE_POD="finbot-e2e-isolation-$(date +%s)$RANDOM"
    start_pod "$PROBE_POD" "exec sleep 900"
    # What the policies allow: without it, a denial below would say nothing of the policies.
    reaches "$DB_POOLER.$NS_DATA.svc" 5432 || fail "$NS_APPS cannot reach its PostgreSQL pooler $DB_POOLER.$NS_DATA.svc:5432, which the policies allow"
    # The egress gateway's first provider listener: the probe pod is no provider's caller.
    for target in "$ES_NAME-es-http.$NS_LOGGING.svc:9200" "$RABBITMQ.$NS_DATA.svc:15671" \
        "kube-prometheus-stack-prometheus.$NS_MONITORING.svc:9090" "envoy-finbot-egress.$NS_TRAFFIC.svc:11000" "$INTERNET_PROBE"; do
        host=${target%:*}
        port=${target##*:}
        if reaches "$host" "$port"; then opened+=("$target"); else closed+=("$target"); fi
    done
    [ "${#opened[@]}" -eq 0 ] || fail "a pod in $NS_APPS reached ${opened[*]}, which the network policies deny: the cluster's CNI does not enforce them (finbot:cluster.cni)"
    pass "a pod in $NS_APPS reaches its pooler and nothing the policies deny (${closed[*]})"
}

# ---------------------------------------------------------------- worker

rabbitmq() { # <method> <path> [json body]: the management API's answer
    local args=(-sS --max-time 15 --cacert "$WORK/rabbitmq-ca.crt" --resolve "$MQ_HOST:$PF_PORT:127.0.0.1" -u "$MQ_USER:$MQ_PASSWORD" -X "$1")
    [ "$#" -lt 3 ] || args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "https://$MQ_HOST:$PF_PORT/api/$2"
}

worker_idle() {
    local replicas
    replicas=$(k -n "$NS_APPS" get deployment "$WORKER" -o jsonpath='{.spec.replicas}') || {
        REASON="no Deployment $NS_APPS/$WORKER"
        return 1
    }
    [ "${replicas:-0}" = 0 ] && return 0
    REASON="$WORKER already runs $replicas replica(s) before any test message (does $QUEUE hold messages?), so a message cannot be shown to start one"
    return 1
}

worker_started() {
    WORKER_POD=$(k -n "$NS_APPS" get pods -l "app.kubernetes.io/name=$WORKER" --field-selector=status.phase=Running \
        -o jsonpath='{.items[0].metadata.name}' 2>/dev/null) || true
    [ -n "$WORKER_POD" ] && return 0
    REASON="no running $WORKER pod $TIMEOUT s after the message was published ($(k -n "$NS_APPS" get scaledobject "$WORKER" \
        -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}' 2>/dev/null))"
    return 1
}

# The test message stays in the queue when the worker does not consume it (podinfo stands in for
# it in dev). Take it back only when it is provably ours and alone, with no consumer on the queue.
take_back_message() {
    local queue peeked
    queue=$(rabbitmq GET "queues/%2F/$QUEUE_PATH") || return 0
    [ "$(jq -r '"\(.messages) \(.consumers)"' <<<"$queue")" = "1 0" ] || return 0
    peeked=$(rabbitmq POST "queues/%2F/$QUEUE_PATH/get" '{"count":1,"ackmode":"reject_requeue_true","encoding":"auto"}') || return 0
    jq -e --arg id "$RUN_ID" '.[0].payload | contains($id)' <<<"$peeked" >/dev/null || return 0
    rabbitmq POST "queues/%2F/$QUEUE_PATH/get" '{"count":1,"ackmode":"ack_requeue_false","encoding":"auto"}' >/dev/null &&
        echo "     took the test message back from $QUEUE"
}

check_worker() {
    local body answer start
    RUN_ID="e2e$(date +%s)$RANDOM"
    QUEUE_PATH=$(jq -rn --arg q "$QUEUE" '$q | @uri')
    k -n "$NS_APPS" get scaledobject "$WORKER" >/dev/null || fail "no KEDA ScaledObject $NS_APPS/$WORKER"
    retry worker_idle || fail "$REASON"

    MQ_HOST="$RABBITMQ.$NS_DATA.svc"
    MQ_USER=$(secret_value "$NS_DATA" "$RABBITMQ-default-user" username)
    MQ_PASSWORD=$(secret_value "$NS_DATA" "$RABBITMQ-default-user" password)
    if [ -z "$MQ_USER" ] || [ -z "$MQ_PASSWORD" ]; then fail "no username/password in Secret $NS_DATA/$RABBITMQ-default-user"; fi
    secret_value "$NS_DATA" "$RABBITMQ-tls" ca.crt >"$WORK/rabbitmq-ca.crt"
    [ -s "$WORK/rabbitmq-ca.crt" ] || fail "no ca.crt in Secret $NS_DATA/$RABBITMQ-tls"
    port_forward "$NS_DATA" "service/$RABBITMQ" 15671

    body=$(jq -cn --arg q "$QUEUE" --arg id "$RUN_ID" '{
        routing_key: $q, payload_encoding: "string",
        payload: ({type: "finbot.e2e.ping", id: $id} | tojson),
        properties: {content_type: "application/json", delivery_mode: 2, headers: {"x-finbot-e2e": $id}}}')
    answer=$(rabbitmq POST "exchanges/%2F/amq.default/publish" "$body" 2>&1) || fail "publishing to $QUEUE failed: $answer"
    [ "$(jq -r '.routed' <<<"$answer" 2>/dev/null)" = true ] || fail "RabbitMQ did not route the message to $QUEUE: $answer"
    start=$SECONDS
    retry worker_started || fail "$REASON"
    pass "a message published to $QUEUE made KEDA start $NS_APPS/$WORKER_POD from zero replicas within $((SECONDS - start)) s"
    take_back_message || true
}

# ---------------------------------------------------------------- outage

alert_arrived() {
    local json
    json=$(curl -fsS --max-time 10 -G "http://127.0.0.1:$PF_PORT/api/v2/alerts" --data-urlencode "filter=alertname=\"$ALERT\"" \
        --data-urlencode "filter=service=\"$SERVICE\"" --data-urlencode 'filter=slo="uptime"' 2>&1) ||
        {
            REASON="Alertmanager's API did not answer: $json"
            return 1
        }
    ALERTS=$(jq -r '[.[] | "severity=\(.labels.severity) (\(.status.state))"] | join(", ")' <<<"$json" 2>/dev/null) || ALERTS=""
    [ -n "$ALERTS" ] && return 0
    REASON="no $ALERT{service=\"$SERVICE\",slo=\"uptime\"} in Alertmanager after $TIMEOUT s with $SERVICE at 0 replicas"
    return 1
}

check_outage() {
    local replicas start took
    replicas=$(k -n "$NS_APPS" get deployment "$SERVICE" -o jsonpath='{.spec.replicas}') || fail "no Deployment $NS_APPS/$SERVICE"
    [ "${replicas:-0}" -ge 1 ] || fail "$NS_APPS/$SERVICE runs no replica: there is nothing to take down"
    port_forward "$NS_MONITORING" service/kube-prometheus-stack-alertmanager 9093

    # The HPA leaves a Deployment at 0 replicas alone (autoscaling pauses), so the outage holds.
    RESTORE_REPLICAS=$replicas
    k -n "$NS_APPS" scale "deployment/$SERVICE" --replicas=0 >/dev/null || fail "could not scale $NS_APPS/$SERVICE to 0"
    start=$SECONDS
    retry alert_arrived || fail "$REASON"
    took=$((SECONDS - start))

    k -n "$NS_APPS" scale "deployment/$SERVICE" --replicas="$replicas" >/dev/null || fail "the alert arrived, but $SERVICE could not be scaled back to $replicas"
    RESTORE_REPLICAS=""
    k -n "$NS_APPS" rollout status "deployment/$SERVICE" --timeout="${TIMEOUT}s" >/dev/null ||
        fail "the alert arrived, but $SERVICE did not become ready again at $replicas replica(s) within $TIMEOUT s"
    pass "$ALERT{service=\"$SERVICE\",slo=\"uptime\"} reached Alertmanager $took s after $SERVICE went to 0 replicas ($ALERTS); $SERVICE is back at $replicas"
}

# ---------------------------------------------------------------- main

RUNNING=""
# Ctrl-C or a cancelled CI job: the running check undoes what it changed (the api's replicas,
# its pod, its port-forwards) before the script ends.
interrupted() {
    if [ -n "$RUNNING" ]; then
        kill -TERM "$RUNNING" 2>/dev/null || true
        wait "$RUNNING" 2>/dev/null || true
    fi
    echo "e2e: interrupted" >&2
    exit 130
}

main() {
    parse_args "$@"
    local missing=() tool
    for tool in kubectl curl jq openssl base64; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    [ "${#missing[@]}" -eq 0 ] || usage_error "missing ${missing[*]} (needs kubectl, curl, jq, openssl and base64)"
    guard_context
    [ -z "$CONTEXT" ] || KUBECTL+=(--context "$CONTEXT")

    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    trap interrupted INT TERM

    local name status passed=0 failed=0 skipped_count=0 to_run=()
    for name in "${CHECKS[@]}"; do skipped "$name" || to_run+=("$name"); done
    if [ "${#to_run[@]}" -gt 0 ]; then
        local reach
        reach=$(k get namespace "$NS_APPS" -o name --request-timeout=20s 2>&1) || {
            echo "e2e: cannot reach namespace $NS_APPS through context ${CONTEXT:-$(kubectl config current-context 2>/dev/null || echo '(none)')}: $reach" >&2
            exit 1
        }
    fi
    echo "e2e: context ${CONTEXT:-$(k config current-context 2>/dev/null || echo '(current)')}, namespaces $PREFIX*, waits up to $TIMEOUT s each"

    for name in "${CHECKS[@]}"; do
        if skipped "$name"; then
            echo "SKIP $name: --skip"
            skipped_count=$((skipped_count + 1))
            continue
        fi
        # A subshell per check: its cleanup runs on every exit, and set -e works inside it (it
        # would not inside an `if` condition). Waiting for it in the background lets an interrupt
        # reach this shell at once and be passed on (see interrupted).
        set +e
        (
            set -e
            CHECK=$name
            trap cleanup EXIT
            trap 'exit 130' INT TERM
            "check_$name"
        ) &
        RUNNING=$!
        wait "$RUNNING"
        status=$?
        RUNNING=""
        set -e
        if [ "$status" -eq 0 ]; then
            passed=$((passed + 1))
        else
            [ -e "$WORK/$name.reported" ] || echo "FAIL $name: stopped unexpectedly (exit $status; see the lines above)"
            failed=$((failed + 1))
        fi
    done
    echo "e2e: $passed passed, $failed failed, $skipped_count skipped"
    [ "$failed" -eq 0 ]
}

main "$@"
