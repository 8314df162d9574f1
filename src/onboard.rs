//! Signing the app in to Anaplan from a browser (`onboard`, `onboard-callback`): the pieces
//! both pages share.
//!
//! `onboard` mints a `state` per page view: the SHA-256 of a random nonce (128 bits), the
//! issue time and an HMAC-SHA256 over both, keyed by a key derived from the OAuth client
//! secret (HMAC of a fixed label with the secret: every instance has it, and there is no new
//! secret to manage). A cookie carries the nonce itself, so the state is bound to the
//! browser that opened `onboard`; the state (which travels in URLs: Anaplan's redirect, the
//! browser's history) holds only the nonce's hash, so it never shows the cookie's value.
//! `onboard-callback` accepts a state only when its MAC verifies (in constant time), it is
//! at most [`STATE_MAX_AGE`] old, the cookie's nonce hashes to its own, and the nonce was
//! never used (a create-if-absent record in the app's storage account, or this process's
//! memory without one).
//!
//! The pages are plain HTML, readable on a phone, with no script; every answer carries
//! [`SECURITY_HEADERS`]: no caching, no `Referer` (the `onboard` URL carries the function
//! key as `?code=`), no framing, no forms, no script.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use anaplan::secret::Secret;

/// How long a state (and its cookie) is accepted after `onboard` issued it.
pub const STATE_MAX_AGE: Duration = Duration::from_secs(600);
/// How far in the future an issue time may be (clocks of instances differ a little).
const CLOCK_SKEW: Duration = Duration::from_secs(60);
/// The cookie that binds a state to the browser that opened `onboard`.
pub const COOKIE: &str = "anaplan-onboard";
/// The callback's route: the cookie is sent there only.
pub const CALLBACK_PATH: &str = "/api/onboard-callback";
/// The label the state key is derived with (HMAC-SHA256 keyed by the client secret).
const KEY_LABEL: &[u8] = b"anaplan-functions onboard state v1";
/// The record folder of used nonces (in the `anaplan-functions-state` container).
pub const USED_FOLDER: &str = "onboard";
/// The longest text of Anaplan's own (an `error_description`) a page shows.
const SHOWN_CHARS: usize = 300;

/// Headers on every answer of both pages.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'",
    ),
];

type HmacSha256 = Hmac<Sha256>;

fn state_key(client_secret: &Secret) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(client_secret.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(KEY_LABEL);
    mac.finalize().into_bytes().into()
}

fn state_mac(client_secret: &Secret, nonce: &str, issued: u64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(&state_key(client_secret)).expect("HMAC takes any key length");
    mac.update(format!("{nonce}.{issued}").as_bytes());
    mac
}

/// A new nonce: 128 random bits as 32 lowercase hex characters.
pub fn new_nonce() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// What a state carries of `nonce`: its SHA-256, in lowercase hex.
pub fn binding(nonce: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(nonce.as_bytes()))
}

/// The state for the browser holding `nonce`, issued at `issued` (Unix seconds):
/// `<binding>.<issued>.<mac>` ([`binding`]), the MAC in unpadded base64url.
pub fn state_for(client_secret: &Secret, nonce: &str, issued: u64) -> String {
    use base64::Engine;
    let binding = binding(nonce);
    let mac = state_mac(client_secret, &binding, issued).finalize().into_bytes();
    format!("{binding}.{issued}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac))
}

/// Why a state is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadState {
    /// Not three parts of the expected shape.
    Malformed,
    /// The MAC does not verify: not a state this app issued.
    Forged,
    /// Older than [`STATE_MAX_AGE`].
    Expired,
    /// Issued later than now (beyond a minute of clock skew).
    FromTheFuture,
}

impl BadState {
    /// What the page says.
    pub fn explain(self) -> &'static str {
        match self {
            BadState::Malformed => "the sign-in's state is not one this app issues",
            BadState::Forged => "the sign-in's state was not issued by this app (its signature does not verify)",
            BadState::Expired => "the sign-in is more than 10 minutes old",
            BadState::FromTheFuture => "the sign-in's state claims to be issued in the future",
        }
    }
}

