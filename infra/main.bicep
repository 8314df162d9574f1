// anaplan-functions: everything the app needs in one resource group.
//
//   az deployment group create -g <resource-group> -f infra/main.bicep -p infra/main.bicepparam
//
// (or `azd up`, see azure.yaml). Then deploy the code (`anaplan-functions package --zip`
// and `az functionapp deployment source config-zip ...`, or `azd deploy`), store the
// Anaplan credentials in the vault, and run `anaplan-functions auth login`
// (infra/README.md walks through it).
//
// Creates: a Linux function app for the custom handler (Flex Consumption FC1 by default, or
// Elastic Premium EP1) with a system-assigned identity; its storage account (shared keys
// off); Log Analytics and Application Insights; a Key Vault (RBAC, soft delete, purge
// protection); the role assignments the identity needs (modules/roles.bicep explains each
// scope); and, when deployConnector is true (or connectorAuth is anaplanOAuth, or connectors is
// byRole), the Logic Apps custom connector(s), each with a function key of its own kept in the
// vault. The keys are set on the functions after the code deployment by connector-keys.bicep
// (azd: the postdeploy hook), since a function exists only once its code does.
//
// Needs Bicep CLI 0.38.3 or newer (@onlyIfNotExists in modules/writable-secrets.bicep).

targetScope = 'resourceGroup'

metadata description = 'anaplan-functions: Azure Functions custom handler giving Logic Apps typed Anaplan actions'

// ---------------------------------------------------------------- naming and placement

@description('Short base name for the resources (lowercase letters, digits and hyphens). A hash of the subscription, resource group and this name is appended, so names are stable across redeployments and unique across environments.')
@minLength(2)
@maxLength(20)
param name string = 'anaplan'

@description('Region; empty means the resource group\'s. Flex Consumption is offered in a subset of regions: `az functionapp list-flexconsumption-locations`.')
param location string = ''

@description('azd environment name, recorded as the azd-env-name tag; empty outside azd.')
param environmentName string = ''

@description('Tags added to every resource.')
param tags object = {}

// ---------------------------------------------------------------- hosting

@description('FlexConsumption (FC1: scales from zero, billed per execution) or ElasticPremium (EP1: always-ready instances, no cold start, billed per instance).')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Flex Consumption: version of the custom-handler runtime. 1.0 is what the platform records for runtime custom; check `az functionapp list-flexconsumption-runtimes --location <region> --runtime custom` if the app does not start.')
param flexRuntimeVersion string = '1.0'

@description('Flex Consumption: memory per instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex Consumption: most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Elastic Premium: most instances the plan scales out to.')
@minValue(1)
@maxValue(100)
param premiumMaximumInstanceCount int = 3

@description('Elastic Premium: instances kept always ready.')
@minValue(1)
@maxValue(20)
param premiumAlwaysReadyInstances int = 1

@description('Spread the plan across availability zones (only in regions with zones; fixed at creation; Elastic Premium then keeps at least three instances).')
param zoneRedundant bool = false

// ---------------------------------------------------------------- app settings (interface section 3)

@description('ANAPLAN_AUTH_METHOD: oauth (client id + secret + refresh token), certificate, basic (user name + password), or caller (only the caller\'s own bearer token).')
@allowed([
  'oauth'
  'certificate'
  'basic'
  'caller'
])
param anaplanAuthMethod string = 'oauth'

@description('ANAPLAN_REGION: the Anaplan region of the tenant (us1 ... me1, or a host prefix such as au1a); sets the API, auth, OAuth, SCIM and CloudWorks hosts together. Empty: the global hosts (us1 and the other regions that share them).')
@allowed([
  ''
  'us1'
  'us2'
  'us5'
  'us7'
  'us9'
  'eu1'
  'eu2'
  'eu3'
  'eu4'
  'eu5'
  'gb1'
  'ap1'
  'au1'
  'au1a'
  'ca1'
  'ca1a'
  'sg1'
  'ae1'
  'in1'
  'id1'
  'me1'
])
param anaplanRegion string = ''

@description('ANAPLAN_API_URL: Integration API base. Empty: the region\'s (https://api.anaplan.com without a region).')
param anaplanApiUrl string = ''

