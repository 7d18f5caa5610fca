// Videoberatung-Bot on Azure: the main template the Microsoft 365 Agents Toolkit deploys
// (m365agents.yml → arm/deploy with azure.parameters.json), or by hand:
//   az deployment group create -g <rg> -f infra/azure.bicep -p infra/azure.parameters.json …
// See docs/deploy.md for what each resource is and the manual steps that remain.
//
// Resources: a user-assigned managed identity (the bot's own identity and the service's
// credential for Cosmos DB, Blob Storage, Key Vault and Graph), Log Analytics + Application
// Insights, Cosmos DB (serverless, Entra only), a storage account for consent forms, Key Vault,
// a Container Apps environment + app, and the Azure Bot with the Teams channel.

targetScope = 'resourceGroup'

// --- Naming and placement ---------------------------------------------------------------------

@minLength(4)
@maxLength(16)
@description('Lower-case letters and digits; prefixes every resource name (the storage account name drops hyphens and must be globally unique).')
param resourceBaseName string

@description('Region for every regional resource. germanywestcentral keeps the data in Germany.')
param location string = 'germanywestcentral'

@description('Entra tenant of the job centre (bot identity, counsellors, Graph).')
param tenantId string = subscription().tenantId

param tags object = {
  application: 'videoberatung-bot'
}

// --- Bot ------------------------------------------------------------------------------------------

@maxLength(42)
param botDisplayName string = 'Videoberatung'

@allowed([
  'F0'
  'S1'
])
param botServiceSku string = 'F0'

@allowed([
  'UserAssignedMSI'
  'SingleTenant'
])
@description('UserAssignedMSI: the managed identity is the bot (no secret). SingleTenant: an app registration of the job centre\'s tenant, with botAppId and botAppPassword.')
param botAppType string = 'UserAssignedMSI'

@description('Client id of the single-tenant app registration (SingleTenant only).')
param botAppId string = ''

@secure()
@description('Client secret of that app registration (SingleTenant only; stored in Key Vault).')
param botAppPassword string = ''

// --- Container --------------------------------------------------------------------------------

@description('Image to run, e.g. <registry>.azurecr.io/videoberatung-bot:<tag>. It must exist before provisioning.')
param containerImage string

@description('Registry login server the managed identity pulls from (grant it AcrPull there); empty for a public image.')
param registryServer string = ''

@description('Name of an Azure Container Registry to grant the identity AcrPull on (empty: grant it yourself, or use a public image).')
param registryName string = ''

@description('Resource group of that registry (default: this one).')
param registryResourceGroup string = resourceGroup().name

param containerCpu string = '0.5'
param containerMemory string = '1Gi'

@minValue(1)
param minReplicas int = 2

@minValue(1)
@maxValue(300)
param maxReplicas int = 10

@description('Concurrent requests per replica before scaling out. The service does ~270 turns/s on 2 cores; 0.5 vCPU handles far more than 30 concurrent Teams turns.')
param httpConcurrency int = 30

@description('Public host name if a custom domain is bound to the app (manual step); empty: the app\'s *.azurecontainerapps.io name.')
param publicHostName string = ''

// --- Data -----------------------------------------------------------------------------------------

@allowed([
  'Enabled'
  'Disabled'
])
@description('Public network access to Cosmos DB. Disabled needs a private endpoint and VNet integration (not in this template).')
param cosmosPublicNetworkAccess string = 'Enabled'

@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param cosmosBackupTier string = 'Continuous30Days'

@allowed([
  'Standard_ZRS'
  'Standard_GZRS'
])
@description('GZRS copies to the paired region (Germany North for germanywestcentral: still Germany).')
param storageSku string = 'Standard_GZRS'

@minValue(0)
@maxValue(365)
@description('Soft delete for consent-form blobs, in days (0 = off).')
param blobSoftDeleteDays int = 7

@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

// --- Service settings (names as in .env.example) ----------------------------------------------

@minValue(1)
param retentionProfileDays int = 180
@minValue(1)
param retentionHandoffDays int = 180
@minValue(1)
param retentionFormDays int = 30
@minValue(1)
param retentionConsentDays int = 1095

@description('Lifecycle backstop for consent forms, in days after upload: at least the longest time a form may legitimately be kept (RETENTION_HANDOFF_DAYS, plus RETENTION_FORM_DAYS after a late decision).')
param consentFormBackstopDays int = retentionHandoffDays + retentionFormDays

