// Azure Cosmos DB for NoSQL, serverless, Entra ID only. Layout as bot/storage/cosmos.py expects:
// database COSMOS_DATABASE with the containers "state" and "records", both partitioned by /pk,
// TTL switched on with defaultTtl -1 (an item expires only when it carries its own "ttl").
// The service runs with COSMOS_CREATE_IF_MISSING=false, so everything is created here.

param location string
param resourceBaseName string
param tags object

@description('Database name (COSMOS_DATABASE).')
param databaseName string

@description('Enabled or Disabled. Disabled needs a private endpoint (not part of this template).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Continuous backup tier (point-in-time restore window).')
@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param backupTier string

@description('Object (principal) id of the managed identity that gets data-plane access.')
param principalId string

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  // checkov:skip=CKV_AZURE_101: publicNetworkAccess is a parameter (default Enabled) because this template has no VNet or private endpoint and Container Apps has no fixed egress address to allow-list. Access is Entra ID only (disableLocalAuth) over TLS 1.2. Private endpoint + Disabled is the recorded next step (docs/deploy.md).
  name: '${resourceBaseName}-cosmos'
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    // Serverless: pay per request; a job centre's load is small and bursty. Serverless is
    // single-region by design.
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    // Entra ID only: no account keys for data (the service signs in with DefaultAzureCredential),
    // and no metadata writes (databases, containers) with keys either.
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
    networkAclBypass: 'None'
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
    enableFreeTier: false
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: backupTier
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

// Both containers as bot/storage/cosmos.py creates them when COSMOS_CREATE_IF_MISSING=true:
// PartitionKey(path="/pk"), default_ttl=-1, default (consistent, all paths) indexing. The queries
// filter on pk, kind and expiresAt; the default policy indexes those.
var containerNames = [
  'state'
  'records'
]

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for name in containerNames: {
    parent: database
    name: name
    properties: {
      resource: {
        id: name
        partitionKey: {
          paths: [
            '/pk'
          ]
          kind: 'Hash'
          version: 2
        }
        defaultTtl: -1
        indexingPolicy: {
          indexingMode: 'consistent'
          automatic: true
          includedPaths: [
            {
              path: '/*'
            }
          ]
          excludedPaths: [
            {
              path: '/"_etag"/?'
            }
          ]
        }
      }
    }
  }
]

// A custom data-plane role with exactly what the service does (bot/storage/cosmos.py):
//   readMetadata          opening the database and containers, the "is it missing?" check
//   items/read            point reads
//   items/create          create (records keyed on the card answered; 409 = "exists")
//   items/replace         eTag-guarded replaces, extend_expiry
//   items/upsert          put
//   items/delete          delete, and purge_expired. Delete is needed for consent events too:
//                         a consent event is never rewritten, but when its retention period
//                         (RETENTION_CONSENT_DAYS) has run out the purge deletes it, like every
//                         other expired record (Art. 5(1)(e) GDPR). Cosmos DB's own TTL removal
//                         needs no data-plane right.
//   executeQuery          list_partition, reports, the purge's query
// Not granted: container/database create or delete (COSMOS_CREATE_IF_MISSING=false), change
// feed, stored procedures, throughput. The built-in "Cosmos DB Built-in Data Contributor"
// (00000000-0000-0000-0000-000000000002) would also work but allows containers/* operations.
resource dataRole 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2024-11-15' = {
  parent: account
  name: guid(account.id, 'videoberatung-data-role')
  properties: {
    roleName: 'Videoberatung-Bot data access'
    type: 'CustomRole'
    assignableScopes: [
      account.id
    ]
    permissions: [
      {
        dataActions: [
          'Microsoft.DocumentDB/databaseAccounts/readMetadata'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/replace'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/upsert'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/delete'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery'
        ]
      }
    ]
  }
}

// Scoped to the database, not the whole account.
resource dataRoleAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, principalId, dataRole.id)
  properties: {
    roleDefinitionId: dataRole.id
    principalId: principalId
    scope: '${account.id}/dbs/${databaseName}'
  }
  dependsOn: [
    database
  ]
}

output accountName string = account.name
output accountId string = account.id
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
