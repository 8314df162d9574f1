// The Key Vault that holds the Anaplan credentials (interface section 3): anaplan-client-id,
// anaplan-client-secret, anaplan-refresh-token, anaplan-certificate, anaplan-username,
// anaplan-password, and anaplan-access-token (the cached access token the instances share).
// Access is Azure RBAC only (no access policies); roles are granted in roles.bicep.

@description('Key Vault name (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Purge protection: a deleted vault or secret cannot be purged before the retention ends. Irreversible once on; leave it on for production.')
param enablePurgeProtection bool = true

@description('Log Analytics workspace that receives the vault\'s audit log (who read or wrote which secret).')
param logAnalyticsId string

@description('Let Resource Manager read secrets for a deployment (getSecret()): the connectors\' function keys (connector-secrets.bicep). Whoever deploys still needs Microsoft.KeyVault/vaults/deploy/action on the vault.')
param enabledForTemplateDeployment bool = false

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  //checkov:skip=CKV_AZURE_109:The app reaches the vault over its public endpoint (Flex Consumption and Elastic Premium without VNet integration have no fixed outbound addresses to allow, and App Service is not a trusted service for the vault firewall); access is RBAC-only and audited.
  //checkov:skip=CKV_AZURE_189:Same reason as CKV_AZURE_109: public network access is how the app and the operator's `auth login` reach the vault; a private endpoint needs a VNet this template does not create.
  //checkov:skip=CKV_AZURE_110:Purge protection is the enablePurgeProtection parameter (keyVaultPurgeProtection in main.bicep), true by default; checkov cannot evaluate the conditional that omits the property when it is false (Key Vault refuses an explicit false).
  //checkov:skip=CKV_AZURE_42:Soft delete is always on and purge protection is on by default (see CKV_AZURE_110).
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enabledForTemplateDeployment: enabledForTemplateDeployment
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Key Vault refuses an explicit false ("purge protection cannot be disabled"), so
    // "off" is expressed by leaving the property out.
    enablePurgeProtection: enablePurgeProtection ? true : null
    // The app reaches the vault over its public endpoint (no VNet integration in this
    // template); access is still RBAC-only (checkov skips at the top of this resource).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource audit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
