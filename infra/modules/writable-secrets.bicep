// The two secrets the app writes, created empty the first time only.
//
// Why they are created here at all: the app may *write* exactly these two secrets (a
// rotating Anaplan client spends the refresh token at each refresh, so the new one must be
// saved; the current access token is shared by all instances). roles.bicep grants Key
// Vault Secrets Officer on each of them alone, not on the vault, and a role assignment can
// only be scoped to a secret that exists. So they must exist before the first
// `anaplan-functions auth login` stores a real token.
//
// Why @onlyIfNotExists(): a later deployment must never overwrite the token chain the app
// has been rotating (that would strand it with a spent refresh token). With the decorator,
// Resource Manager creates each secret only when no secret of that name exists and leaves
// an existing one, value and versions, untouched. Needs Bicep CLI 0.38.3 or newer (azd
// ships a newer one; `az bicep upgrade` updates the Azure CLI's).
//
// The value is empty: the app treats an empty secret as not set (the same as a missing
// one), so until `auth login` runs it reports a missing refresh token, naming it.
//
// checkov 3.3 parses Bicep with pycep 0.5, which does not know this decorator, so
// scripts/check-infra.sh scans a copy of infra/ with the `@onlyIfNotExists()` lines
// removed (the decorator changes when a resource is created, not what it is).

@description('Name of the existing Key Vault.')
param vaultName string

@description('Tags for the secrets.')
param tags object

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

@onlyIfNotExists()
resource refreshToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41:Deployments create this secret once, empty, and never touch it again; its real versions are written by auth login and the app as tokens rotate (Anaplan tokens carry their own expiry), so an expiry date here would only mark the empty first version.
  parent: vault
  name: 'anaplan-refresh-token'
  tags: union(tags, {
    'anaplan-functions': 'created empty by the deployment; set by auth login'
  })
  properties: {
    value: ''
    contentType: 'text/plain'
  }
}

@onlyIfNotExists()
resource accessToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41:As for anaplan-refresh-token: deployments create this secret once, empty, and never touch it again; its real versions are written by auth login and the app as tokens rotate (Anaplan tokens carry their own expiry), so an expiry date here would only mark the empty first version.
  parent: vault
  name: 'anaplan-access-token'
  tags: union(tags, {
    'anaplan-functions': 'created empty by the deployment; written by the app'
  })
  properties: {
    value: ''
    contentType: 'application/json'
  }
}

output refreshTokenSecretName string = refreshToken.name
output accessTokenSecretName string = accessToken.name
