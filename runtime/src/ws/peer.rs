//! The peer's address, truncated: a full IP address is personal data (GDPR), a /24 or /48
//! network is enough to see where traffic comes from.

use std::any::Any;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;

/// The network a peer is in: IPv4 truncated to /24, IPv6 to /48 (an IPv4-mapped IPv6
/// address is treated as IPv4).
///
/// ```
/// use ws_observe_runtime::ws::truncate_ip;
/// assert_eq!(truncate_ip("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
/// assert_eq!(truncate_ip("2001:db8:abcd:12::1".parse().unwrap()), "2001:db8:abcd::/48");
/// ```
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => truncate_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => truncate_v4(v4),
            None => {
                let s = v6.segments();
                format!("{}/48", Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
            }
        },
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
}
