// One function key per custom connector, kept in the vault: created once with a random value
// and never changed by a later deployment (@onlyIfNotExists, as writable-secrets.bicep does),
// so redeploying keeps every connection and workflow working. Two readers, both through
// Resource Manager's Key Vault reference (getSecret(), so the value never shows in a
// deployment's parameters or history):
// - main.bicep, with connectorAuth anaplanOAuth: the connector's internal x-functions-key
//   header default (modules/connector.bicep);
// - connector-keys.bicep, after the code deployment: the function key of that name and value
//   on each of the connector's functions (modules/function-keys.bicep).
// The vault has enabledForTemplateDeployment for that (keyvault.bicep), and whoever deploys
// needs Microsoft.KeyVault/vaults/deploy/action on it (Owner and Contributor have it).

@description('Name of the existing Key Vault.')
param vaultName string

@description('Tags for the secrets.')
param tags object

@description('The connectors\' groups: all (one connector), or integration, users and cloudworks (one per role).')
param groups array

@description('Random seed of the key values; the default is new at every deployment, and only the first one is ever stored.')
//checkov:skip=CKV_AZURE_131:newGuid() is no hardcoded value: a fresh random seed at every deployment (Bicep's secure-parameter-default rule allows it), and only the first deployment's is ever stored.
@secure()
param seed string = newGuid()

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

@onlyIfNotExists()
resource keys 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for group in groups: {
  //checkov:skip=CKV_AZURE_41:A function key has no expiry in the Functions host; the deployment creates this secret once and never changes it (rotate by deleting the secret and deploying again, then running connector-keys.bicep), so an expiry date would only break the connectors on a date.
  parent: vault
  name: 'function-key-connector-${group}'
  tags: union(tags, {
    'anaplan-functions': 'function key of the ${group} connector; created once by the deployment'
  })
  properties: {
    // 64 hexadecimal characters derived from a random seed (guid() hashes its arguments).
    value: '${replace(guid(seed, group, 'first'), '-', '')}${replace(guid(seed, group, 'second'), '-', '')}'
    contentType: 'text/plain'
  }
}]

@description('The secrets\' names, in the order of groups.')
output secretNames array = [for (group, i) in groups: keys[i].name]