@description('COUNSELLOR_TENANT_IDS (comma-separated); default: this tenant.')
param counsellorTenantIds string = tenantId
param counsellorObjectIds string = ''
param counsellorGroupIds string = ''
param counsellorQueueIds string = ''
param statsObjectIds string = ''
param statsGroupIds string = ''

param jobcenterName string = 'Jobcenter'
param jobcenterPhone string = ''
param jobcenterAddress string = ''
param privacyUrl string = 'https://www.arbeitsagentur.de/datenschutz'
param dataProtectionContact string = ''

@description('ATTACHMENT_DOWNLOAD_HOSTS: narrow to the tenant\'s OneDrive, e.g. contoso-my.sharepoint.com.')
param attachmentDownloadHosts string = '.sharepoint.com'

@description('Meetings through Microsoft Graph with the managed identity (GRAPH_USE_MANAGED_IDENTITY). Set true once the identity has its Graph app roles and the Teams application access policy (docs/deploy.md); false: MEETING_LINKS / MEETING_DEFAULT_LINK.')
param useGraph bool = false
param meetingLinks string = ''
param meetingDefaultLink string = ''

// --- Secrets (Key Vault) --------------------------------------------------------------------------

@secure()
@description('INVITATION_PEPPER; empty keeps the secret already in Key Vault (the first provision needs it).')
param invitationPepper string = ''

@secure()
@description('TECHCHECK_SECRET; empty keeps the secret already in Key Vault (the first provision needs it).')
param techcheckSecret string = ''

@description('Secrets count as due for rotation after this Unix time (default: one year after this deployment).')
param secretsExpireAt int = dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))

// --- Resources ----------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${resourceBaseName}-id'
  location: location
  tags: tags
}

var isMsi = botAppType == 'UserAssignedMSI'
var effectiveBotAppId = isMsi ? identity.properties.clientId : botAppId

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    resourceBaseName: resourceBaseName
    retentionDays: logRetentionDays
    tags: tags
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    location: location
    resourceBaseName: resourceBaseName
    tags: tags
    databaseName: 'videoberatung'
    publicNetworkAccess: cosmosPublicNetworkAccess
    backupTier: cosmosBackupTier
    principalId: identity.properties.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    resourceBaseName: resourceBaseName
    tags: tags
    containerName: 'consent-forms'
    deleteAfterDays: consentFormBackstopDays
    softDeleteDays: blobSoftDeleteDays
    skuName: storageSku
    publicNetworkAccess: 'Enabled'
    principalId: identity.properties.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    resourceBaseName: resourceBaseName
    tenantId: tenantId
    tags: tags
    publicNetworkAccess: 'Enabled'
    principalId: identity.properties.principalId
    invitationPepper: invitationPepper
    techcheckSecret: techcheckSecret
    botAppPassword: isMsi ? '' : botAppPassword
    secretsExpireAt: secretsExpireAt
  }
}

var graphSettingsList = [
  { name: 'GRAPH_TENANT_ID', value: tenantId }
  { name: 'GRAPH_CLIENT_ID', value: identity.properties.clientId }
  // No GRAPH_CLIENT_SECRET: Graph tokens come from the managed identity.
  { name: 'GRAPH_USE_MANAGED_IDENTITY', value: 'true' }
]
var graphSettings = useGraph ? graphSettingsList : []