@description('ANAPLAN_AUTH_URL: legacy token service (basic, certificate). Empty: the region\'s (https://auth.anaplan.com without a region).')
param anaplanAuthUrl string = ''

@description('ANAPLAN_OAUTH_URL: Anaplan OAuth 2 service. Empty: the region\'s (https://us1a.app.anaplan.com without a region).')
param anaplanOAuthUrl string = ''

@description('ANAPLAN_POLL_SECONDS: Retry-After sent with each 202, i.e. how often Logic Apps polls a running task.')
@minValue(1)
@maxValue(3600)
param anaplanPollSeconds int = 5

@description('EXPORT_STORAGE_URL: another storage account for exports sent to Blob (a blob service URL used with the app\'s identity, a SAS URL, or a connection string). Empty: exports go to the app\'s own account.')
@secure()
param exportStorageUrl string = ''

@description('Set KEY_VAULT_URI, so the app reads its Anaplan credentials from the vault (and writes rotated refresh tokens there). False: the app reads them from app settings (additionalAppSettings).')
param useKeyVault bool = true

@description('ANAPLAN_CLOUDWORKS_URL: CloudWorks API base (/2/0 is appended). Empty: the region\'s (https://api.cloudworks.anaplan.com without a region).')
param cloudWorksUrl string = ''

@description('CLOUDWORKS_SAS_CONNECTIONS: comma-separated CloudWorks connection ids or names whose Azure Blob SAS the refresh-cloudworks-sas timer renews. Empty: none.')
param cloudWorksSasConnections string = ''

@description('CLOUDWORKS_SAS_DAYS: lifetime of each SAS the timer writes (a user delegation SAS cannot outlive 7 days).')
@minValue(1)
@maxValue(7)
param cloudWorksSasDays int = 7

@description('CLOUDWORKS_SAS_SCHEDULE: the timer\'s NCRONTAB schedule (six fields; UTC unless WEBSITE_TIME_ZONE says otherwise).')
param cloudWorksSasSchedule string = '0 0 3 * * *'

@description('ANAPLAN_REFRESH_TOKEN_LIFETIME: seconds a refresh token lives unused, as set on the Anaplan OAuth client (43200, 12 hours, unless its admin changed it). keep-signed-in and health estimate from it when the chain dies.')
@minValue(4)
@maxValue(31556926)
param anaplanRefreshTokenLifetime int = 43200

@description('KEEP_SIGNED_IN_SCHEDULE: NCRONTAB schedule of the keep-signed-in timer, which refreshes the app\'s Anaplan sign-in when its last refresh is older than a quarter of anaplanRefreshTokenLifetime. Runs must come well within that lifetime (every 4 hours fits the default 12).')
param keepSignedInSchedule string = '0 0 */4 * * *'

@description('The storage account CloudWorks\' Azure Blob connections use, for the roles a user delegation SAS needs (Storage Blob Delegator on it, Storage Blob Data Contributor on cloudWorksContainerNames). Empty: no roles are granted.')
param cloudWorksStorageAccountName string = ''

@description('Resource group of cloudWorksStorageAccountName; empty: this deployment\'s.')
param cloudWorksStorageResourceGroup string = ''

@description('Containers of cloudWorksStorageAccountName that the CloudWorks connections name.')
param cloudWorksContainerNames array = []

@description('More app settings, merged last (e.g. RUST_LOG). Never put secrets here in plain text: use the vault, or Key Vault references (@Microsoft.KeyVault(SecretUri=...)).')
param additionalAppSettings object = {}

// ---------------------------------------------------------------- data services

