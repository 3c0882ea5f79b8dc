//! The client address behind a reverse proxy: when the TCP peer is one of the trusted proxies
//! (`MEM0_HTTP_TRUSTED_PROXIES`), the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy; otherwise the peer, and the header is ignored (anyone can send it). This
//! address is the one the 429 limiter counts and the audit log records.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;

/// The header a proxy appends the address it received the request from to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The address a request comes from, for a peer `peer` and the trusted proxies `trusted`.
///
/// Entries are read right to left across every `X-Forwarded-For` header; an entry may carry a
/// port (`192.0.2.7:5100`, `[2001:db8::1]:443`). When an entry cannot be read, the hop that
/// wrote it (the last trusted address) is the answer; when every entry is trusted, the
/// left-most one.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let mut hop = peer;
    let entries: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for entry in entries.iter().rev() {
        let Some(address) = parse_entry(entry) else {
            return hop;
        };
        if !is_trusted(address, trusted) {
            return address;
        }
        hop = address;
    }
    hop
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&address))
}

fn parse_entry(entry: &str) -> Option<IpAddr> {
    let address = entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(FORWARDED_FOR, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn parse_trusted(text: &str) -> Option<IpNet> {
        crate::settings::trusted_proxy(text)
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_header_says() {
        let trusted = [parse_trusted("10.0.0.0/8").unwrap()];
        let got = client_address(ip("192.0.2.9"), &headers(&["198.51.100.1"]), &trusted);
        assert_eq!(got, ip("192.0.2.9"));
        let got = client_address(ip("192.0.2.9"), &headers(&["198.51.100.1"]), &[]);
        assert_eq!(got, ip("192.0.2.9"));
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_entry() {
        let trusted = [
            parse_trusted("127.0.0.1").unwrap(),
            parse_trusted("10.0.0.0/8").unwrap(),
        ];
        let cases: [(&[&str], &str); 7] = [
            (&["198.51.100.1"], "198.51.100.1"),
            // A client-supplied left part cannot pick the address.
            (&["203.0.113.66, 198.51.100.1, 10.1.2.3"], "198.51.100.1"),
            (&["203.0.113.66", "198.51.100.1"], "198.51.100.1"),
            (&["[2001:db8::7]:443"], "2001:db8::7"),
            (&["198.51.100.1:5100"], "198.51.100.1"),
            // Unreadable: the hop that wrote it.
            (&["198.51.100.1, not-an-address, 10.9.9.9"], "10.9.9.9"),
            (&["10.1.1.1, 10.2.2.2"], "10.1.1.1"),
        ];
        for (values, want) in cases {
            let got = client_address(ip("127.0.0.1"), &headers(values), &trusted);
            assert_eq!(got, ip(want), "{values:?}");
        }
        let got = client_address(ip("127.0.0.1"), &HeaderMap::new(), &trusted);
        assert_eq!(got, ip("127.0.0.1"), "no header: the peer");
        let mapped = client_address(ip("::ffff:127.0.0.1"), &headers(&["192.0.2.1"]), &trusted);
        assert_eq!(mapped, ip("192.0.2.1"), "an IPv4-mapped peer");
    }
}
