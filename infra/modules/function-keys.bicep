// One connector's function key on each of its functions: a key of the same name and value on
// every function of its group (never a host key, which would open every function), so a key
// handed to one connector's users opens exactly that connector's operations.
//
// A function exists only once the code is deployed (the host answers 404 for a key of an
// unknown function), so this runs after the code deployment: connector-keys.bicep, from the
// azd postdeploy hook or by hand (README, "Per-user sign-in").

@description('The function app.')
param appName string

@description('The key\'s name, e.g. connector-users.')
param keyName string

@description('The key\'s value (from the vault).')
@secure()
param keyValue string

@description('The connector definition\'s paths object: each key (/get-view-data, ...) names one function.')
param paths object

// Microsoft.Web/sites/functions/keys takes its name and value under properties (what the
// Azure CLI's `az functionapp function keys set` sends).
resource keys 'Microsoft.Web/sites/functions/keys@2024-04-01' = [for path in items(paths): {
  name: '${appName}/${substring(path.key, 1)}/${keyName}'
  properties: {
    name: keyName
    value: keyValue
  }
}]

@description('The functions that got the key.')
output functions array = [for path in items(paths): substring(path.key, 1)]