/// Checks `state` at `now` (Unix seconds): its [`binding`] when it verifies and is fresh.
pub fn verify_state(client_secret: &Secret, state: &str, now: u64) -> Result<String, BadState> {
    use base64::Engine;
    let mut parts = state.split('.');
    let (Some(nonce), Some(issued), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(BadState::Malformed);
    };
    let nonce_ok = nonce.len() == 64 && nonce.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let issued_ok = !issued.is_empty() && issued.len() <= 20 && issued.bytes().all(|b| b.is_ascii_digit());
    let (true, true) = (nonce_ok, issued_ok) else {
        return Err(BadState::Malformed);
    };
    let issued: u64 = issued.parse().map_err(|_| BadState::Malformed)?;
    let mac = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(mac).map_err(|_| BadState::Malformed)?;
    // Constant time (hmac's verify_slice).
    state_mac(client_secret, nonce, issued).verify_slice(&mac).map_err(|_| BadState::Forged)?;
    if issued > now.saturating_add(CLOCK_SKEW.as_secs()) {
        return Err(BadState::FromTheFuture);
    }
    if now.saturating_sub(issued) > STATE_MAX_AGE.as_secs() {
        return Err(BadState::Expired);
    }
    Ok(nonce.to_owned())
}

/// The `Set-Cookie` that binds `nonce` to this browser for [`STATE_MAX_AGE`].
pub fn set_cookie(nonce: &str) -> String {
    format!(
        "{COOKIE}={nonce}; HttpOnly; Secure; SameSite=Lax; Path={CALLBACK_PATH}; Max-Age={}",
        STATE_MAX_AGE.as_secs()
    )
}

/// The `Set-Cookie` that removes it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path={CALLBACK_PATH}; Max-Age=0")
}

/// The values of the cookie in the request's `Cookie` headers (a browser may send one per
/// path, or another site's of the same name could be there too).
pub fn cookie_values(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The callback URL for a request with these headers: `https://<host>/api/onboard-callback`
/// (`http://` for a loopback host, the demo), the host from `X-Forwarded-Host` when
/// `FORWARDED_HOSTS` lists it, else `Host`.
pub fn callback_url(headers: &HeaderMap, forwarded_hosts: &[String]) -> Result<url::Url, String> {
    let (_, host) = crate::http::long_running::public_origin(headers, forwarded_hosts)
        .map_err(|p| p.body()["detail"].as_str().unwrap_or("the request names no host").to_owned())?;
    let probe = url::Url::parse(&format!("http://{host}/")).map_err(|e| e.to_string())?;
    let scheme = if crate::loopback::is_loopback(&probe) { "http" } else { "https" };
    url::Url::parse(&format!("{scheme}://{host}{CALLBACK_PATH}")).map_err(|e| e.to_string())
}

/// `text` for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text of Anaplan's (or a caller's) for a page: at most a few hundred characters, escaped.
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => escape(text),
        Some((end, _)) => format!("{}…", escape(&text[..end])),
    }
}

