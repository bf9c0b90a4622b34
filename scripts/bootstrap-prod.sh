#!/usr/bin/env bash
# The very first `pulumi up` of prod, from an administrator's machine, before the runner in the VPC
# exists. Prod's EKS API is private (finbot:cluster.publicAccessCidrs: []), so nothing outside the
# VPC can deploy it, and the runner that deploys it is part of the stack. The bootstrap opens the
# API to the administrator's own address (one /32) for this one run, through a copy of the stack
# file (the tracked Pulumi.prod.yaml is not changed), and creates everything. The first deploy from
# main (deploy-prod.yml, on the runner the bootstrap made) then applies the committed config, which
# closes the public endpoint again.
# usage: scripts/bootstrap-prod.sh --admin-cidr <your public IPv4>/32
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "bootstrap: $*" >&2
  exit 2
}

cidr=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --admin-cidr)
      [ "$#" -ge 2 ] || fail "--admin-cidr needs a value (your public IPv4 address as a /32)"
      cidr=$2
      shift 2
      ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) fail "unknown option '$1' (usage: scripts/bootstrap-prod.sh --admin-cidr <ip>/32)" ;;
  esac
done
[ -n "$cidr" ] || fail "--admin-cidr is required: the one address the private API answers during the bootstrap"
[[ "$cidr" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/32$ ]] ||
  fail "--admin-cidr $cidr: expected one IPv4 address as a /32 (the API opens to nothing wider)"
for octet in "${BASH_REMATCH[@]:1:4}"; do [ "$octet" -le 255 ] || fail "--admin-cidr $cidr: not an IPv4 address"; done
[ -z "${CI:-}" ] || fail "prod is bootstrapped once by an administrator, not by CI"
for tool in pulumi aws node; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done
aws sts get-caller-identity >/dev/null || fail "no AWS credentials (the bootstrap creates the VPC, the cluster and the runner)"
pulumi stack select prod >/dev/null 2>&1 || fail "stack prod does not exist in this backend: run scripts/stack-init.sh prod first"

config=$(mktemp "${TMPDIR:-/tmp}/Pulumi.prod.bootstrap.XXXXXX.yaml")
trap 'rm -f "$config"' EXIT
# The committed file with one change: the API answers the administrator's address during this run.
node -e '
const fs = require("node:fs");
const YAML = require("yaml");
const [from, to, cidr] = process.argv.slice(1);
const doc = YAML.parseDocument(fs.readFileSync(from, "utf8"));
doc.setIn(["config", "finbot:cluster", "publicAccessCidrs"], [cidr]);
fs.writeFileSync(to, doc.toString());
' Pulumi.prod.yaml "$config" "$cidr"

echo "bootstrap: pulumi up of prod with the API open to $cidr for this run only"
pulumi up --stack prod --config-file "$config" --policy-pack policy --policy-pack-config policy/config.prod.json
echo "bootstrap: done. Now run the deploy-prod workflow on main (Actions > deploy-prod > Run workflow):"
echo "           it runs on the runner in the VPC and applies Pulumi.prod.yaml as committed, closing the API to $cidr."