var serviceSettings = [
  { name: 'MicrosoftAppId', value: effectiveBotAppId }
  { name: 'MicrosoftAppType', value: botAppType }
  { name: 'MicrosoftAppTenantId', value: tenantId }
  { name: 'BOT_STORAGE', value: 'cosmos://' }
  { name: 'COSMOS_ENDPOINT', value: cosmos.outputs.endpoint }
  { name: 'COSMOS_DATABASE', value: cosmos.outputs.databaseName }
  { name: 'COSMOS_CREATE_IF_MISSING', value: 'false' }
  { name: 'BLOB_ACCOUNT_URL', value: 'https://${storage.outputs.accountName}.blob.${environment().suffixes.storage}' }
  { name: 'BLOB_CONTAINER', value: storage.outputs.containerName }
  { name: 'ATTACHMENT_DOWNLOAD_HOSTS', value: attachmentDownloadHosts }
  { name: 'RETENTION_PROFILE_DAYS', value: string(retentionProfileDays) }
  { name: 'RETENTION_HANDOFF_DAYS', value: string(retentionHandoffDays) }
  { name: 'RETENTION_FORM_DAYS', value: string(retentionFormDays) }
  { name: 'RETENTION_CONSENT_DAYS', value: string(retentionConsentDays) }
  { name: 'COUNSELLOR_TENANT_IDS', value: counsellorTenantIds }
  { name: 'COUNSELLOR_OBJECT_IDS', value: counsellorObjectIds }
  { name: 'COUNSELLOR_GROUP_IDS', value: counsellorGroupIds }
  { name: 'COUNSELLOR_QUEUE_IDS', value: counsellorQueueIds }
  { name: 'STATS_OBJECT_IDS', value: statsObjectIds }
  { name: 'STATS_GROUP_IDS', value: statsGroupIds }
  { name: 'MEETING_LINKS', value: meetingLinks }
  { name: 'MEETING_DEFAULT_LINK', value: meetingDefaultLink }
  { name: 'JOBCENTER_NAME', value: jobcenterName }
  { name: 'JOBCENTER_PHONE', value: jobcenterPhone }
  { name: 'JOBCENTER_ADDRESS', value: jobcenterAddress }
  { name: 'PRIVACY_URL', value: privacyUrl }
  { name: 'DATA_PROTECTION_CONTACT', value: dataProtectionContact }
]

module acrPull 'modules/acrpull.bicep' = if (!empty(registryName)) {
  name: 'acr-pull'
  scope: resourceGroup(registryResourceGroup)
  params: {
    registryName: registryName
    principalId: identity.properties.principalId
  }
}

module app 'modules/containerapp.bicep' = {
  name: 'containerapp'
  params: {
    location: location
    resourceBaseName: resourceBaseName
    tags: tags
    containerImage: containerImage
    registryServer: registryServer
    cpu: containerCpu
    memory: containerMemory
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    httpConcurrency: httpConcurrency
    logAnalyticsWorkspaceName: monitoring.outputs.workspaceName
    appInsightsName: monitoring.outputs.appInsightsName
    identityId: identity.id
    identityClientId: identity.properties.clientId
    publicHostName: publicHostName
    // Using the vault's outputs also orders the app after the Key Vault role assignment:
    // creating a revision reads the secrets with the identity.
    keyVaultUri: keyVault.outputs.vaultUri
    useBotPassword: !isMsi
    settings: concat(serviceSettings, graphSettings)
  }
  dependsOn: [
    // The first revision must be able to pull its image and read and write its data.
    acrPull
    cosmos
    storage
  ]
}

module bot 'botRegistration/azurebot.bicep' = {
  name: 'azure-bot-registration'
  params: {
    botDisplayName: botDisplayName
    botServiceName: '${resourceBaseName}-bot'
    botServiceSku: botServiceSku
    botAppType: botAppType
    botAppId: effectiveBotAppId
    botAppTenantId: tenantId
    identityResourceId: identity.id
    botAppDomain: app.outputs.host
    tags: tags
  }
}

// --- Outputs: arm/deploy writes each into env/.env.<env> under its (upper-cased) name -------------

output BOT_ID string = effectiveBotAppId
// manifest/build.py uses one GUID for the Teams app id and the bot id; teamsApp/create (which
// runs after arm/deploy in m365agents.yml) creates the app under TEAMS_APP_ID when it is set.
output TEAMS_APP_ID string = effectiveBotAppId
output BOT_TENANT_ID string = tenantId
output BOT_DOMAIN string = app.outputs.host
output BOT_ENDPOINT string = 'https://${app.outputs.host}'
output BOT_PUBLIC_URL string = 'https://${app.outputs.host}'
output BOT_SERVICE_NAME string = bot.outputs.botServiceName
output AZURE_CONTAINER_APP_NAME string = app.outputs.appName
output AZURE_CONTAINER_APP_RESOURCE_ID string = app.outputs.appId
output AZURE_CONTAINER_APP_DEFAULT_HOST string = app.outputs.defaultHost
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = app.outputs.environmentName
output AZURE_IDENTITY_RESOURCE_ID string = identity.id
output AZURE_IDENTITY_CLIENT_ID string = identity.properties.clientId
output AZURE_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output AZURE_COSMOS_ACCOUNT_NAME string = cosmos.outputs.accountName
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.accountName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.vaultName
output AZURE_KEY_VAULT_URI string = keyVault.outputs.vaultUri
output AZURE_LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.workspaceId
