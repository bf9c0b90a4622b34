#!/usr/bin/env bash
# Smoke check after a deployment: every public service answers its readiness path through the
# gateway, and Prometheus has no target down. Usage: scripts/smoke.sh <stack>
set -euo pipefail
stack=${1:?usage: scripts/smoke.sh <stack>}
urls=$(pulumi stack output publicUrls --stack "$stack" --json)
gateway=$(kubectl -n finbot-traffic get gateway finbot -o jsonpath='{.status.addresses[0].value}')
for name in $(echo "$urls" | node -e 'const u=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(Object.keys(u).filter((k)=>!["grafana","prometheus","alertmanager","kibana"].includes(k)).join(" "))'); do
  host=$(echo "$urls" | node -e "const u=JSON.parse(require('fs').readFileSync(0,'utf8')); console.log(new URL(u['$name']).host)")
  curl -fsS -k --retry 10 --retry-all-errors --retry-delay 6 --resolve "$host:443:$gateway" "https://$host/readyz" >/dev/null
  echo "ok: $name via the gateway"
done
kubectl -n finbot-monitoring port-forward svc/kube-prometheus-stack-prometheus 19090:9090 >/dev/null &
trap 'kill $!' EXIT
sleep 5
down=$(curl -fsS 'http://127.0.0.1:19090/api/v1/query?query=count(up==0)' | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")).data.result; console.log(r.length ? r[0].value[1] : 0)')
if [ "$down" != "0" ]; then echo "Prometheus has $down target(s) down"; exit 1; fi
echo "ok: every Prometheus target is up"
