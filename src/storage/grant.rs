//! SAS tokens this app hands to someone else: CloudWorks' Azure Blob connections read and
//! write one container of a storage account with a SAS that must stay valid for every run.
//! Each grant carries exactly what CloudWorks needs: the Blob service, read, write and list.
//!
//! - With the app's managed identity (Azure): a USER DELEGATION SAS for the container
//!   (`sr=c`), signed with a user delegation key from Get User Delegation Key on that
//!   account; the identity needs Storage Blob Delegator on the account and a data role on
//!   the container. A user delegation SAS cannot name resource types; CloudWorks asks for
//!   service+container+object, which only an account SAS has (see the README: unverified
//!   whether CloudWorks accepts a container-scoped SAS).
//! - With an account key (locally, Azurite): an ACCOUNT SAS with services `b`, resource
//!   types `sco` and permissions `rwl`, for that key's account only.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::ClientOptions;
use azure_core::time::{Duration, OffsetDateTime};
use azure_storage_blob::models::KeyInfo;
use azure_storage_blob::{BlobServiceClient, BlobServiceClientOptions};
use url::Url;

use super::names::ContainerName;
use super::sas::{sas_time, sign};
use super::{BlobAccount, StorageError};
use anaplan::secret::Secret;

/// Read, write, list: what CloudWorks needs, in the order the service requires.
pub const CLOUDWORKS_PERMISSIONS: &str = "rwl";
/// The service version user delegation SASs are signed for (its string-to-sign below).
const USER_DELEGATION_VERSION: &str = "2020-12-06";

/// A SAS made for someone else, and when it expires.
#[derive(Debug)]
pub struct Grant {
    /// The SAS query string (no leading `?`).
    pub sas: Secret,
    /// When it expires, as `2026-04-06T12:00:00Z`.
    pub expires: String,
    /// `user delegation SAS` or `account SAS`, for logs.
    pub kind: &'static str,
}

/// A storage account name: 3 to 24 lowercase letters and digits (Azure's rule), so it
/// can go into a host name.
fn account_name(s: &str) -> Result<&str, StorageError> {
    if (3..=24).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(StorageError::InvalidName(format!(
            "{s:?} is not a storage account name (3-24 lowercase letters and digits)"
        )))
    }
}

/// The blob endpoint of `account` beside `app`'s: the same suffix with another first
/// label (`https://other.blob.core.windows.net/` from `https://app.blob.core.windows.net/`).
fn sibling_endpoint(app: &Url, account: &str) -> Result<Url, StorageError> {
    let host = app.host_str().unwrap_or_default();
    let Some((_, suffix)) = host.split_once('.') else {
        return Err(StorageError::Other(format!("cannot derive the endpoint of {account} from {host}")));
    };
    Url::parse(&format!("https://{account}.{suffix}/")).map_err(|e| StorageError::Other(e.to_string()))
}

/// A SAS for CloudWorks on `container` of `account`, valid for `lifetime`, signed the way
/// the app's own storage account is used (see the module docs).
pub async fn cloudworks_grant(
    app: &BlobAccount,
    account: &str,
    container: &str,
    lifetime: Duration,
) -> Result<Grant, StorageError> {
    let account = account_name(account)?;
    let container = ContainerName::parse(container)?;
    let expiry = OffsetDateTime::now_utc() + lifetime;
    if let Some(signer) = app.key_signer() {
        if signer.account() != account {
            return Err(StorageError::Denied(format!(
                "only the key of {} is at hand here, not one for {account}; locally the app can sign only for its own storage account",
                signer.account()
            )));
        }
        let sas = signer.sign_grant(CLOUDWORKS_PERMISSIONS, expiry);
        return Ok(Grant { sas, expires: sas_time(expiry), kind: "account SAS" });
    }
    let Some(credential) = app.identity() else {
        return Err(StorageError::Denied(
            "the app's storage is used with a fixed SAS, which cannot sign new ones; use the managed identity or an account key".into(),
        ));
    };
    let endpoint = sibling_endpoint(app.endpoint(), account)?;
    user_delegation_sas(app, endpoint, credential, account, container.as_str(), expiry).await
}

async fn user_delegation_sas(
    app: &BlobAccount,
    endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    account: &str,
    container: &str,
    expiry: OffsetDateTime,
) -> Result<Grant, StorageError> {
    let options = BlobServiceClientOptions {
        client_options: ClientOptions { transport: Some(app.transport()), ..Default::default() },
        ..Default::default()
    };
    let what = format!("user delegation key of {account}");
    let client = BlobServiceClient::new(endpoint, Some(credential), Some(options))
        .map_err(|e| StorageError::from_sdk(e, &what))?;
    // The key starts a little in the past (clock skew) and lives as long as the SAS.
    let start = OffsetDateTime::now_utc() - Duration::minutes(5);
    let info = KeyInfo { start: Some(start), expiry: Some(expiry), ..Default::default() };
    let body = info.try_into().map_err(|e| StorageError::from_sdk(e, &what))?;
    let key = client
        .get_user_delegation_key(body, None)
        .await
        .map_err(|e| StorageError::from_sdk(e, &what))?
        .into_model()
        .map_err(|e| StorageError::from_sdk(e, &what))?;
    let missing = || StorageError::Other(format!("{what}: the answer lacks a field"));
    let fields = DelegationKey {
        oid: key.signed_oid.ok_or_else(missing)?,
        tid: key.signed_tid.ok_or_else(missing)?,
        start: sas_time(key.signed_start.unwrap_or(start)),
        expiry: sas_time(key.signed_expiry.unwrap_or(expiry)),
        service: key.signed_service.unwrap_or_else(|| "b".to_owned()),
        version: key.signed_version.ok_or_else(missing)?,
        value: key.value.ok_or_else(missing)?,
    };
    let sas = sign_user_delegation(&fields, account, container, &sas_time(expiry));
    Ok(Grant { sas, expires: sas_time(expiry), kind: "user delegation SAS" })
}

