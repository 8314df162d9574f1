//! Which URLs are this machine's own: there, and only there, plain `http` is accepted
//! (Azurite, the emulator, a local Key Vault stand-in); everywhere else a URL must be `https`.

use url::Url;

/// True for `localhost` and loopback addresses: the hosts where plain http (and, for a
/// vault, skipping the challenge-resource check) leaks nothing off the machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
