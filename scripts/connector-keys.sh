#!/bin/sh
# Sets each custom connector's function key on its functions (infra/connector-keys.bicep), after
# the code deployment. azd runs it as the postdeploy hook (azure.yaml) with main.bicep's outputs
# in the environment; by hand:
#
#   AZURE_RESOURCE_GROUP=<rg> ANAPLAN_FUNCTION_APP=<appName> ANAPLAN_KEY_VAULT=<keyVaultName> \
#   ANAPLAN_DEPLOYED_CONNECTORS=single|byRole|'' ANAPLAN_HEALTH_TEST=true|false scripts/connector-keys.sh
#
# The key values stay in Resource Manager (Key Vault references): nothing secret passes
# through this shell. Retries a few times: right after a deployment the Functions host may not
# list the new functions yet (a key of an unknown function is refused).
set -eu
health="${ANAPLAN_HEALTH_TEST:-false}"
if [ -z "${ANAPLAN_DEPLOYED_CONNECTORS:-}" ] && [ "$health" != "true" ]; then
    echo "connector-keys: no custom connector and no availability test deployed; nothing to do"
    exit 0
fi
cd "$(dirname "$0")/.."
attempt=1
while :; do
    if az deployment group create --only-show-errors -o none \
        -g "$AZURE_RESOURCE_GROUP" -n connector-keys -f infra/connector-keys.bicep \
        -p appName="$ANAPLAN_FUNCTION_APP" vaultName="$ANAPLAN_KEY_VAULT" \
        connectors="${ANAPLAN_DEPLOYED_CONNECTORS:-none}" healthTest="$health"; then
        echo "connector-keys: each connector's function key is set on its functions (and the availability test's on health)"
        exit 0
    fi
    if [ "$attempt" -ge 5 ]; then
        echo "connector-keys: failed; run scripts/connector-keys.sh again once the app lists its functions" >&2
        exit 1
    fi
    attempt=$((attempt + 1))
    echo "connector-keys: retrying in 30 s (attempt $attempt of 5)"
    sleep 30
done
