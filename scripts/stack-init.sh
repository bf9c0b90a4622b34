#!/usr/bin/env bash
# One-time set-up of a stack in the current Pulumi backend, so the first `pulumi up`/`preview`
# finds it. Each stack has one secrets story:
#   dev   passphrase provider. The team's dev passphrase protects staging's secrets; the
#         encryptionsalt it makes is committed once in Pulumi.dev.yaml, and CI's staging
#         environments get the same passphrase (PULUMI_CONFIG_PASSPHRASE). A laptop uses the same
#         passphrase, so the salt in the file never changes under anyone.
#   prod  AWS KMS provider (alias/finbot-pulumi-prod). No passphrase exists: only identities the
#         key policy allows (the deploy and read-only preview roles) can read prod's secrets.
#         Created once by an administrator, never by CI and never by `upsert`.
# usage: scripts/stack-init.sh dev|prod
set -euo pipefail
cd "$(dirname "$0")/.."

stack="${1:-}"
file="Pulumi.${stack}.yaml"
case "$stack" in
  dev | prod) ;;
  *) echo "usage: scripts/stack-init.sh dev|prod" >&2; exit 2 ;;
esac
command -v pulumi >/dev/null || { echo "stack-init: the Pulumi CLI is not installed (https://www.pulumi.com/docs/iac/download-install/)" >&2; exit 2; }

if pulumi stack select "$stack" >/dev/null 2>&1; then
  echo "stack-init: stack $stack exists in ${PULUMI_BACKEND_URL:-the current backend}"
  exit 0
fi

if [ "$stack" = dev ]; then
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    echo "stack-init: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the team's dev passphrase" >&2
    exit 2
  fi
  if grep -q '^encryptionsalt:' "$file"; then
    # The committed salt is reused: a different passphrase is refused by Pulumi ("incorrect passphrase").
    pulumi stack init dev --secrets-provider passphrase ||
      { echo "stack-init: is PULUMI_CONFIG_PASSPHRASE the team's dev passphrase? $file carries its salt" >&2; exit 1; }
  else
    pulumi stack init dev --secrets-provider passphrase
    echo "stack-init: $file now carries the team's encryptionsalt. Commit it (git add $file), and give the"
    echo "            staging and staging-preview environments the same passphrase as PULUMI_CONFIG_PASSPHRASE."
  fi
else
  if [ -n "${CI:-}" ]; then
    echo "stack-init: prod is created once by an administrator, not by CI" >&2
    exit 2
  fi
  provider="${FINBOT_PROD_SECRETS_PROVIDER:-awskms://alias/finbot-pulumi-prod?region=eu-central-1}"
  pulumi stack init prod --secrets-provider "$provider"
  echo "stack-init: $file now names the KMS secrets provider. Commit it (git add $file)."
fi