/// The parts of a user delegation key a SAS carries.
struct DelegationKey {
    oid: String,
    tid: String,
    start: String,
    expiry: String,
    service: String,
    version: String,
    /// The key itself (decoded).
    value: Vec<u8>,
}

/// The user-delegation string-to-sign of version 2020-12-06 (Storage REST "Create a user
/// delegation SAS"): 24 newline-separated fields, the last without a newline.
fn user_delegation_string(k: &DelegationKey, account: &str, container: &str, expiry: &str) -> String {
    let resource = format!("/blob/{account}/{container}");
    [
        CLOUDWORKS_PERMISSIONS,
        "", // signedStart
        expiry,
        &resource,
        &k.oid,
        &k.tid,
        &k.start,
        &k.expiry,
        &k.service,
        &k.version,
        "", // signedAuthorizedUserObjectId
        "", // signedUnauthorizedUserObjectId
        "", // signedCorrelationId
        "", // signedIP
        "https",
        USER_DELEGATION_VERSION,
        "c", // signedResource: the container
        "",  // signedSnapshotTime
        "",  // signedEncryptionScope
        "",  // rscc
        "",  // rscd
        "",  // rsce
        "",  // rscl
        "",  // rsct
    ]
    .join("\n")
}

fn sign_user_delegation(k: &DelegationKey, account: &str, container: &str, expiry: &str) -> Secret {
    let signature = sign(&user_delegation_string(k, account, container, expiry), &k.value);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", USER_DELEGATION_VERSION)
        .append_pair("sr", "c")
        .append_pair("sp", CLOUDWORKS_PERMISSIONS)
        .append_pair("se", expiry)
        .append_pair("spr", "https")
        .append_pair("skoid", &k.oid)
        .append_pair("sktid", &k.tid)
        .append_pair("skt", &k.start)
        .append_pair("ske", &k.expiry)
        .append_pair("sks", &k.service)
        .append_pair("skv", &k.version)
        .append_pair("sig", &signature)
        .finish();
    Secret::new(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DelegationKey {
        DelegationKey {
            oid: "11111111-1111-1111-1111-111111111111".into(),
            tid: "22222222-2222-2222-2222-222222222222".into(),
            start: "2030-01-01T00:00:00Z".into(),
            expiry: "2030-01-08T00:00:00Z".into(),
            service: "b".into(),
            version: "2025-01-05".into(),
            value: b"delegation-key-bytes".to_vec(),
        }
    }

    #[test]
    fn the_user_delegation_string_has_24_fields_in_order() {
        let s = user_delegation_string(&key(), "acct", "drop", "2030-01-07T00:00:00Z");
        let fields: Vec<&str> = s.split('\n').collect();
        assert_eq!(fields.len(), 24);
        assert_eq!(fields[0], "rwl");
        assert_eq!(fields[2], "2030-01-07T00:00:00Z");
        assert_eq!(fields[3], "/blob/acct/drop");
        assert_eq!(fields[4], "11111111-1111-1111-1111-111111111111");
        assert_eq!((fields[14], fields[15], fields[16]), ("https", "2020-12-06", "c"));
    }

    #[test]
    fn a_user_delegation_sas_carries_the_key_fields_and_least_rights() {
        let sas = sign_user_delegation(&key(), "acct", "drop", "2030-01-07T00:00:00Z");
        let pairs: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(sas.expose().as_bytes()).into_owned().collect();
        assert_eq!(pairs["sp"], "rwl");
        assert_eq!(pairs["sr"], "c");
        assert_eq!(pairs["sks"], "b");
        assert_eq!(pairs["skoid"], "11111111-1111-1111-1111-111111111111");
        let expected =
            sign(&user_delegation_string(&key(), "acct", "drop", "2030-01-07T00:00:00Z"), b"delegation-key-bytes");
        assert_eq!(pairs["sig"], expected);
    }

    #[test]
    fn names_cannot_change_a_host_and_endpoints_keep_the_cloud() {
        assert!(account_name("Evil.com/").is_err());
        assert!(account_name("ab").is_err());
        let app = Url::parse("https://appacct.blob.core.usgovcloudapi.net/").unwrap();
        assert_eq!(sibling_endpoint(&app, "other").unwrap().as_str(), "https://other.blob.core.usgovcloudapi.net/");
    }
}
