# Windows twin of scripts/connector-keys.sh (azd postdeploy hook): sets each custom connector's
# function key on its functions with infra/connector-keys.bicep, after the code deployment.
$ErrorActionPreference = 'Stop'
$health = if ($env:ANAPLAN_HEALTH_TEST -eq 'true') { 'true' } else { 'false' }
$connectors = if ($env:ANAPLAN_DEPLOYED_CONNECTORS) { $env:ANAPLAN_DEPLOYED_CONNECTORS } else { 'none' }
if ($connectors -eq 'none' -and $health -ne 'true') {
    Write-Output 'connector-keys: no custom connector and no availability test deployed; nothing to do'
    exit 0
}
Set-Location (Join-Path $PSScriptRoot '..')
for ($attempt = 1; $attempt -le 5; $attempt++) {
    az deployment group create --only-show-errors -o none `
        -g $env:AZURE_RESOURCE_GROUP -n connector-keys -f infra/connector-keys.bicep `
        -p appName=$env:ANAPLAN_FUNCTION_APP vaultName=$env:ANAPLAN_KEY_VAULT `
        connectors=$connectors healthTest=$health
    if ($LASTEXITCODE -eq 0) {
        Write-Output "connector-keys: each connector's function key is set on its functions"
        exit 0
    }
    if ($attempt -lt 5) {
        Write-Output "connector-keys: retrying in 30 s (attempt $($attempt + 1) of 5)"
        Start-Sleep -Seconds 30
    }
}
Write-Error 'connector-keys: failed; run scripts/connector-keys.ps1 again once the app lists its functions'
exit 1
