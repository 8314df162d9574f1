// What the app's identity needs so `refresh-cloudworks-sas` can give CloudWorks a user
// delegation SAS on the storage account its Azure Blob connections read and write:
//
// - Storage Blob Delegator on the ACCOUNT: the one right Get User Delegation Key needs
//   (Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action). It
//   grants no data access by itself.
// - Storage Blob Data Contributor on each CONTAINER the connections use: a user delegation
//   SAS can do no more than its signer may, so the identity needs read, write and list on
//   those containers (and nothing on the rest of the account).
//
// Role ids: learn.microsoft.com/azure/role-based-access-control/built-in-roles.

@description('Principal (object) id of the function app\'s system-assigned identity.')
param principalId string

@description('The storage account CloudWorks\' Azure Blob connections use (in this module\'s resource group).')
param storageAccountName string

@description('The containers of that account the connections name.')
param containerNames array

var roleIds = {
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for c in containerNames: {
    parent: blobService
    name: c
  }
]

resource delegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roleIds.storageBlobDelegator)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDelegator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource containerContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (c, i) in containerNames: {
    name: guid(containers[i].id, principalId, roleIds.storageBlobDataContributor)
    scope: containers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]
