// Alerts before a flow fails (issue 25): an Application Insights standard availability test
// that calls the app's health function every five minutes from three regions, with a metric
// alert when two of them see anything but 200 (health answers 503 when the Anaplan sign-in is
// about to die or has died, a certificate is within 30 days of its expiry, or Key Vault,
// storage or Anaplan fail); and a log alert when the keep-signed-in timer fails (it could not
// refresh the sign-in, or the certificate is about to expire).
//
// The test sends the health function's own key (modules/health-key.bicep), which opens health
// alone; anyone who can read the web test resource can read it.

@description('The function app\'s host name, e.g. myapp.azurewebsites.net.')
param hostName string

@description('Name of the function app (names the test and the alerts).')
param appName string

@description('Resource id of the Application Insights component.')
param appInsightsId string

@description('Region of the component.')
param location string

@description('Tags.')
param tags object

@description('The health function\'s key.')
@secure()
param healthKey string

@description('E-mail address told when an alert fires; empty: the alerts show in the portal only.')
param alertEmail string = ''

var testName = 'health-${appName}'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${appName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('anaplanfn', 12)
    enabled: true
    emailReceivers: [
      {
        name: 'admin'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actionGroups = empty(alertEmail) ? [] : [
  actionGroup.id
]

resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: testName
  location: location
  // Application Insights lists a web test only with this link to its component.
  tags: union(tags, {
    'hidden-link:${appInsightsId}': 'Resource'
  })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: testName
    Name: 'anaplan-functions health'
    Description: 'GET /api/health: 200 while the app can serve its next flow (Anaplan sign-in, Key Vault, storage, Anaplan).'
    Enabled: true
    Kind: 'standard'
    Frequency: 300
    Timeout: 30
    RetryEnabled: true
    Locations: [
      {
        Id: 'us-va-ash-azr'
      }
      {
        Id: 'emea-nl-ams-azr'
      }
      {
        Id: 'apac-sg-sin-azr'
      }
    ]
    Request: {
      RequestUrl: 'https://${hostName}/api/health'
      HttpVerb: 'GET'
      ParseDependentRequests: false
      Headers: [
        {
          key: 'x-functions-key'
          value: healthKey
        }
      ]
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource healthAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'health-failed-${appName}'
  location: 'global'
  tags: tags
  properties: {
    description: 'anaplan-functions health answered other than 200 from two regions: read its body (auth, keyVault, storage, anaplan) for what to fix before flows fail.'
    severity: 1
    enabled: true
    scopes: [
      healthTest.id
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: healthTest.id
      componentId: appInsightsId
      failedLocationCount: 2
    }
    actions: [for id in actionGroups: {
      actionGroupId: id
    }]
  }
}

resource keepSignedInFailed 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'keep-signed-in-failed-${appName}'
  location: location
  tags: tags
  properties: {
    displayName: 'anaplan-functions: keep-signed-in failed'
    description: 'The keep-signed-in timer failed: the Anaplan sign-in could not be refreshed (sign the app in again if Anaplan refused it) or the certificate expires within 30 days. Its log line says which.'
    severity: 1
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT1H'
    // The timer runs every 4 hours by default: a window that always holds one run.
    windowSize: 'PT6H'
    criteria: {
      allOf: [
        {
          query: 'requests | where name == "keep-signed-in" and success == false'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actionGroups
    }
  }
}

output webTestId string = healthTest.id
