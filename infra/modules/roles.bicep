// What the app's system-assigned identity may do, each role on the narrowest scope that
// works (built-in role ids: learn.microsoft.com/azure/role-based-access-control/built-in-roles).
//
// Key Vault, in two parts:
// - Key Vault Secrets User on the VAULT: read every secret's value. The app reads whichever
//   credentials its ANAPLAN_AUTH_METHOD needs (client id and secret, refresh token,
//   certificate, user name and password), so reading is vault-wide.
// - Key Vault Secrets Officer on two SECRETS only, anaplan-refresh-token and
//   anaplan-access-token: write new versions of them. A rotating Anaplan OAuth client spends
//   the refresh token at every refresh, so the app must store the new one (and shares the
//   current access token between instances the same way). Scoping the role to
//   Microsoft.KeyVault/vaults/secrets is as narrow as Azure RBAC goes for Key Vault (there
//   are no conditions on secret names), and it means a compromised app can overwrite these
//   two tokens but not the client secret, certificate or password, and cannot create,
//   delete or purge other secrets. Role assignments need their scope to exist, hence
//   writable-secrets.bicep creates the two secrets (once, empty) before this module runs.
//
// Storage: nothing on the ACCOUNT, only on containers (a function key must not make its
// holder Blob Data Owner of the app's own account: see BLOB_CONTAINERS in the README).
// - Storage Blob Data Owner on the containers the platform and the handler keep their own
//   data in: the host's keys and timer state (azure-webjobs-hosts, azure-webjobs-secrets),
//   the Flex deployment package, the handler's state (idempotency records, refresh lock).
//   The app refuses these as export or import containers whatever BLOB_CONTAINERS says.
// - Storage Blob Data Contributor on each container BLOB_CONTAINERS allows (when they are
//   in this account): exports are written there and import files read from there.
// No queue or table roles: the app has HTTP and timer triggers only.
//
// Application Insights: Monitoring Metrics Publisher on the COMPONENT when it refuses
// key-only ingestion (DisableLocalAuth), so the host can send telemetry as the app.
//
// Optionally the operator (the person or pipeline deploying, e.g. azd's signed-in user) gets
// Key Vault Secrets Officer on the vault, to store the Anaplan credentials and run
// `anaplan-functions auth login`.

@description('Principal (object) id of the function app\'s system-assigned identity.')
param principalId string

@description('The app\'s storage account.')
param storageAccountName string

@description('Containers of that account the host and the handler keep their own data in (Storage Blob Data Owner on each).')
param ownedContainerNames array

@description('Containers of that account BLOB_CONTAINERS allows (Storage Blob Data Contributor on each); empty when they are in another account.')
param transferContainerNames array

@description('The Key Vault.')
param vaultName string

@description('Secret holding the Anaplan refresh token, which the app may write (must exist: see writable-secrets.bicep).')
param refreshTokenSecretName string

@description('Secret holding the shared Anaplan access token, which the app may write (must exist: see writable-secrets.bicep).')
param accessTokenSecretName string

@description('Application Insights component.')
param appInsightsName string

@description('Grant Monitoring Metrics Publisher (needed when Application Insights has local auth disabled).')
param grantMetricsPublisher bool

@description('Object id of a user, group or service principal that may manage the vault\'s secrets; empty for none.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource refreshTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: refreshTokenSecretName
}

resource accessTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: accessTokenSecretName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource ownedContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for c in ownedContainerNames: {
    parent: blobService
    name: c
  }
]

resource transferContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for c in transferContainerNames: {
    parent: blobService
    name: c
  }
]

// Container scope, not account scope: see the top of this file.
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (c, i) in ownedContainerNames: {
    name: guid(ownedContainers[i].id, principalId, roleIds.storageBlobDataOwner)
    scope: ownedContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
      principalId: principalId
      principalType: 'ServicePrincipal'
      description: 'anaplan-functions: host keys and timers, deployment package, shared state (${c})'
    }
  }
]

resource storageBlobDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (c, i) in transferContainerNames: {
    name: guid(transferContainers[i].id, principalId, roleIds.storageBlobDataContributor)
    scope: transferContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
      principalId: principalId
      principalType: 'ServicePrincipal'
      description: 'anaplan-functions: exports and imports through Blob (${c}, BLOB_CONTAINERS)'
    }
  }
]

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'anaplan-functions: read the Anaplan credentials'
  }
}

// Secret scope, not vault scope: see the top of this file.
resource refreshTokenOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(refreshTokenSecret.id, principalId, roleIds.keyVaultSecretsOfficer)
  scope: refreshTokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'anaplan-functions: store the rotated Anaplan refresh token'
  }
}

resource accessTokenOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(accessTokenSecret.id, principalId, roleIds.keyVaultSecretsOfficer)
  scope: accessTokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'anaplan-functions: share the current Anaplan access token between instances'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantMetricsPublisher) {
  name: guid(appInsights.id, principalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'anaplan-functions: send telemetry with the app identity (local auth is off)'
  }
}

resource operatorSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    description: 'anaplan-functions operator: store the Anaplan credentials, run auth login'
  }
}