@description('Storage redundancy for the app\'s account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_LRS'

@description('BLOB_CONTAINERS: the containers export-file and import-file may use through Blob; no other is reachable through the app. In the app\'s own account (exportStorageUrl empty) they are created here and the app\'s identity gets Storage Blob Data Contributor on each of them only. The host\'s, deployment and state containers (azure-webjobs-*, app-package-*, scm-*, anaplan-functions-state) are refused by the app even if listed.')
@minLength(1)
param blobContainerNames array = [
  'anaplan-exports'
]

@description('Key Vault purge protection: deleted secrets and the vault itself cannot be purged before the retention period ends. Irreversible once on.')
param keyVaultPurgeProtection bool = true

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionDays int = 90

@description('Application Insights refuses ingestion with the key alone; the app signs in with its identity (Monitoring Metrics Publisher).')
param appInsightsDisableLocalAuth bool = true

@description('Days Log Analytics keeps logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Object id of the person, group or pipeline that manages the Anaplan credentials: gets Key Vault Secrets Officer on the vault. azd passes the signed-in user (AZURE_PRINCIPAL_ID). Empty: grant it yourself.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

// ---------------------------------------------------------------- custom connector

@description('Deploy an availability test on the health function (every 5 minutes from three regions) with an alert when it fails, and an alert when the keep-signed-in timer fails (modules/availability.bicep). The test\'s key (health only) is set on the function after the code deployment, with the connectors\' keys (connector-keys.bicep).')
param healthAlerts bool = true

@description('E-mail address the health and keep-signed-in alerts are sent to; empty: they show in the portal only.')
param alertEmail string = ''

@description('Also deploy the Logic Apps custom connector (Microsoft.Web/customApis). connectorAuth anaplanOAuth and connectors byRole deploy it whatever this says.')
param deployConnector bool = false

@description('Custom connector resource name (connectors single); empty means <name>-connector. With connectors byRole the names are <name>-integration, <name>-users and <name>-cloudworks.')
param connectorName string = ''

@description('How the connector\'s connections authenticate. functionKey: each connection asks for a function key, and the app acts with its own Anaplan identity. anaplanOAuth: each connection signs in to Anaplan with its user\'s own account (Generic OAuth 2, authorization code), the app runs with ANAPLAN_AUTH_METHOD=caller (anaplanAuthMethod is then ignored), and the connector sends its function key as an internal header.')
@allowed([
  'functionKey'
  'anaplanOAuth'
])
param connectorAuth string = 'functionKey'

@description('single: one connector with every operation. byRole: three, each with only its group\'s operations and its own function key: <name>-integration (model data and actions), <name>-users (users, access review, exception and tenant users, audit events), <name>-cloudworks (CloudWorks).')
@allowed([
  'single'
  'byRole'
])
param connectors string = 'single'

@description('connectorAuth anaplanOAuth: the client id of the Anaplan OAuth client (grant type authorization code) the connections sign in with.')
param anaplanOAuthClientId string = ''

@description('connectorAuth anaplanOAuth: that client\'s secret.')
@secure()
param anaplanOAuthClientSecret string = ''

// ---------------------------------------------------------------- names

var region = empty(location) ? resourceGroup().location : location
var token = uniqueString(subscription().id, resourceGroup().id, name)
var compact = toLower(replace(name, '-', ''))
var envTags = empty(environmentName) ? {} : { 'azd-env-name': environmentName }
var allTags = union(tags, envTags)
var names = {
  app: toLower('${name}-${token}')
  plan: toLower('plan-${name}-${token}')
  storage: take('st${compact}${token}', 24)
  vault: take('kv${compact}${token}', 24)
  logs: toLower('log-${name}-${token}')
  appInsights: toLower('appi-${name}-${token}')
  connector: empty(connectorName) ? '${name}-connector' : connectorName
}
var deploymentContainerName = 'app-package'
// Where the host keeps its keys and timer state, and the handler its idempotency records
// and refresh lock: the app's identity needs data rights on these (and no others) besides
// blobContainerNames.
var platformContainerNames = [
  'azure-webjobs-hosts'
  'azure-webjobs-secrets'
  'anaplan-functions-state'
]
var transferContainerNames = empty(exportStorageUrl) ? blobContainerNames : []

// The connector(s): which definitions, and the OAuth host their connections sign in at.
var signInWithAnaplan = connectorAuth == 'anaplanOAuth'
var deployConnectors = deployConnector || signInWithAnaplan || connectors == 'byRole'
var connectorGroups = !deployConnectors ? [] : connectors == 'byRole' ? [
  'integration'
  'users'
  'cloudworks'
] : [
  'all'
]
var connectorDefinitions = {
  functionKey: {
    all: loadJsonContent('connector/apiDefinition.swagger.json')
    integration: loadJsonContent('connector/groups/integration.swagger.json')
    users: loadJsonContent('connector/groups/users.swagger.json')
    cloudworks: loadJsonContent('connector/groups/cloudworks.swagger.json')
  }
  anaplanOAuth: {
    all: loadJsonContent('connector-oauth/apiDefinition.swagger.json')
    integration: loadJsonContent('connector-oauth/groups/integration.swagger.json')
    users: loadJsonContent('connector-oauth/groups/users.swagger.json')
    cloudworks: loadJsonContent('connector-oauth/groups/cloudworks.swagger.json')
  }
}
var connectorConnectionParameters = {
  functionKey: loadJsonContent('connector/apiProperties.json', '$.properties.connectionParameters')
  anaplanOAuth: loadJsonContent('connector-oauth/apiProperties.json', '$.properties.connectionParameters')
}
// Each region's Anaplan OAuth host, as the app maps ANAPLAN_REGION (crates/anaplan/src/regions.rs;
// tests/app/connector_variants.rs compares the two).
var anaplanOAuthHosts = {
  us1: 'https://us1a.app.anaplan.com'
  us2: 'https://us1a.app.anaplan.com'
  us5: 'https://us1a.app.anaplan.com'
  us7: 'https://us1a.app.anaplan.com'
  eu1: 'https://us1a.app.anaplan.com'
  eu2: 'https://us1a.app.anaplan.com'
  eu4: 'https://us1a.app.anaplan.com'
  ap1: 'https://us1a.app.anaplan.com'
  us9: 'https://us9.app.anaplan.com'
  eu3: 'https://eu3.app.anaplan.com'
  eu5: 'https://eu5.app.anaplan.com'
  gb1: 'https://gb1.app.anaplan.com'
  au1: 'https://au1a.app2.anaplan.com'
  au1a: 'https://au1a.app2.anaplan.com'
  ca1: 'https://ca1a.app.anaplan.com'
  ca1a: 'https://ca1a.app.anaplan.com'
  sg1: 'https://sg1.app.anaplan.com'
  ae1: 'https://ae1.app.anaplan.com'
  in1: 'https://in1.app.anaplan.com'
  id1: 'https://id1.app.anaplan.com'
  me1: 'https://me1.app.anaplan.com'
}
var anaplanOAuthHost = empty(anaplanOAuthUrl) ? anaplanOAuthHosts[empty(anaplanRegion) ? 'us1' : anaplanRegion] : anaplanOAuthUrl
var anaplanOAuthBaseUrl = endsWith(anaplanOAuthHost, '/') ? take(anaplanOAuthHost, length(anaplanOAuthHost) - 1) : anaplanOAuthHost
// Logic Apps' OAuth callback in the connector's region: register it in the Anaplan OAuth client.
var anaplanOAuthRedirectUrl = replace(loadJsonContent('connector-oauth/apiProperties.json', '$.properties.connectionParameters.token.oAuthSettings.redirectUrl'), '{region}', region)

// ---------------------------------------------------------------- resources

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logs
    appInsightsName: names.appInsights
    location: region
    tags: allTags
    retentionInDays: logRetentionDays
    disableLocalAuth: appInsightsDisableLocalAuth
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: region
    tags: allTags
    skuName: storageSku
    deploymentContainerName: deploymentContainerName
    transferContainerNames: transferContainerNames
    platformContainerNames: platformContainerNames
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.vault
    location: region
    tags: allTags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionDays
    enablePurgeProtection: keyVaultPurgeProtection
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    // The connectors' keys are read back with getSecret() (modules/connector-secrets.bicep).
    enabledForTemplateDeployment: deployConnectors
  }
}

