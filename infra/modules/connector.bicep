// The Logic Apps custom connector (Microsoft.Web/customApis), from the same Swagger file
// `anaplan-functions openapi` prints. The backend is the app's /api base; each connection
// asks for a function key (connection parameter api_key, sent as x-functions-key).

@description('Connector resource name.')
param name string

@description('Region (a connection and the workflows using it must be in the same region).')
param location string

@description('Tags.')
param tags object

@description('The function app\'s host name, e.g. myapp.azurewebsites.net.')
param hostName string

@description('The connector definition (infra/connector/apiDefinition.swagger.json).')
param swagger object

@description('Connection parameters (properties.connectionParameters of infra/connector/apiProperties.json).')
param connectionParameters object

@description('Icon background colour.')
param brandColor string

resource api 'Microsoft.Web/customApis@2016-06-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    displayName: swagger.info.title
    description: swagger.info.description
    apiType: 'Rest'
    brandColor: brandColor
    backendService: {
      serviceUrl: 'https://${hostName}${swagger.basePath}'
    }
    // The file's host is a placeholder; the stored definition names the real app.
    swagger: union(swagger, {
      host: hostName
    })
    connectionParameters: connectionParameters
    capabilities: []
  }
}

output id string = api.id
output name string = api.name
