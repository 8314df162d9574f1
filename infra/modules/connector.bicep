// A Logic Apps custom connector (Microsoft.Web/customApis), from a Swagger file
// `anaplan-functions openapi` prints. The backend is the app's /api base. Two kinds
// (main.bicep's connectorAuth):
// - functionKey (infra/connector/): each connection asks for a function key (connection
//   parameter api_key, sent as x-functions-key);
// - anaplanOAuth (infra/connector-oauth/): each connection signs in to Anaplan (Generic OAuth 2,
//   authorization code), and every operation sends the connector's function key as its internal
//   x-functions-key header (root parameter functionKey), whose default is set here: Logic Apps
//   custom connectors run no policies, so the key must be in the definition. Anyone who can
//   read this resource (Reader on the resource group) can read that key; connection users in
//   the designer cannot.

@description('Connector resource name.')
param name string

@description('Region (a connection and the workflows using it must be in the same region).')
param location string

@description('Tags.')
param tags object

@description('The function app\'s host name, e.g. myapp.azurewebsites.net.')
param hostName string

@description('The connector definition (infra/connector/apiDefinition.swagger.json, a group\'s, or infra/connector-oauth/...).')
param swagger object

@description('Connection parameters (properties.connectionParameters of the apiProperties.json next to the definition).')
param connectionParameters object

@description('Icon background colour.')
param brandColor string

@description('The connector\'s function key: the default of the internal x-functions-key header when the definition has one (anaplanOAuth); unused otherwise.')
@secure()
param functionKey string = ''

@description('anaplanOAuth: the Anaplan OAuth service base URL of the tenant\'s region (e.g. https://eu3.app.anaplan.com), put in place of the definition\'s placeholder host.')
param oAuthBaseUrl string = ''

@description('anaplanOAuth: the Anaplan OAuth client\'s id (authorization code grant).')
param oAuthClientId string = ''

@description('anaplanOAuth: the Anaplan OAuth client\'s secret.')
@secure()
param oAuthClientSecret string = ''

// The host the committed definitions name (Anaplan's global OAuth host; openapi.rs
// OAUTH_HOST_PLACEHOLDER), replaced by the region's.
var oAuthHostPlaceholder = 'https://us1a.app.anaplan.com'
var signsIn = contains(connectionParameters, 'token')
var security = signsIn ? json(replace(string(swagger.securityDefinitions), oAuthHostPlaceholder, oAuthBaseUrl)) : swagger.securityDefinitions
var keyParameters = contains(swagger.parameters, 'functionKey') ? union(swagger.parameters, {
  functionKey: union(swagger.parameters.functionKey, {
    default: functionKey
  })
}) : swagger.parameters
// The OAuth URLs on the region's host, the redirect URL of this region
// (https://logic-apis-<region>.consent.azure-apim.net/redirect), the client's id and secret.
var hosted = signsIn ? json(replace(replace(string(connectionParameters), oAuthHostPlaceholder, oAuthBaseUrl), '{region}', location)) : connectionParameters
var connection = signsIn ? union(hosted, {
  token: union(hosted.token, {
    oAuthSettings: union(hosted.token.oAuthSettings, {
      clientId: oAuthClientId
      clientSecret: oAuthClientSecret
    })
  })
}) : hosted

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
      securityDefinitions: security
      parameters: keyParameters
    })
    connectionParameters: connection
    capabilities: []
  }
}

output id string = api.id
output name string = api.name
