#!/usr/bin/env bash
# Smoke check after a deployment (deploy.yml, deploy-prod.yml), of the real path: every public
# route's readiness at the public gateway itself (with the origin key), and the CDN origin service's
# through the CDN aliases (CloudFront -> NLB -> gateway), as the stack's offline plan routes them
# (npm run smoke); then every Deployment of FinBot's namespace available and no Prometheus target
# down.
# Usage: scripts/smoke.sh <stack>   (needs the stack's kube context; FINBOT_NAMESPACE_PREFIX, default finbot-)
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:?usage: scripts/smoke.sh <stack>}
prefix=${FINBOT_NAMESPACE_PREFIX:-finbot-}
work=$(mktemp -d)
forward=""
cleanup() {
  [ -z "$forward" ] || kill "$forward" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

npm run -s plan -- --stack "$stack" --out "$work/plan" >/dev/null
gateway=$(kubectl -n "${prefix}traffic" get gateway finbot -o jsonpath='{.status.addresses[0].value}')
args=(--stack "$stack" --plan "$work/plan/$stack" --gateway "$gateway")
# The origin key exists where CloudFront fronts the gateway; the gateway refuses requests without it.
if key=$(kubectl -n "${prefix}traffic" get secret cloudfront-origin-key -o jsonpath='{.data.cloudfront}' 2>/dev/null) && [ -n "$key" ]; then
  FINBOT_ORIGIN_KEY=$(printf '%s' "$key" | base64 -d)
  export FINBOT_ORIGIN_KEY
fi
# A self-signed gateway (staging) is verified against its own CA.
if ca=$(kubectl -n "${prefix}traffic" get secret finbot-gateway-tls -o jsonpath='{.data.ca\.crt}' 2>/dev/null) && [ -n "$ca" ]; then
  printf '%s' "$ca" | base64 -d > "$work/ca.crt"
  args+=(--ca "$work/ca.crt")
fi
npm run -s smoke -- "${args[@]}"

kubectl -n "${prefix}apps" wait --for=condition=Available deployment --all --timeout=300s
kubectl -n "${prefix}monitoring" port-forward svc/kube-prometheus-stack-prometheus 19090:9090 >/dev/null &
forward=$!
sleep 5
down=$(curl -fsS 'http://127.0.0.1:19090/api/v1/query?query=count(up==0)' | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")).data.result; console.log(r.length ? r[0].value[1] : 0)')
if [ "$down" != "0" ]; then
  echo "smoke: Prometheus has $down target(s) down"
  exit 1
fi
echo "ok: every Deployment in ${prefix}apps is available and every Prometheus target is up"
