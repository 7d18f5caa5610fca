// Log Analytics workspace (Container Apps logs) and a workspace-based Application Insights.

@description('Azure region.')
param location string

@description('Name prefix for the resources.')
param resourceBaseName string

@description('Days Log Analytics keeps logs (30 is the free retention).')
@minValue(30)
@maxValue(730)
param retentionDays int

param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${resourceBaseName}-logs'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

// Local auth stays ENABLED on purpose: the service (azure-monitor-opentelemetry, when it is
// added) sends telemetry with the connection string alone. DisableLocalAuth: true would reject
// that ingestion unless the exporter is also given an Entra credential (the managed identity)
// and the identity the "Monitoring Metrics Publisher" role on this component. Switch both
// together, never only this flag.
resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${resourceBaseName}-appi'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: false
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

output workspaceId string = workspace.id
output workspaceName string = workspace.name
output appInsightsName string = appInsights.name
