//! The peer's address, truncated: a full IP address is personal data (GDPR), a /24 or /48
//! network is enough to see where traffic comes from.

use std::any::Any;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;

/// The network a peer is in: IPv4 truncated to /24, IPv6 to /48. An IPv6 address that
/// carries an IPv4 address (IPv4-mapped or -compatible, 6to4, Teredo) is truncated on that
/// IPv4 address: its /48 would still hold it whole.
///
/// ```
/// use ws_observe_runtime::ws::truncate_ip;
/// assert_eq!(truncate_ip("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
/// assert_eq!(truncate_ip("2001:db8:abcd:12::1".parse().unwrap()), "2001:db8:abcd::/48");
/// assert_eq!(truncate_ip("2002:cb00:7107::1".parse().unwrap()), "203.0.113.0/24");
/// ```
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => truncate_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => truncate_v4(v4),
            None => {
                let s = v6.segments();
                format!("{}/48", Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
            }
        },
    }
}

/// The IPv4 address an IPv6 address carries, if it is of a kind that carries one in the bits
/// a /48 keeps, or that identifies the peer.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match s {
        // IPv4-mapped (::ffff:a.b.c.d).
        [0, 0, 0, 0, 0, 0xffff, high, low] => Some(v4(high, low)),
        // IPv4-compatible (::a.b.c.d, deprecated), but not :: and ::1.
        [0, 0, 0, 0, 0, 0, high, low] if (high, low) > (0, 1) => Some(v4(high, low)),
        // 6to4 (2002:AABB:CCDD::/48): the site's IPv4 address in bits 16-47.
        [0x2002, high, low, ..] => Some(v4(high, low)),
        // Teredo (2001:0::/32): the client's IPv4 address, inverted, in the last 32 bits.
        [0x2001, 0, _, _, _, _, high, low] => Some(v4(!high, !low)),
        _ => None,
    }
}

fn truncate_v4(ip: Ipv4Addr) -> String {
    let [a, b, c, _] = ip.octets();
    format!("{a}.{b}.{c}.0/24")
}

/// The peer address of the stream types servers accept on; `None` for others (set it with
/// `ObservedStream::set_peer_addr` if you know it).
pub(crate) fn peer_of<S: Any>(stream: &S) -> Option<SocketAddr> {
    let any = stream as &dyn Any;
    if let Some(tcp) = any.downcast_ref::<TcpStream>() {
        return tcp.peer_addr().ok();
    }
    if let Some(MaybeTlsStream::Plain(tcp)) = any.downcast_ref::<MaybeTlsStream<TcpStream>>() {
        return tcp.peer_addr().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_only_the_network() {
        assert_eq!(truncate_ip("10.1.2.3".parse().unwrap()), "10.1.2.0/24");
        assert_eq!(
            truncate_ip("::ffff:192.0.2.9".parse().unwrap()),
            "192.0.2.0/24"
        );
        assert_eq!(
            truncate_ip("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            "2001:db8:1::/48"
        );
        assert_eq!(truncate_ip("::1".parse().unwrap()), "::/48");
    }

    #[test]
    fn an_embedded_ipv4_address_is_truncated_as_ipv4() {
        // 6to4 of 203.0.113.7: its /48 (2002:cb00:7107::) would hold the whole address.
        assert_eq!(
            truncate_ip("2002:cb00:7107::1".parse().unwrap()),
            "203.0.113.0/24"
        );
        // Teredo, client 203.0.113.7 (stored inverted: 34ff:8ef8).
        assert_eq!(
            truncate_ip("2001:0:4136:e378:8000:63bf:34ff:8ef8".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            truncate_ip("::203.0.113.7".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            truncate_ip("::ffff:203.0.113.7".parse().unwrap()),
            "203.0.113.0/24"
        );
        // Other 2001: addresses (documentation, global unicast) keep their /48.
        assert_eq!(
            truncate_ip("2001:db8:1:2::7".parse().unwrap()),
            "2001:db8:1::/48"
        );
    }
}
