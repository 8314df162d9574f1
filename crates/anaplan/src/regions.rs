//! Anaplan's regional hosts: one region name sets the base URL of every Anaplan API the
//! client talks to.
//!
//! Source: the regional URL table of the live-tested OpenAPI description (`CONTEXT.md`,
//! "Regional server URLs", from Anaplan Support's "URL, IP, and allowlist requirements") and
//! the `servers` of each API's description. Regions that share the older non-prefixed hosts
//! (us1, us2, us5, us7, eu1, eu2, eu4, ap1) all map to the global hosts.
//!
//! Two readings are unverified there and kept as documented, each overridable by its own
//! `ANAPLAN_*_URL` setting:
//! - au1's API host `au1a.api2.anaplan.com` (marked "verify"; its auth service is served from
//!   the OAuth host `au1a.app2.anaplan.com`);
//! - CloudWorks on a prefixed region: the description lists only the global hosts
//!   (`api.cloudworks.anaplan.com/2/0` and `api.anaplan.com/cloudworks/2/0`). CloudWorks' own
//!   reference names two regional ones, `api.cloudworks.au1a.app2.anaplan.com` (Australia)
//!   and `ca1a.api.anaplan.com/cloudworks` (Canada); `CONTEXT.md` puts CloudWorks on
//!   `{region}.api.anaplan.com`. So Australia uses its documented host and every other
//!   prefixed region `https://{region api host}/cloudworks`, Canada's documented form (the
//!   client appends `/2/0`).
//!
//! The Audit API has one global host (`audit.anaplan.com`) whatever the region.

/// The base URLs of one region (no trailing slash; the client appends each API's path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionHosts {
    /// Integration API (`/2/0` appended); SCIM (`/scim/1/0/v2`) shares it.
    pub api: String,
    /// Legacy token service (basic and certificate logins).
    pub auth: String,
    /// OAuth 2 service (`/oauth/token`, `/auth/prelogin`).
    pub oauth: String,
    /// CloudWorks API (`/2/0` appended).
    pub cloudworks: String,
    /// Audit API (`/audit/api/1` appended): the same global host for every region.
    pub audit: String,
}

/// Region codes that use the older global hosts.
const GLOBAL: &[&str] = &["us1", "us2", "us5", "us7", "eu1", "eu2", "eu4", "ap1"];

/// Region codes with hosts of their own, and the prefix of those hosts.
const PREFIXED: &[(&str, &str)] = &[
    ("us9", "us9"),
    ("eu3", "eu3"),
    ("eu5", "eu5"),
    ("gb1", "gb1"),
    ("au1", "au1a"),
    ("ca1", "ca1a"),
    ("sg1", "sg1"),
    ("ae1", "ae1"),
    ("in1", "in1"),
    ("id1", "id1"),
    ("me1", "me1"),
];

/// The global Audit host.
const AUDIT: &str = "https://audit.anaplan.com";

/// Every accepted name, for messages: the region codes, then the host prefixes that differ.
pub fn names() -> Vec<&'static str> {
    let mut all: Vec<&str> = GLOBAL.to_vec();
    all.extend(PREFIXED.iter().map(|(code, _)| *code));
    all.extend(PREFIXED.iter().filter(|(code, prefix)| code != prefix).map(|(_, prefix)| *prefix));
    all
}

/// The hosts of a region named by its code (`eu3`, `au1`) or its host prefix (`au1a`,
/// `ca1a`), in any case; `None` for a name that is neither.
pub fn hosts(name: &str) -> Option<RegionHosts> {
    let name = name.trim().to_ascii_lowercase();
    if GLOBAL.contains(&name.as_str()) {
        return Some(RegionHosts {
            api: "https://api.anaplan.com".into(),
            auth: "https://auth.anaplan.com".into(),
            oauth: "https://us1a.app.anaplan.com".into(),
            cloudworks: "https://api.cloudworks.anaplan.com".into(),
            audit: AUDIT.into(),
        });
    }
    let (_, prefix) = PREFIXED.iter().find(|(code, prefix)| *code == name || *prefix == name)?;
    // Australia runs on the second generation of hosts, and its token service shares the
    // OAuth host.
    let (api, app, auth) = if *prefix == "au1a" {
        ("au1a.api2.anaplan.com".to_owned(), "au1a.app2.anaplan.com".to_owned(), "au1a.app2.anaplan.com".to_owned())
    } else {
        (format!("{prefix}.api.anaplan.com"), format!("{prefix}.app.anaplan.com"), format!("{prefix}.auth.anaplan.com"))
    };
    let cloudworks = if *prefix == "au1a" {
        "https://api.cloudworks.au1a.app2.anaplan.com".to_owned()
    } else {
        format!("https://{api}/cloudworks")
    };
    Some(RegionHosts {
        cloudworks,
        api: format!("https://{api}"),
        auth: format!("https://{auth}"),
        oauth: format!("https://{app}"),
        audit: AUDIT.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_regions_share_the_old_hosts() {
        for code in ["us1", "EU2", " ap1 "] {
            let h = hosts(code).unwrap();
            assert_eq!(h.api, "https://api.anaplan.com");
            assert_eq!(h.auth, "https://auth.anaplan.com");
            assert_eq!(h.oauth, "https://us1a.app.anaplan.com");
            assert_eq!(h.cloudworks, "https://api.cloudworks.anaplan.com");
            assert_eq!(h.audit, "https://audit.anaplan.com");
        }
    }

    #[test]
    fn prefixed_regions_have_their_own_hosts() {
        let h = hosts("eu3").unwrap();
        assert_eq!(h.api, "https://eu3.api.anaplan.com");
        assert_eq!(h.auth, "https://eu3.auth.anaplan.com");
        assert_eq!(h.oauth, "https://eu3.app.anaplan.com");
        assert_eq!(h.cloudworks, "https://eu3.api.anaplan.com/cloudworks");
        assert_eq!(h.audit, "https://audit.anaplan.com");
        let ca = hosts("ca1").unwrap();
        assert_eq!(ca, hosts("CA1A").unwrap());
        assert_eq!(ca.api, "https://ca1a.api.anaplan.com");
        assert_eq!(ca.auth, "https://ca1a.auth.anaplan.com");
    }

    #[test]
    fn australia_is_on_the_second_generation_hosts() {
        let h = hosts("au1a").unwrap();
        assert_eq!(h, hosts("au1").unwrap());
        assert_eq!(h.api, "https://au1a.api2.anaplan.com");
        assert_eq!(h.oauth, "https://au1a.app2.anaplan.com");
        assert_eq!(h.auth, "https://au1a.app2.anaplan.com");
        assert_eq!(h.cloudworks, "https://api.cloudworks.au1a.app2.anaplan.com");
        assert_eq!(hosts("ca1").unwrap().cloudworks, "https://ca1a.api.anaplan.com/cloudworks");
    }

    #[test]
    fn unknown_names_are_refused_and_every_listed_name_is_known() {
        for bad in ["", "us3", "eu", "api.anaplan.com", "eu3.api"] {
            assert_eq!(hosts(bad), None, "{bad}");
        }
        let all = names();
        assert_eq!(all.len(), 8 + 11 + 2);
        assert!(all.iter().all(|n| hosts(n).is_some()));
    }
}