module writableSecrets 'modules/writable-secrets.bicep' = {
  name: 'writable-secrets'
  params: {
    vaultName: vault.outputs.name
    tags: allTags
  }
}

// Empty host settings are left out, so the app takes them from ANAPLAN_REGION (or the global hosts).
var hostSettings = union(
  empty(anaplanRegion) ? {} : { ANAPLAN_REGION: anaplanRegion },
  empty(anaplanApiUrl) ? {} : { ANAPLAN_API_URL: anaplanApiUrl },
  empty(anaplanAuthUrl) ? {} : { ANAPLAN_AUTH_URL: anaplanAuthUrl },
  empty(anaplanOAuthUrl) ? {} : { ANAPLAN_OAUTH_URL: anaplanOAuthUrl },
  empty(cloudWorksUrl) ? {} : { ANAPLAN_CLOUDWORKS_URL: cloudWorksUrl }
)
var baseSettings = {
  // Per-user sign-in: the app acts only with each connection's own Anaplan token.
  ANAPLAN_AUTH_METHOD: signInWithAnaplan ? 'caller' : anaplanAuthMethod
  ANAPLAN_POLL_SECONDS: string(anaplanPollSeconds)
  CLOUDWORKS_SAS_CONNECTIONS: cloudWorksSasConnections
  CLOUDWORKS_SAS_DAYS: string(cloudWorksSasDays)
  CLOUDWORKS_SAS_SCHEDULE: cloudWorksSasSchedule
  ANAPLAN_REFRESH_TOKEN_LIFETIME: string(anaplanRefreshTokenLifetime)
  KEEP_SIGNED_IN_SCHEDULE: keepSignedInSchedule
  BLOB_CONTAINERS: join(blobContainerNames, ',')
}
// The timer grants a SAS only on the containers the identity has roles on.
var sasContainerSettings = empty(cloudWorksContainerNames) ? {} : { CLOUDWORKS_SAS_CONTAINERS: join(cloudWorksContainerNames, ',') }
var vaultSettings = useKeyVault ? { KEY_VAULT_URI: vault.outputs.uri } : {}
var exportSettings = empty(exportStorageUrl) ? {} : { EXPORT_STORAGE_URL: exportStorageUrl }
var anaplanSettings = union(baseSettings, hostSettings, sasContainerSettings, vaultSettings, exportSettings, additionalAppSettings)

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: names.app
    planName: names.plan
    location: region
    tags: allTags
    hostingPlan: hostingPlan
    flexRuntimeVersion: flexRuntimeVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    maximumElasticWorkerCount: premiumMaximumInstanceCount
    minimumElasticInstanceCount: premiumAlwaysReadyInstances
    zoneRedundant: zoneRedundant
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    appInsightsDisableLocalAuth: appInsightsDisableLocalAuth
    appSettings: anaplanSettings
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: app.outputs.principalId
    storageAccountName: storage.outputs.name
    ownedContainerNames: concat([storage.outputs.deploymentContainerName], storage.outputs.platformContainerNames)
    transferContainerNames: storage.outputs.transferContainerNames
    vaultName: vault.outputs.name
    refreshTokenSecretName: writableSecrets.outputs.refreshTokenSecretName
    accessTokenSecretName: writableSecrets.outputs.accessTokenSecretName
    appInsightsName: monitoring.outputs.appInsightsName
    grantMetricsPublisher: appInsightsDisableLocalAuth
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module cloudWorksRoles 'modules/cloudworks-roles.bicep' = if (!empty(cloudWorksStorageAccountName)) {
  name: 'cloudworks-roles'
  scope: resourceGroup(empty(cloudWorksStorageResourceGroup) ? resourceGroup().name : cloudWorksStorageResourceGroup)
  params: {
    principalId: app.outputs.principalId
    storageAccountName: cloudWorksStorageAccountName
    containerNames: cloudWorksContainerNames
  }
}

