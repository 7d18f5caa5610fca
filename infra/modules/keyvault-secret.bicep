// One Key Vault secret. A module of its own so that keyvault.bicep can write a secret only when
// a value is given (module-level condition) and keep the existing one otherwise.

param vaultName string
param secretName string

@secure()
param value string

@description('What the secret is (shown in the portal), e.g. the setting it feeds.')
param contentType string

@description('Unix time after which the secret counts as due for rotation.')
param expiresAt int

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: {
    value: value
    contentType: contentType
    attributes: {
      enabled: true
      // Key Vault keeps serving a secret after exp ("get" works outside the nbf/exp window);
      // the date only marks it as due for rotation (Azure Policy / Defender report it).
      exp: expiresAt
    }
  }
}