/// A whole page: `title` and `body` (HTML already escaped where it must be).
pub fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f4f6f8; color: #1b1f23; }}
main {{ max-width: 40rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }}
h1 {{ font-size: 1.5rem; margin: 0.5rem 0 1rem; }}
.card {{ background: #fff; border-radius: 0.5rem; padding: 1rem 1.25rem; box-shadow: 0 1px 3px rgba(0,0,0,0.12); margin-bottom: 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: 0.4rem 0.5rem 0.4rem 0; border-bottom: 1px solid #e5e8eb; overflow-wrap: anywhere; }}
th {{ width: 38%; font-weight: 600; color: #444c56; }}
.ok {{ color: #1a7f37; }}
.bad {{ color: #b42318; }}
a.button {{ display: inline-block; background: #0f62fe; color: #fff; text-decoration: none; font-weight: 600; padding: 0.8rem 1.4rem; border-radius: 0.4rem; margin: 0.5rem 0; }}
a.button:focus, a.button:hover {{ background: #0043ce; }}
code {{ background: #eef1f4; padding: 0.1rem 0.3rem; border-radius: 0.2rem; overflow-wrap: anywhere; }}
p.small {{ font-size: 0.9rem; color: #57606a; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"#,
        title = escape(title),
    )
}

/// An HTML answer with [`SECURITY_HEADERS`] and, when given, a `Set-Cookie`.
pub fn html(status: StatusCode, html: String, cookie: Option<String>) -> Response {
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    for (name, value) in SECURITY_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::SET_COOKIE, cookie);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_verifies_until_it_is_ten_minutes_old_and_not_with_another_secret() {
        let secret = Secret::new("cs-1");
        let nonce = new_nonce().unwrap();
        assert_eq!(nonce.len(), 32);
        let now = 1_800_000_000;
        let state = state_for(&secret, &nonce, now);
        assert!(!state.contains(&nonce), "the state never shows the cookie's value");
        let bound = binding(&nonce);
        assert_eq!(verify_state(&secret, &state, now), Ok(bound.clone()));
        assert_eq!(verify_state(&secret, &state, now + 600), Ok(bound.clone()));
        assert_eq!(verify_state(&secret, &state, now + 601), Err(BadState::Expired));
        assert_eq!(verify_state(&secret, &state, now - 61), Err(BadState::FromTheFuture));
        assert_eq!(verify_state(&Secret::new("cs-2"), &state, now), Err(BadState::Forged));
        // Another nonce or time under the same MAC.
        let (_, mac) = state.rsplit_once('.').unwrap();
        let other = format!("{}.{now}.{mac}", "0".repeat(64));
        assert_eq!(verify_state(&secret, &other, now), Err(BadState::Forged));
        let later = format!("{bound}.{}.{mac}", now + 1);
        assert_eq!(verify_state(&secret, &later, now), Err(BadState::Forged));
        for bad in ["", "a.b", "a.b.c.d", &format!("{bound}.x.{mac}"), &format!("{}.{now}.{mac}", "Z".repeat(64))] {
            assert_eq!(verify_state(&secret, bad, now), Err(BadState::Malformed), "{bad}");
        }
        assert_ne!(new_nonce().unwrap(), nonce);
    }

    #[test]
    fn the_cookie_is_read_from_any_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; anaplan-onboard=abc; b=2"));
        h.append(header::COOKIE, HeaderValue::from_static("anaplan-onboard=def"));
        assert_eq!(cookie_values(&h), ["abc", "def"]);
        assert!(set_cookie("abc").contains("HttpOnly; Secure; SameSite=Lax; Path=/api/onboard-callback; Max-Age=600"));
    }

    #[test]
    fn text_is_escaped_and_capped() {
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let long = "x".repeat(1000);
        assert!(shown(&long).chars().count() <= SHOWN_CHARS + 1);
    }

    #[test]
    fn the_callback_is_https_except_on_this_machine() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("myapp.azurewebsites.net"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        assert_eq!(callback_url(&h, &[]).unwrap().as_str(), "https://myapp.azurewebsites.net/api/onboard-callback");
        h.insert("x-forwarded-host", HeaderValue::from_static("evil.example"));
        assert_eq!(callback_url(&h, &[]).unwrap().as_str(), "https://myapp.azurewebsites.net/api/onboard-callback");
        let allowed = ["front.contoso.com".to_owned()];
        h.insert("x-forwarded-host", HeaderValue::from_static("front.contoso.com"));
        assert_eq!(callback_url(&h, &allowed).unwrap().as_str(), "https://front.contoso.com/api/onboard-callback");
        let mut local = HeaderMap::new();
        local.insert(header::HOST, HeaderValue::from_static("127.0.0.1:7071"));
        assert_eq!(callback_url(&local, &[]).unwrap().as_str(), "http://127.0.0.1:7071/api/onboard-callback");
    }
}
