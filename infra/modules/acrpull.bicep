// AcrPull for the service's identity on an existing Azure Container Registry, so that the
// container app's first revision can pull its image (the identity is created in the same
// deployment). Deployed into the registry's resource group.

@description('Name of the registry (not its login server).')
param registryName string

@description('Principal (object) id of the user-assigned identity.')
param principalId string

// Built-in role "AcrPull"
var acrPullRoleId = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d')

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, principalId, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: acrPullRoleId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
