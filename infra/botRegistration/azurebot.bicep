// Registers the service as an Azure Bot and connects it to Microsoft Teams (the layout of the
// Agents Toolkit's own infra/botRegistration/azurebot.bicep).

@maxLength(42)
param botDisplayName string

param botServiceName string

@allowed([
  'F0'
  'S1'
])
@description('F0 is free (Teams is a standard channel and free on S1, too); S1 lifts the premium-channel message limits.')
param botServiceSku string

@allowed([
  'UserAssignedMSI'
  'SingleTenant'
])
param botAppType string

@description('Client id of the bot identity: the managed identity (UserAssignedMSI) or the app registration (SingleTenant).')
param botAppId string

@description('Tenant of the bot identity.')
param botAppTenantId string

@description('Resource id of the user-assigned identity (UserAssignedMSI only).')
param identityResourceId string

@description('Public host name of the service (no scheme).')
param botAppDomain string

param tags object

var baseProperties = {
  displayName: botDisplayName
  endpoint: 'https://${botAppDomain}/api/messages'
  msaAppId: botAppId
  msaAppTenantId: botAppTenantId
  msaAppType: botAppType
  // No Direct Line / Web Chat secrets: only Entra-authenticated channels (Teams).
  disableLocalAuth: true
  publicNetworkAccess: 'Enabled'
}

var botProperties = union(baseProperties, botAppType == 'UserAssignedMSI' ? { msaAppMSIResourceId: identityResourceId } : {})

resource botService 'Microsoft.BotService/botServices@2022-09-15' = {
  name: botServiceName
  // Bot Service's registration is global; the conversation data stays with Teams and the app.
  location: 'global'
  kind: 'azurebot'
  tags: tags
  sku: {
    name: botServiceSku
  }
  properties: botProperties
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: botService
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
      enableCalling: false
      // Teams' app validation reports "Invalid Bot" when the channel's terms are not accepted.
      acceptedTerms: true
    }
  }
}

output botServiceName string = botService.name
output botEndpoint string = 'https://${botAppDomain}/api/messages'