// One function key per connector, in the vault (set on the functions by connector-keys.bicep).
module connectorSecrets 'modules/connector-secrets.bicep' = if (deployConnectors) {
  name: 'connector-secrets'
  params: {
    vaultName: vault.outputs.name
    tags: allTags
    groups: connectorGroups
  }
}

// The vault, to read the connectors' keys back (getSecret).
resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: names.vault
}

module connector 'modules/connector.bicep' = [for group in connectorGroups: {
  name: 'connector-${group}'
  dependsOn: [
    connectorSecrets
  ]
  params: {
    name: group == 'all' ? names.connector : '${name}-${group}'
    location: region
    tags: allTags
    hostName: app.outputs.defaultHostName
    swagger: connectorDefinitions[connectorAuth][group]
    connectionParameters: connectorConnectionParameters[connectorAuth]
    brandColor: loadJsonContent('connector/apiProperties.json', '$.properties.iconBrandColor')
    functionKey: keyVault.getSecret('function-key-connector-${group}')
    oAuthBaseUrl: signInWithAnaplan ? anaplanOAuthBaseUrl : ''
    oAuthClientId: anaplanOAuthClientId
    oAuthClientSecret: anaplanOAuthClientSecret
  }
}]

// The health function's own key (the availability test's), and the test and alerts on it.
module healthKey 'modules/health-key.bicep' = if (healthAlerts) {
  name: 'health-key'
  params: {
    vaultName: vault.outputs.name
    tags: allTags
  }
}

