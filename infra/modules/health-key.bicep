// The function key of the health function alone, for the availability test
// (modules/availability.bicep): created once with a random value, in the vault, and never
// changed by a later deployment (@onlyIfNotExists, as connector-secrets.bicep does). It opens
// health and nothing else; connector-keys.bicep sets it on that function after the code
// deployment (a function exists only once its code does).

@description('Name of the existing Key Vault.')
param vaultName string

@description('Tags for the secret.')
param tags object

@description('Random seed of the key; the default is new at every deployment, and only the first one is ever stored.')
//checkov:skip=CKV_AZURE_131:newGuid() is no hardcoded value: a fresh random seed at every deployment, and only the first deployment's is ever stored.
@secure()
param seed string = newGuid()

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

@onlyIfNotExists()
resource key 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41:A function key has no expiry in the Functions host; the deployment creates this secret once and never changes it (rotate by deleting the secret, deploying again and running connector-keys.bicep), so an expiry date would only break the availability test on a date.
  parent: vault
  name: 'function-key-health'
  tags: union(tags, {
    'anaplan-functions': 'function key of the health function (availability test); created once by the deployment'
  })
  properties: {
    // 64 hexadecimal characters derived from a random seed (guid() hashes its arguments).
    value: '${replace(guid(seed, 'health', 'first'), '-', '')}${replace(guid(seed, 'health', 'second'), '-', '')}'
    contentType: 'text/plain'
  }
}

@description('The secret\'s name.')
output secretName string = key.name
