// The Linux function app that runs the Rust custom handler (`anaplan-functions serve`),
// on Flex Consumption (FC1, the default) or Elastic Premium (EP1).
//
// Flex Consumption: the stack comes from functionAppConfig.runtime ({name: 'custom'}), the
// code from a blob container read with the app's system-assigned identity, and the
// FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION / WEBSITE_RUN_FROM_PACKAGE /
// WEBSITE_CONTENT* settings must NOT be set (Flex rejects them).
//
// Elastic Premium: the classic settings (FUNCTIONS_WORKER_RUNTIME=custom,
// FUNCTIONS_EXTENSION_VERSION=~4) and run-from-package (WEBSITE_RUN_FROM_PACKAGE=1: zip
// deploy mounts the package read-only, the exec bit of the binary is kept). There is no
// Azure Files content share (WEBSITE_CONTENTAZUREFILECONNECTIONSTRING needs an account key
// and the storage account has shared keys off); Linux Premium then keeps the package in
// the platform's own storage, which run-from-package is documented to work with.

@description('Function app name (globally unique host name).')
param name string

@description('Hosting plan name.')
param planName string

@description('Region.')
param location string

@description('Tags for every resource.')
param tags object

@description('azd finds the app by this tag value (azure.yaml service name).')
param azdServiceName string = 'anaplan'

@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string

@description('Flex Consumption: runtime version of the custom stack. Check `az functionapp list-flexconsumption-runtimes --location <region> --runtime custom`.')
param flexRuntimeVersion string

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Elastic Premium: most instances the plan scales out to.')
@minValue(1)
@maxValue(100)
param maximumElasticWorkerCount int

@description('Elastic Premium: instances kept warm (always ready).')
@minValue(1)
@maxValue(20)
param minimumElasticInstanceCount int

@description('Spread instances across availability zones (regions with zones only; fixed when the plan is created; Elastic Premium then keeps at least three instances).')
param zoneRedundant bool = false

@description('The app\'s own storage account (AzureWebJobsStorage, identity-based).')
param storageAccountName string

@description('Flex Consumption: container holding the deployment package.')
param deploymentContainerName string

@description('Application Insights component name.')
param appInsightsName string

@description('True when Application Insights refuses key-only ingestion: the host then signs in with the app\'s identity.')
param appInsightsDisableLocalAuth bool

@description('The application\'s settings (interface section 3); secure because EXPORT_STORAGE_URL may carry a SAS.')
@secure()
param appSettings object

var isFlex = hostingPlan == 'FlexConsumption'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var flexSku = {
  name: 'FC1'
  tier: 'FlexConsumption'
}

var premiumSku = {
  name: 'EP1'
  tier: 'ElasticPremium'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225:Zone redundancy is the zoneRedundant parameter, off by default: only some regions offer it, it must be chosen when the plan is created, and on Elastic Premium it means at least three always-ready instances.
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? flexSku : premiumSku
  properties: {
    // Linux.
    reserved: true
    maximumElasticWorkerCount: isFlex ? null : maximumElasticWorkerCount
    zoneRedundant: zoneRedundant
  }
}

// Flex Consumption: the package comes from a blob container read with the app's own
// identity; the stack is the custom handler.
var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
      authentication: {
        type: 'SystemAssignedIdentity'
      }
    }
  }
  scaleAndConcurrency: {
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
  runtime: {
    name: 'custom'
    version: flexRuntimeVersion
  }
}

// Settings every plan needs: identity-based AzureWebJobsStorage (no connection string, no
// key) and Application Insights. A literal list, because the connection string is only
// known while deploying (a for-expression needs its collection at the start).
var coreSettings = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storage.name
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
]

// Application Insights without local auth: the host signs in with the system-assigned
// identity (hence no ClientId part).
var aadTelemetrySettings = appInsightsDisableLocalAuth ? { APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' } : {}

// Elastic Premium only (Flex Consumption refuses them).
var premiumSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'custom'
  WEBSITE_RUN_FROM_PACKAGE: '1'
}

var planSettings = isFlex ? {} : premiumSettings

var otherSettings = [for setting in items(union(aadTelemetrySettings, planSettings, appSettings)): {
  name: setting.key
  value: setting.value
}]

// The whole set is written on every deployment: settings added by hand in the portal do not
// survive a redeploy (put them in additionalAppSettings in main.bicep instead).
var allSettings = concat(coreSettings, otherSettings)

var siteTags = union(tags, { 'azd-service-name': azdServiceName })

resource site 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_17:Callers authenticate with function keys (authLevel function) and Logic Apps presents no client certificate; requiring one would lock out every caller.
  //checkov:skip=CKV_AZURE_222:Logic Apps call the app over the internet; public network access stays on unless the workflows and the app share a VNet (not in this template).
  //checkov:skip=CKV_AZURE_212:Instances follow demand (Flex: per request, from zero; Premium: minimumElasticInstanceCount always-ready instances, premiumAlwaysReadyInstances in main.bicep); there is no fixed worker count to set.
  //checkov:skip=CKV_AZURE_213:App Service health check needs an anonymous endpoint and every function requires a key; the Functions host already probes the handler (GET /) and restarts it when it stops answering.
  name: name
  location: location
  tags: siteTags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // Elastic Premium: an empty stack is the platform's Functions image, which runs the
      // custom handler host.json names (as the Azure CLI's "custom" Linux runtime does).
      // Flex Consumption takes the stack from functionAppConfig and refuses these.
      linuxFxVersion: isFlex ? null : ''
      use32BitWorkerProcess: isFlex ? null : false
      minimumElasticInstanceCount: isFlex ? null : minimumElasticInstanceCount
      appSettings: allSettings
    }
    functionAppConfig: isFlex ? flexConfig : null
  }
}

// No FTP and no basic-auth publishing: deployments use Entra ID (azd, az functionapp
// deployment source config-zip, Flex one-deploy).
resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
output principalId string = site.identity.principalId