module availability 'modules/availability.bicep' = if (healthAlerts) {
  name: 'availability'
  dependsOn: [
    healthKey
  ]
  params: {
    hostName: app.outputs.defaultHostName
    appName: app.outputs.name
    appInsightsId: monitoring.outputs.appInsightsId
    location: region
    tags: allTags
    healthKey: keyVault.getSecret('function-key-health')
    alertEmail: alertEmail
  }
}

// ---------------------------------------------------------------- outputs

@description('Function app name.')
output appName string = app.outputs.name

@description('onboard: open it in a browser with ?code=<a function key> (az functionapp keys list) to see the app\'s Anaplan sign-in and sign the app in (ANAPLAN_AUTH_METHOD oauth, with the Anaplan OAuth client\'s id and secret in the vault).')
output onboardUrl string = 'https://${app.outputs.defaultHostName}/api/onboard'

@description('onboard-callback: add this URL to the Anaplan OAuth client\'s callback URLs, so that Anaplan sends the browser back to the app after the sign-in onboard starts.')
output onboardCallbackUrl string = 'https://${app.outputs.defaultHostName}/api/onboard-callback'

@description('Base URL of the functions, e.g. https://<app>.azurewebsites.net/api (append get-view-data, run-process, ...).')
output baseUrl string = 'https://${app.outputs.defaultHostName}/api'

@description('KEY_VAULT_URI: where the Anaplan credentials go.')
output keyVaultUri string = vault.outputs.uri

@description('Key Vault name (for az keyvault secret set --vault-name).')
output keyVaultName string = vault.outputs.name

@description('Object id of the app\'s system-assigned identity.')
output principalId string = app.outputs.principalId

@description('The app\'s storage account (AzureWebJobsStorage, exports).')
output storageAccountName string = storage.outputs.name

@description('The containers export-file and import-file may use (BLOB_CONTAINERS).')
output blobContainerNames array = blobContainerNames

@description('Resource id of the custom connector (the first one with connectors byRole); empty when none is deployed.')
output connectorId string = deployConnectors ? connector[0].outputs.id : ''

@description('Every custom connector: its resource id, name, and the function key its connections use (keyName: the function key the deployment creates on exactly its functions; vaultSecret: where its value is kept). With connectorAuth functionKey, hand that key to the connector\'s users; with anaplanOAuth the connector sends it by itself.')
output connectors array = [for (group, i) in connectorGroups: {
  id: connector[i].outputs.id
  name: connector[i].outputs.name
  group: group
  keyName: 'connector-${group}'
  vaultSecret: 'function-key-connector-${group}'
}]

@description('connectorAuth anaplanOAuth: the redirect URL to add to the Anaplan OAuth client\'s allowed callback URLs (Logic Apps\' consent service in the connector\'s region); empty otherwise.')
output anaplanOAuthRedirectUrl string = signInWithAnaplan ? anaplanOAuthRedirectUrl : ''

// For the azd postdeploy hook (azure.yaml), which sets the connectors' keys on their functions.
@description('The function app name, for connector-keys.bicep.')
output ANAPLAN_FUNCTION_APP string = app.outputs.name

@description('The Key Vault name, for connector-keys.bicep.')
output ANAPLAN_KEY_VAULT string = vault.outputs.name

@description('single or byRole when connectors are deployed (connector-keys.bicep\'s connectors); empty when none is.')
output ANAPLAN_DEPLOYED_CONNECTORS string = deployConnectors ? connectors : ''

@description('For the azd postdeploy hook (scripts/connector-keys.sh): true when the availability test\'s key must be set on the health function.')
output ANAPLAN_HEALTH_TEST bool = healthAlerts
