//! Where webhooks may be sent: `http`/`https` URLs whose every resolved address is public, or in
//! a range the operator allowed (`KVM_WEBHOOK_ALLOW_NETWORKS`). Checked on the addresses a
//! request actually connects to (a resolver that drops refused ones), so a name that resolves
//! to an internal service, or changes its answer after the check, is refused all the same.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

pub use ipnet::IpNet;

use crate::error::{DomainError, DomainResult};

/// The longest URL an endpoint may have.
pub const MAX_URL_BYTES: usize = 2048;

/// The address ranges refused unless allowed, and the ranges allowed.
#[derive(Clone, Debug, Default)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    /// Parses a comma-separated list of CIDR ranges (`127.0.0.1/32,10.0.0.0/8`); a bare address
    /// stands for itself.
    pub fn parse_list(text: &str) -> Result<Vec<IpNet>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{part:?} is not an address range such as 10.0.0.0/8"))
            })
            .collect()
    }

    /// Why `ip` is refused, or `None` when a webhook may reach it.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            IpAddr::V4(_) => ip,
        };
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return None;
        }
        match ip {
            IpAddr::V4(v4) => refusal_v4(v4),
            IpAddr::V6(v6) => refusal_v6(v6),
        }
    }

    /// Refuses a URL an endpoint may not have: not http(s), no host, credentials in it, too
    /// long, or an address literal in a refused range.
    pub fn check_url(&self, url: &str) -> DomainResult<reqwest::Url> {
        let invalid = |why: &str| DomainError::invalid("url", format!("url: {why}"));
        if url.len() > MAX_URL_BYTES {
            return Err(invalid(&format!("longer than {MAX_URL_BYTES} bytes")));
        }
        let parsed = reqwest::Url::parse(url.trim()).map_err(|e| invalid(&format!("not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("only http and https URLs can receive webhooks"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("credentials in the URL are not allowed (receivers verify the signature instead)"));
        }
        let literal = match parsed.host() {
            None => return Err(invalid("the URL has no host")),
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => None,
        };
        if let Some(ip) = literal
            && let Some(why) = self.refusal(ip)
        {
            return Err(invalid(&format!(
                "{ip} is {why}; webhooks may not reach it unless KVM_WEBHOOK_ALLOW_NETWORKS lists its range"
            )));
        }
        Ok(parsed)
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("a multicast or reserved address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking address")
    } else if ip.is_documentation() || (a == 192 && b == 0 && ip.octets()[2] == 0) {
        Some("a reserved address")
    } else {
        None
    }
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if (first & 0xfe00) == 0xfc00 {
        Some("a private (unique local) address")
    } else if (first & 0xffc0) == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("a documentation address")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b {
        // NAT64: the IPv4 address it embeds decides.
        let [.., c, d] = ip.segments();
        refusal_v4(Ipv4Addr::new((c >> 8) as u8, c as u8, (d >> 8) as u8, d as u8))
    } else {
        None
    }
}

/// The resolver of the webhook client: the system's answer, less the refused addresses; a
/// name left with none fails with the reason.
pub(crate) struct GuardedResolver(pub(crate) Arc<AddressPolicy>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match policy.refusal(addr.ip()) {
                    Some(why) => {
                        refused.get_or_insert((addr.ip(), why));
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let message = match refused {
                    Some((ip, why)) => format!(
                        "{host} resolves to {ip}, {why}; webhooks may not reach it unless KVM_WEBHOOK_ALLOW_NETWORKS lists its range"
                    ),
                    None => format!("{host} resolves to no address"),
                };
                return Err(message.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_refused_unless_allowed() {
        let policy = AddressPolicy::default();
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(policy.refusal(refused.parse().unwrap()).is_some(), "{refused} should be refused");
        }
        for allowed in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "64:ff9b::101:101"] {
            assert_eq!(policy.refusal(allowed.parse().unwrap()), None, "{allowed} should be allowed");
        }
        let loopback = AddressPolicy::new(AddressPolicy::parse_list("127.0.0.0/8, ::1").unwrap());
        assert_eq!(loopback.refusal("127.0.0.1".parse().unwrap()), None);
        assert_eq!(loopback.refusal("::1".parse().unwrap()), None);
        assert!(loopback.refusal("10.0.0.1".parse().unwrap()).is_some());
        assert!(AddressPolicy::parse_list("10.0.0.0/33").is_err());
    }

    #[test]
    fn urls_are_checked_before_they_are_stored() {
        let policy = AddressPolicy::default();
        assert!(policy.check_url("https://hooks.example.com/kv").is_ok());
        for (url, says) in [
            ("ftp://example.com/", "only http and https"),
            ("https://user:pw@example.com/", "credentials"),
            ("http://127.0.0.1:9000/", "loopback"),
            ("http://[::ffff:192.168.0.1]/", "private"),
            ("http://169.254.169.254/latest/meta-data", "link-local"),
            ("not a url", "not a URL"),
        ] {
            let err = policy.check_url(url).unwrap_err();
            assert_eq!(err.field(), Some("url"));
            assert!(err.to_string().contains(says), "{url}: {err}");
        }
    }
}
