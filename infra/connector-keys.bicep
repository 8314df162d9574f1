// The connectors' function keys on their functions, after the code deployment.
//
//   az deployment group create -g <resource-group> -f infra/connector-keys.bicep \
//     -p appName=<appName output> vaultName=<keyVaultName output> connectors=single|byRole
//
// (azd runs it as the postdeploy hook of azure.yaml.) main.bicep creates one key per connector
// in the vault (modules/connector-secrets.bicep) but cannot set it on the functions: a
// function exists only once the code is deployed. This sets the key of each connector, under
// its name (connector-all, or connector-integration, connector-users, connector-cloudworks),
// on exactly the functions whose paths its definition has, and nothing else: never a host
// key. Safe to run again: the same name and value are written.

targetScope = 'resourceGroup'

@description('The function app (main.bicep output appName).')
param appName string

@description('The Key Vault with the connector keys (main.bicep output keyVaultName).')
param vaultName string

@description('As main.bicep\'s connectors: single (one connector, every function) or byRole (integration, users, cloudworks); none when no connector was deployed.')
@allowed([
  'single'
  'byRole'
  'none'
])
param connectors string = 'single'

@description('As main.bicep\'s healthAlerts: also set the availability test\'s key (the vault\'s function-key-health) on the health function, and on nothing else.')
param healthTest bool = false

var groups = connectors == 'byRole' ? [
  'integration'
  'users'
  'cloudworks'
] : connectors == 'single' ? [
  'all'
] : []
// Each connector's functions are its definition's paths (the anaplanOAuth definitions have
// the same paths as these).
var pathsByGroup = {
  all: loadJsonContent('connector/apiDefinition.swagger.json', '$.paths')
  integration: loadJsonContent('connector/groups/integration.swagger.json', '$.paths')
  users: loadJsonContent('connector/groups/users.swagger.json', '$.paths')
  cloudworks: loadJsonContent('connector/groups/cloudworks.swagger.json', '$.paths')
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

module keys 'modules/function-keys.bicep' = [for group in groups: {
  name: 'function-keys-${group}'
  params: {
    appName: appName
    keyName: 'connector-${group}'
    keyValue: vault.getSecret('function-key-connector-${group}')
    paths: pathsByGroup[group]
  }
}]

module healthKey 'modules/function-keys.bicep' = if (healthTest) {
  name: 'function-keys-health'
  params: {
    appName: appName
    keyName: 'availability-test'
    keyValue: vault.getSecret('function-key-health')
    paths: {
      '/health': {}
    }
  }
}

@description('Each connector\'s key name and the functions that have it.')
output connectorKeys array = [for (group, i) in groups: {
  keyName: 'connector-${group}'
  functions: keys[i].outputs.functions
}]
