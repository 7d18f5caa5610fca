// The service on Azure Container Apps.
//
// Why Container Apps and not App Service: the image runs unchanged (python -m bot); HTTP scale
// rules scale on concurrent requests between minReplicas and maxReplicas; revisions roll out a
// new image without downtime and roll back in one command; liveness, readiness and startup
// probes map directly onto /healthz and /readyz; a user-assigned managed identity reads Cosmos
// DB, Blob Storage and Key Vault (secrets as Key Vault references) with no keys; billing is per
// second of vCPU and memory. App Service (a Linux container web app) would also work: it has
// one health-check path only and scales by instance-count rules.

param location string
param resourceBaseName string
param tags object

@description('Container image, e.g. myregistry.azurecr.io/videoberatung-bot:1.2.3.')
param containerImage string

@description('Registry login server the identity pulls from (AcrPull); empty for a public image.')
param registryServer string

@description('vCPU per replica (Consumption: 0.25 steps; memory must be 2 GiB per vCPU).')
param cpu string

@description('Memory per replica, e.g. 1Gi.')
param memory string

@minValue(1)
param minReplicas int

@minValue(1)
@maxValue(300)
param maxReplicas int

@description('Concurrent HTTP requests per replica before another replica is added.')
param httpConcurrency int

@description('Name of the Log Analytics workspace (from monitoring.bicep).')
param logAnalyticsWorkspaceName string

@description('Name of the Application Insights component (from monitoring.bicep).')
param appInsightsName string

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity (AZURE_CLIENT_ID, and the bot id with UserAssignedMSI).')
param identityClientId string

@description('Public host name clients and Teams use (empty: the app\'s own *.azurecontainerapps.io name). A custom name must be bound to the app separately (certificate).')
param publicHostName string

@description('Key Vault URI, ending in /.')
param keyVaultUri string

@description('Whether the Key Vault holds bot-app-password (SingleTenant bot).')
param useBotPassword bool

@description('Settings passed to the container as plain environment variables: [{ name, value }].')
param settings array

var appName = '${resourceBaseName}-app'
var targetPort = 8080

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource managedEnv 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${resourceBaseName}-env'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    // Zone redundancy needs a VNet-integrated environment (not part of this template).
    zoneRedundant: false
  }
}

// The app's own FQDN is known before the app exists: <app name>.<environment default domain>.
var defaultHost = '${appName}.${managedEnv.properties.defaultDomain}'
var host = empty(publicHostName) ? defaultHost : publicHostName

var baseKeyVaultSecrets = [
  {
    name: 'invitation-pepper'
    keyVaultUrl: '${keyVaultUri}secrets/invitation-pepper'
    identity: identityId
  }
  {
    name: 'techcheck-secret'
    keyVaultUrl: '${keyVaultUri}secrets/techcheck-secret'
    identity: identityId
  }
]
var botPasswordSecret = [
  {
    name: 'bot-app-password'
    keyVaultUrl: '${keyVaultUri}secrets/bot-app-password'
    identity: identityId
  }
]
var appInsightsSecret = [
  {
    // Not a Key Vault secret: the connection string only allows sending telemetry. It is still
    // kept out of the revision's plain environment list.
    name: 'appinsights-connection-string'
    value: appInsights.properties.ConnectionString
  }
]
var secrets = concat(baseKeyVaultSecrets, useBotPassword ? botPasswordSecret : [], appInsightsSecret)

var baseSecretEnv = [
  {
    name: 'INVITATION_PEPPER'
    secretRef: 'invitation-pepper'
  }
  {
    name: 'TECHCHECK_SECRET'
    secretRef: 'techcheck-secret'
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    secretRef: 'appinsights-connection-string'
  }
]
var botPasswordEnv = [
  {
    name: 'MicrosoftAppPassword'
    secretRef: 'bot-app-password'
  }
]
var secretEnv = concat(baseSecretEnv, useBotPassword ? botPasswordEnv : [])

var registry = [
  {
    server: registryServer
    identity: identityId
  }
]

var fixedEnv = [
  {
    name: 'HOST'
    value: '0.0.0.0'
  }
  {
    name: 'PORT'
    value: string(targetPort)
  }
  {
    name: 'BOT_PUBLIC_URL'
    value: 'https://${host}'
  }
  {
    // DefaultAzureCredential (Cosmos DB, Blob Storage, Graph) picks the user-assigned identity.
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    // One JSON object per line with trace and span ids (Log Analytics: ContainerAppConsoleLogs).
    name: 'LOG_FORMAT'
    value: 'json'
  }
  {
    // SIGTERM: draining may take this long; with the clean-up after it (telemetry flush at
    // most 5 s) it stays below terminationGracePeriodSeconds (30).
    name: 'SHUTDOWN_GRACE_SECONDS'
    value: '15'
  }
  {
    // The distro's own usage statistics go to a Microsoft endpoint, not to this resource.
    name: 'APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL'
    value: 'true'
  }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: managedEnv.id
    configuration: {
      activeRevisionsMode: 'Single'
      maxInactiveRevisions: 5
      ingress: {
        external: true
        targetPort: targetPort
        transport: 'http'
        allowInsecure: false
        clientCertificateMode: 'ignore'
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: empty(registryServer) ? [] : registry
      secrets: secrets
    }
    template: {
      // SIGTERM → the service answers /readyz 503 and finishes its turns; 30 s is the ceiling.
      terminationGracePeriodSeconds: 30
      containers: [
        {
          name: 'bot'
          image: containerImage
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat(fixedEnv, settings, secretEnv)
          probes: [
            {
              // Until the process listens. It opens its storage first and exits (code 3) when
              // that fails, so a slow start is Cosmos DB answering slowly: allow 2 minutes
              // (Container Apps allows at most 10 failures and 240 s between probes).
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: targetPort
                scheme: 'HTTP'
              }
              initialDelaySeconds: 2
              periodSeconds: 12
              timeoutSeconds: 3
              failureThreshold: 10
            }
            {
              // The process is alive. Stays 200 while storage is down: a restart would not help.
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: targetPort
                scheme: 'HTTP'
              }
              periodSeconds: 10
              timeoutSeconds: 3
              failureThreshold: 3
            }
            {
              // Storage answers; 503 while shutting down → taken out of rotation.
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: targetPort
                scheme: 'HTTP'
              }
              periodSeconds: 5
              timeoutSeconds: 3
              failureThreshold: 3
              successThreshold: 1
            }
          ]
        }
      ]
      scale: {
        // At least 2: a restart or a zone hiccup never leaves Teams without an answer, and the
        // service is built for several instances (eTag-guarded state, leased reminders).
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(httpConcurrency)
              }
            }
          }
        ]
      }
    }
  }
}

output appName string = app.name
output appId string = app.id
output environmentName string = managedEnv.name
output defaultHost string = defaultHost
output host string = host
output latestRevisionFqdn string = app.properties.configuration.ingress.fqdn
