using './main.bicep'

// Parameters for `az deployment group create -g RG -f infra/main.bicep -p infra/main.bicepparam`
// and for `azd provision` / `azd up` (azd uses this file because it sits next to main.bicep).
// Values shown are the defaults of interface section 3; environment variables override the
// ones read with readEnvironmentVariable (azd sets AZURE_ENV_NAME, AZURE_LOCATION and
// AZURE_PRINCIPAL_ID itself; `azd env set NAME value` sets the others). In a pipeline
// signed in as a service principal, set operatorPrincipalType = 'ServicePrincipal'.

param name = readEnvironmentVariable('ANAPLAN_RESOURCE_NAME', 'anaplan')
param location = readEnvironmentVariable('AZURE_LOCATION', '')
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', '')

// FlexConsumption (default) or ElasticPremium. Parameters with a fixed list of values are
// written as literals so the compiler can check them.
param hostingPlan = 'FlexConsumption'
param flexRuntimeVersion = '1.0'
param instanceMemoryMB = 2048
param maximumInstanceCount = 40

// App settings (interface section 3).
param anaplanAuthMethod = 'oauth'
// ANAPLAN_REGION sets every Anaplan host; an ANAPLAN_*_URL left empty takes the region's.
param anaplanRegion = readEnvironmentVariable('ANAPLAN_REGION', '')
param anaplanApiUrl = readEnvironmentVariable('ANAPLAN_API_URL', '')
param anaplanAuthUrl = readEnvironmentVariable('ANAPLAN_AUTH_URL', '')
param anaplanOAuthUrl = readEnvironmentVariable('ANAPLAN_OAUTH_URL', '')
param anaplanPollSeconds = int(readEnvironmentVariable('ANAPLAN_POLL_SECONDS', '5'))
param exportStorageUrl = readEnvironmentVariable('EXPORT_STORAGE_URL', '')
param cloudWorksUrl = readEnvironmentVariable('ANAPLAN_CLOUDWORKS_URL', '')
param cloudWorksSasConnections = readEnvironmentVariable('CLOUDWORKS_SAS_CONNECTIONS', '')
param cloudWorksSasDays = int(readEnvironmentVariable('CLOUDWORKS_SAS_DAYS', '7'))
param cloudWorksSasSchedule = readEnvironmentVariable('CLOUDWORKS_SAS_SCHEDULE', '0 0 3 * * *')
param cloudWorksStorageAccountName = readEnvironmentVariable('CLOUDWORKS_STORAGE_ACCOUNT', '')
param cloudWorksStorageResourceGroup = readEnvironmentVariable('CLOUDWORKS_STORAGE_RESOURCE_GROUP', '')
param cloudWorksContainerNames = []
param useKeyVault = true
param additionalAppSettings = {
  RUST_LOG: 'info'
}

// Key Vault and monitoring.
param keyVaultPurgeProtection = true
param keyVaultSoftDeleteRetentionDays = 90
param appInsightsDisableLocalAuth = true

// Who may store the Anaplan credentials in the vault (azd: the signed-in user).
param operatorPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param operatorPrincipalType = 'User'

// The Logic Apps custom connector(s). connectorAuth: functionKey, or anaplanOAuth (each
// connection signs in to Anaplan; the app runs in caller mode; needs the Anaplan OAuth
// client's id and secret). connectors: single, or byRole (integration, users, cloudworks).
// Either of anaplanOAuth and byRole deploys the connectors without deployConnector.
param deployConnector = bool(readEnvironmentVariable('ANAPLAN_DEPLOY_CONNECTOR', 'false'))
param connectorAuth = readEnvironmentVariable('ANAPLAN_CONNECTOR_AUTH', 'functionKey')
param connectors = readEnvironmentVariable('ANAPLAN_CONNECTORS', 'single')
param anaplanOAuthClientId = readEnvironmentVariable('ANAPLAN_OAUTH_CLIENT_ID', '')
param anaplanOAuthClientSecret = readEnvironmentVariable('ANAPLAN_OAUTH_CLIENT_SECRET', '')
