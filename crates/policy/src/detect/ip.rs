//! IP addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `text` is a dotted-quad IPv4 address that could identify a host.
///
/// Refuses octets above 255, leading zeros (version-number look-alikes such as 1.02.3.4)
/// and the unspecified address 0.0.0.0.
pub fn is_valid_ipv4(text: &str) -> bool {
    let octets_ok = text
        .split('.')
        .all(|o| !(o.len() > 1 && o.starts_with('0')));
    match text.parse::<Ipv4Addr>() {
        Ok(ip) => octets_ok && !ip.is_unspecified(),
        Err(_) => false,
    }
}

/// Whether `text` is an IPv6 address with at least two groups (so `::` alone is refused).
pub fn is_valid_ipv6(text: &str) -> bool {
    text.matches(':').count() >= 2
        && text
            .parse::<Ipv6Addr>()
            .is_ok_and(|ip| !ip.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ipv4_and_ipv6_addresses() {
        assert!(is_valid_ipv4("192.168.10.24"));
        assert!(is_valid_ipv6("2001:db8::8a2e:370:7334"));
    }

    #[test]
    fn refuses_out_of_range_or_version_like_numbers() {
        assert!(!is_valid_ipv4("256.1.1.1"));
        assert!(!is_valid_ipv4("1.02.3.4"));
        assert!(!is_valid_ipv4("0.0.0.0"));
        assert!(!is_valid_ipv6("::"));
        assert!(!is_valid_ipv6("12:30"));
    }
}
