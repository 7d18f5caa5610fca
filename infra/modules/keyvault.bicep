// Key Vault for the service's secrets (INVITATION_PEPPER, TECHCHECK_SECRET and, for a
// single-tenant bot, MicrosoftAppPassword). RBAC authorisation, soft delete, purge protection.
// Container Apps reads the secrets through Key Vault references with the managed identity.

param location string
param resourceBaseName string
param tenantId string
param tags object

@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Object (principal) id of the managed identity that reads the secrets.')
param principalId string

@secure()
@description('INVITATION_PEPPER (≥ 16 characters). Empty: keep the secret already in the vault.')
param invitationPepper string

@secure()
@description('TECHCHECK_SECRET (≥ 16 characters). Empty: keep the secret already in the vault.')
param techcheckSecret string

@secure()
@description('Client secret of a single-tenant bot app registration. Empty: keep / not used.')
param botAppPassword string

@description('Unix time after which the secrets count as due for rotation (Key Vault still serves an expired secret; the date is a reminder, see docs/deploy.md).')
param secretsExpireAt int

// Key Vault Secrets User
var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: The firewall stays open (defaultAction Allow) because Container Apps reads Key Vault references from addresses this template cannot name and is not a trusted Microsoft service; access is RBAC only (Key Vault Secrets User for the app identity). Private endpoint is the recorded next step.
  // checkov:skip=CKV_AZURE_189: Same reason as CKV_AZURE_109: without a VNet/private endpoint, disabling public network access would stop the app from reading its secrets.
  name: '${resourceBaseName}-kv'
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// A secret is written only when a value is given, so that a later provision without the
// SECRET_ values (or after a rotation done with `az keyvault secret set`) keeps what is there.
var secretValues = [
  {
    name: 'invitation-pepper'
    value: invitationPepper
    contentType: 'text/plain; INVITATION_PEPPER'
  }
  {
    name: 'techcheck-secret'
    value: techcheckSecret
    contentType: 'text/plain; TECHCHECK_SECRET'
  }
  {
    name: 'bot-app-password'
    value: botAppPassword
    contentType: 'text/plain; MicrosoftAppPassword'
  }
]

module secrets 'keyvault-secret.bicep' = [
  for secret in secretValues: if (!empty(secret.value)) {
    name: 'kv-secret-${secret.name}'
    params: {
      vaultName: vault.name
      secretName: secret.name
      value: secret.value
      contentType: secret.contentType
      expiresAt: secretsExpireAt
    }
  }
]

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output vaultName string = vault.name
output vaultUri string = vault.properties.vaultUri
// The role assignment's id, so that the app (which reads the secrets while it is created)
// can depend on it.
output secretsUserAssignmentId string = secretsUser.id
