//! Where the Anaplan credentials come from: Azure Key Vault, read with the app's managed
//! identity (in Azure) or the developer's Azure CLI / azd login (locally), with the blob
//! lease that serialises refresh-token rotation across scaled-out instances; or the
//! environment, with a token file. These implement the Anaplan client's `SecretSource` and
//! `ChainLock`, which know neither Azure nor the settings' names.

pub mod env;
pub mod lease;
pub mod vault;

use std::sync::Arc;

use azure_core::credentials::TokenCredential;

/// The credential for Azure services: the managed identity when the platform provides one
/// (`IDENTITY_ENDPOINT`, set by App Service / Functions), else the developer's Azure CLI or
/// azd login.
pub fn azure_credential() -> Result<Arc<dyn TokenCredential>, String> {
    if std::env::var_os("IDENTITY_ENDPOINT").is_some() {
        let c = azure_identity::ManagedIdentityCredential::new(None).map_err(|e| format!("managed identity: {e}"))?;
        Ok(c)
    } else {
        let c = azure_identity::DeveloperToolsCredential::new(None)
            .map_err(|e| format!("developer credentials (az login / azd auth login): {e}"))?;
        Ok(c)
    }
}
