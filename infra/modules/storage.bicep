// Storage account for photos/scans of signed consent forms (BLOB_ACCOUNT_URL, BLOB_CONTAINER).
// Entra ID only (no shared keys, no SAS), private container, and a lifecycle rule that deletes
// what the service's own deletion should already have deleted (a backstop, never the plan).

param location string
param resourceBaseName string
param tags object

@description('Blob container for consent forms (BLOB_CONTAINER).')
param containerName string

@description('Days after upload after which the lifecycle rule deletes a consent form (backstop).')
@minValue(1)
param deleteAfterDays int

@description('Days a deleted blob stays recoverable (soft delete); 0 switches soft delete off.')
@minValue(0)
@maxValue(365)
param softDeleteDays int

@allowed([
  'Standard_ZRS'
  'Standard_GZRS'
])
@description('GZRS: three zones in the region plus a copy in the paired region (Germany West Central pairs with Germany North, so the data stays in Germany; check the pair before choosing another region). ZRS: the region only.')
param skuName string = 'Standard_GZRS'

@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Object (principal) id of the managed identity that reads and writes the forms.')
param principalId string

// Storage Blob Data Contributor
var blobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: defaultAction Allow because the app reaches the account over the public endpoint (no VNet/private endpoint in this template, no fixed egress IP). Shared keys and SAS are off (allowSharedKeyAccess false), so every request needs an Entra token with a role on the container. Private endpoint is the recorded next step.
  // checkov:skip=CKV_AZURE_43: False positive: checkov cannot evaluate the name expression. The name is resourceBaseName (4-16 lower-case letters/digits, enforced by the parameter decorators) + 'forms', i.e. 9-21 characters of [a-z0-9]; tests/unit/test_infra.py checks the composition.
  name: toLower(replace('${resourceBaseName}forms', '-', ''))
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowedCopyScope: 'AAD'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    isLocalUserEnabled: false
    isSftpEnabled: false
    isHnsEnabled: false
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Versioning stays OFF: with versioning a delete keeps the old version, so "Meine Daten
    // löschen" and the retention purge would not erase the form. Soft delete keeps a deleted
    // form recoverable for softDeleteDays only (state it in the deletion concept).
    isVersioningEnabled: false
    deleteRetentionPolicy: {
      enabled: softDeleteDays > 0
      days: softDeleteDays > 0 ? softDeleteDays : null
    }
    containerDeleteRetentionPolicy: {
      enabled: softDeleteDays > 0
      days: softDeleteDays > 0 ? softDeleteDays : null
    }
  }
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-consent-forms-backstop'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${containerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: deleteAfterDays
                }
              }
              snapshot: {
                delete: {
                  daysAfterCreationGreaterThan: deleteAfterDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    container
  ]
}

// Scoped to the one container. The service also calls create_container() at start (409 =
// exists, ignored); that is containers/write on this same container, which the role includes.
resource blobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, principalId, blobDataContributorRoleId)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output accountName string = account.name
output accountId string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output containerName string = container.name
