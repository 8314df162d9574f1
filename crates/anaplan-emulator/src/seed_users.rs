//! The seed's SCIM users and audit events (re-exported by [`super::seed`]), so tests can
//! name them without repeating literals.
//!
//! Users: [`SCIM_USER_COUNT`] in all, more than one SCIM page (100). User 0 is the
//! integration user ([`super::seed::USER_ID`], both workspaces). User `n` (1..) is
//! `user<nnn>@example.com` ([`scim_user`]): every tenth is inactive with no workspace, the
//! others have FP&A Planning (`n.is_multiple_of(3)`), Sales Ops (`n % 3 == 1`) or both (`n % 3 == 2`);
//! every seventh has no externalId, the others `E<nnnnn>`.
//! Workspace administrators and visitors ([`WORKSPACE_ADMINS`], [`WORKSPACE_VISITORS`]) are
//! seeded users too, and each user's last sign-in ([`last_login_date`]) is the seed's.
//!
//! Audit events: one every [`AUDIT_EVENT_SPACING_MS`], the newest at the emulator's start
//! rounded down to that spacing, going back [`AUDIT_EVENT_DAYS`] days (see
//! [`audit_event_type`] for their types).

use super::seed::{USER_EMAIL, USER_FIRST_NAME, USER_ID, USER_LAST_NAME, WS_FPA_ID, WS_SALES_ID};

/// SCIM users in the seed (the integration user included).
pub const SCIM_USER_COUNT: usize = 125;
/// Anaplan's largest SCIM page (`count`).
pub const SCIM_MAX_COUNT: usize = 100;
/// Anaplan's limit of workspace entitlements in one create, replace or patch.
pub const SCIM_MAX_ENTITLEMENTS_PER_CALL: usize = 50;

/// Days of audit events in the seed (more than the 30-day window).
pub const AUDIT_EVENT_DAYS: u64 = 40;
/// Time between two seeded audit events: 15 minutes (96 a day).
pub const AUDIT_EVENT_SPACING_MS: u64 = 15 * 60 * 1000;
/// The emulator's largest audit page (`limit` above it is capped silently).
pub const AUDIT_PAGE_CAP: usize = 50;

const GIVEN: [&str; 10] = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"];
const FAMILY: [&str; 10] =
    ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Berners-Lee"];

/// One seeded SCIM user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedUser {
    pub id: String,
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    /// Workspace ids.
    pub workspaces: Vec<&'static str>,
}

/// Seeded user `n` (0 = the integration user; `n < SCIM_USER_COUNT`).
pub fn scim_user(n: usize) -> SeedUser {
    if n == 0 {
        return SeedUser {
            id: USER_ID.to_owned(),
            user_name: USER_EMAIL.to_owned(),
            given_name: USER_FIRST_NAME.to_owned(),
            family_name: USER_LAST_NAME.to_owned(),
            external_id: Some("E00000".to_owned()),
            active: true,
            workspaces: vec![WS_FPA_ID, WS_SALES_ID],
        };
    }
    let active = !n.is_multiple_of(10);
    let workspaces = match (active, n % 3) {
        (false, _) => vec![],
        (true, 0) => vec![WS_FPA_ID],
        (true, 1) => vec![WS_SALES_ID],
        _ => vec![WS_FPA_ID, WS_SALES_ID],
    };
    SeedUser {
        id: format!("8a80da9a5fbe1c80015fc1d8d2f1{:04x}", 0x1000 + n),
        user_name: format!("user{n:03}@example.com"),
        given_name: GIVEN[n % GIVEN.len()].to_owned(),
        family_name: FAMILY[(n / GIVEN.len()) % FAMILY.len()].to_owned(),
        external_id: (!n.is_multiple_of(7)).then(|| format!("E{n:05}")),
        active,
        workspaces,
    }
}

/// Workspace administrators in the seed, as seeded user numbers ([`scim_user`]) per
/// workspace: `GET /2/0/workspaces/{ws}/admins` lists them in this order. The integration
/// user administers both; user 30 is inactive (and still listed, `active: false`).
pub const WORKSPACE_ADMINS: [(&str, &[usize]); 2] = [(WS_FPA_ID, &[0, 3, 6, 30]), (WS_SALES_ID, &[0, 1, 4])];
/// Workspace visitors in the seed, likewise: user 5 visits Sales Ops and also has it as a
/// SCIM workspace entitlement (SCIM says user, the visitors list says visitor).
pub const WORKSPACE_VISITORS: [(&str, &[usize]); 2] = [(WS_FPA_ID, &[4, 7, 13]), (WS_SALES_ID, &[3, 5, 9])];

/// The seeded users `GET /2/0/workspaces/{ws}/admins` (`admins: true`) or `.../visitors`
/// lists for workspace `ws`, in order (none for a workspace the seed does not have).
pub fn workspace_members(ws: &str, admins: bool) -> &'static [usize] {
    let table = if admins { &WORKSPACE_ADMINS } else { &WORKSPACE_VISITORS };
    table.iter().find(|(id, _)| *id == ws).map(|(_, users)| *users).unwrap_or(&[])
}

/// When seeded user `n` last signed in, as `GET /2/0/users` reports it (`None`: never, and
/// the field is absent): every fourth user (n % 4 == 3) never has; the others on a day of
/// November 2026, the integration user last.
pub fn last_login_date(n: usize) -> Option<String> {
    if n % 4 == 3 {
        return None;
    }
    let day = if n == 0 { 30 } else { 1 + n % 28 };
    Some(format!("2026-11-{day:02}T{:02}:{:02}:00.000Z", 7 + n % 12, (n * 7) % 60))
}

/// The `type` category, `eventTypeId` and message of seeded event `i`. Ids follow the
/// live prefixes (`USR-*` user activity, `AUTHZ-*` access control, `INT-*` integrations,
/// `CONN-*` connection management); `USR-8` "User login success" is live-observed, the
/// other numbers are the emulator's.
pub fn audit_event_type(i: usize) -> (&'static str, &'static str, &'static str) {
    match i % 6 {
        0 | 3 => ("user_activity", "USR-8", "User login success"),
        1 => ("access_control", "AUTHZ-3", "User added to workspace"),
        2 => ("int", "INT-1", "Process run through the Integration API"),
        4 => ("user_activity", "USR-9", "User logout"),
        _ => ("conn_mgmt", "CONN-2", "Connection updated"),
    }
}

/// The `eventTypeId` prefix a `type` value selects (`None`: every event, as for `all` and
/// for any value Anaplan does not recognise, which live Anaplan treats as `all`).
pub fn audit_type_prefix(kind: &str) -> Option<&'static str> {
    match kind {
        "user_activity" => Some("USR-"),
        "access_control" => Some("AUTHZ-"),
        "int" => Some("INT-"),
        "conn_mgmt" => Some("CONN-"),
        "comment" => Some("COMMENT-"),
        "byok" => Some("BYOK-"),
        "plan_iq" => Some("PLANIQ-"),
        "forecaster" => Some("FORECASTER-"),
        _ => None,
    }
}

/// The audit API's event types (`type=`).
pub const AUDIT_TYPES: [&str; 9] =
    ["all", "user_activity", "access_control", "int", "conn_mgmt", "comment", "byok", "plan_iq", "forecaster"];
