//! Is a host this machine? Only by address: an IP in 127.0.0.0/8, `::1`, or exactly
//! `localhost` (with or without brackets and a port). A name that merely starts
//! with `127.` or `localhost` is someone else's host.

use std::net::{IpAddr, Ipv6Addr};

/// The host part of `host[:port]`, `[v6]:port` or a bare IPv6 address.
pub fn host_of(authority: &str) -> &str {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, rest)| rest);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    if authority.matches(':').count() > 1 {
        return authority; // a bare IPv6 address
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// True when `authority` (`host`, `host:port`, `[::1]:port`) is loopback by address.
pub fn is_loopback(authority: &str) -> bool {
    let host = host_of(authority);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    // Only the four-dotted-decimal form: `0x7f.0.0.1` or `127.1` are names here.
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip == Ipv6Addr::LOCALHOST,
        Err(_) => false,
    }
}

/// The authority (`host[:port]`) of a URL such as `http://127.0.0.1:4566/path`.
pub fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_by_address_only() {
        for yes in
            ["127.0.0.1", "127.1.2.3:5000", "[::1]:5000", "[::1]", "::1", "localhost:5000", "localhost", "LOCALHOST"]
        {
            assert!(is_loopback(yes), "{yes} is loopback");
        }
        for no in [
            "127.evil.example",
            "127.evil.example:5000",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "localhost.evil.example:5000",
            "10.0.0.1",
            "0x7f.0.0.1",
            "127.1",
            "[::2]:5000",
            "example.com",
            "",
        ] {
            assert!(!is_loopback(no), "{no} is not loopback");
        }
    }

    #[test]
    fn authority_of_a_url() {
        assert_eq!(authority_of("http://127.0.0.1:4566/"), "127.0.0.1:4566");
        assert_eq!(authority_of("http://example.com"), "example.com");
        assert_eq!(authority_of("http://[::1]:4566?x"), "[::1]:4566");
        assert!(!is_loopback(authority_of("http://127.0.0.1@evil.example/")));
        assert!(is_loopback(authority_of("http://evil.example@127.0.0.1:4566/")));
    }
}
