// The app's own storage account (AzureWebJobsStorage): the Functions host's keys and
// leases, the handler's shared state (Idempotency-Key records, the lock that serialises
// refresh-token rotation), the Flex Consumption deployment package, and by default the
// containers that export-file and import-file use through Blob (BLOB_CONTAINERS). Every
// container the app touches is created here, so that its roles are scoped to containers,
// never to the account (roles.bicep).
//
// Shared keys are off: every client (the host, the handler, Flex deployment, azd, people)
// signs in with Entra ID. That is also why Elastic Premium runs without an Azure Files
// content share here (Azure Files content shares need an account key): see functionapp.bicep.

@description('Storage account name (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Redundancy. Standard_LRS is available everywhere; pick ZRS or GRS where the region offers it and the data warrants it.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param skuName string = 'Standard_LRS'

@description('Container for Flex Consumption deployment packages.')
param deploymentContainerName string

@description('Containers export-file and import-file may use through Blob (BLOB_CONTAINERS), created here; empty when they live in another account (EXPORT_STORAGE_URL).')
param transferContainerNames array

@description('Containers the Functions host and the handler keep their own data in, created here so that the app\'s roles can be scoped to them (roles.bicep).')
param platformContainerNames array

@description('Days deleted blobs and containers can be restored.')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 7

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  //checkov:skip=CKV_AZURE_35:Flex Consumption and Elastic Premium apps without VNet integration reach their own storage over the public endpoint, with no fixed addresses to allow; shared keys are off, so every access is an Entra ID identity with a data role.
  //checkov:skip=CKV_AZURE_59:Same reason as CKV_AZURE_35 (blob public access, the anonymous kind, is off: allowBlobPublicAccess false).
  //checkov:skip=CKV_AZURE_206:The account holds reproducible state (host keys, idempotency records, deployment packages, exports that can be run again); storageSku (main.bicep) selects ZRS or GRS where wanted.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    // Entra ID only: no account keys, no SAS signed with them.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Apps without VNet integration reach storage over its public endpoint (checkov skips
    // at the top of this resource).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource transferContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for c in transferContainerNames: {
    parent: blobService
    name: c
    properties: {
      publicAccess: 'None'
    }
  }
]

resource platformContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for c in platformContainerNames: {
    parent: blobService
    name: c
    properties: {
      publicAccess: 'None'
    }
  }
]

// Idempotency-Key records count for 24 hours (README); the platform deletes them two days
// after their last change, so they never pile up. Lifecycle rules run about once a day.
// Transfer records (an export's copy to Blob, a blob import's upload) and data-source
// locks are rewritten while in use and done with long before two days.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          enabled: true
          name: 'expire-idempotency-records'
          type: 'Lifecycle'
          definition: {
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 2
                }
              }
            }
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'anaplan-functions-state/idempotency/'
                'anaplan-functions-state/transfers/'
                'anaplan-functions-state/locks/data-source/'
                'anaplan-functions-state/onboard/'
              ]
            }
          }
        }
      ]
    }
  }
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerName string = deploymentContainer.name
output transferContainerNames array = [for (c, i) in transferContainerNames: transferContainers[i].name]
output platformContainerNames array = [for (c, i) in platformContainerNames: platformContainers[i].name]
