// Example: a Logic App (Consumption) that runs an Anaplan process every morning and then
// exports a file into Blob storage, through the custom connector.
//
// Prerequisites: infra/main.bicep deployed with deployConnector=true in the same resource
// group (it outputs connectorId; the connector's name is <name>-connector by default), and
// a function key of the app:
//
//   az functionapp keys list -g RG -n APP --query functionKeys.default -o tsv
//
// Deploy:
//
//   az deployment group create -g RG -f infra/examples/logic-app.bicep \
//     -p connectorName=anaplan-connector functionKey=<key> \
//        workspaceName='FP&A Planning' modelName='Revenue Plan' \
//        processName='Nightly load' exportName='Revenue by region.csv'
//
// What the workflow does:
// - "Run process" POSTs /run-process; the app answers 202 with Location and Retry-After, and
//   Logic Apps polls Location by itself (asynchronous pattern) until the process ends: the
//   action then succeeds with the process result, or fails with the 422 problem listing the
//   failed steps and the head of each dump.
// - "Export to Blob" runs only after that, with destination=blob: the app streams the file
//   into <containerName>/<yyyy-MM-dd>/<export name> in its storage account and answers with
//   the blob URL, size and content type.
// - Both send an Idempotency-Key derived from the run, so a retried action (Logic Apps
//   retries 429 and 5xx) finds the task it already started instead of starting another.
//
// The actions name Anaplan objects by name, so the workflow moves between environments
// unchanged; in the designer the same actions offer dropdowns of ids instead.

@description('Region; must be the connector\'s region.')
param location string = resourceGroup().location

@description('Workflow name.')
param workflowName string = 'anaplan-run-process-then-export'

@description('Name of the Microsoft.Web/customApis resource main.bicep deployed.')
param connectorName string

@description('API connection to create for the workflow.')
param connectionName string = 'anaplan-functions'

@description('A function key of the app (sent as x-functions-key).')
@secure()
param functionKey string

@description('Anaplan workspace name.')
param workspaceName string

@description('Anaplan model name.')
param modelName string

@description('Anaplan process to run first.')
param processName string

@description('Anaplan export to write to Blob storage after the process.')
param exportName string

@description('Blob container for the export (main.bicep creates anaplan-exports).')
param containerName string = 'anaplan-exports'

@description('Hour of day (UTC) to run at.')
@minValue(0)
@maxValue(23)
param runAtHourUtc int = 5

@description('Longest the process may run before the action gives up (ISO 8601 duration).')
param processTimeout string = 'PT2H'

resource customApi 'Microsoft.Web/customApis@2016-06-01' existing = {
  name: connectorName
}

resource connection 'Microsoft.Web/connections@2016-06-01' = {
  name: connectionName
  location: location
  properties: {
    displayName: 'Anaplan Functions'
    api: {
      id: customApi.id
    }
    parameterValues: {
      api_key: functionKey
    }
  }
}

var anaplanConnection = '@parameters(\'$connections\')[\'anaplan\'][\'connectionId\']'

resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
  name: workflowName
  location: location
  properties: {
    state: 'Enabled'
    definition: {
      '$schema': 'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#'
      contentVersion: '1.0.0.0'
      parameters: {
        '$connections': {
          type: 'Object'
          defaultValue: {}
        }
        workspaceName: {
          type: 'String'
        }
        modelName: {
          type: 'String'
        }
        processName: {
          type: 'String'
        }
        exportName: {
          type: 'String'
        }
        containerName: {
          type: 'String'
        }
      }
      triggers: {
        Every_morning: {
          type: 'Recurrence'
          recurrence: {
            frequency: 'Day'
            interval: 1
            timeZone: 'UTC'
            schedule: {
              hours: [
                runAtHourUtc
              ]
              minutes: [
                0
              ]
            }
          }
        }
      }
      actions: {
        Run_process: {
          type: 'ApiConnection'
          runAfter: {}
          limit: {
            timeout: processTimeout
          }
          inputs: {
            host: {
              connection: {
                name: anaplanConnection
              }
            }
            method: 'post'
            // Paths are the connector's operation paths (below basePath /api).
            path: '/run-process'
            queries: {
              workspaceName: '@parameters(\'workspaceName\')'
              modelName: '@parameters(\'modelName\')'
              processName: '@parameters(\'processName\')'
            }
            headers: {
              'Idempotency-Key': '@{workflow()[\'run\'][\'name\']}-run-process'
            }
          }
        }
        Export_to_Blob: {
          type: 'ApiConnection'
          runAfter: {
            Run_process: [
              'Succeeded'
            ]
          }
          limit: {
            timeout: processTimeout
          }
          inputs: {
            host: {
              connection: {
                name: anaplanConnection
              }
            }
            method: 'post'
            path: '/export-file'
            queries: {
              workspaceName: '@parameters(\'workspaceName\')'
              modelName: '@parameters(\'modelName\')'
              exportName: '@parameters(\'exportName\')'
              destination: 'blob'
              container: '@parameters(\'containerName\')'
              blobName: '@{formatDateTime(utcNow(), \'yyyy-MM-dd\')}/@{parameters(\'exportName\')}'
            }
            headers: {
              'Idempotency-Key': '@{workflow()[\'run\'][\'name\']}-export-file'
            }
          }
        }
      }
      outputs: {}
    }
    parameters: {
      '$connections': {
        value: {
          anaplan: {
            connectionId: connection.id
            connectionName: connection.name
            id: customApi.id
          }
        }
      }
      workspaceName: {
        value: workspaceName
      }
      modelName: {
        value: modelName
      }
      processName: {
        value: processName
      }
      exportName: {
        value: exportName
      }
      containerName: {
        value: containerName
      }
    }
  }
}

@description('The workflow\'s resource id.')
output workflowId string = workflow.id

@description('Where the export lands: <container>/<yyyy-MM-dd>/<export name> in the app\'s storage account.')
output exportBlobPattern string = '${containerName}/<yyyy-MM-dd>/${exportName}'
