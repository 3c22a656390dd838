//! IP networks in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), for `internal_networks`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a CIDR string could not be read. The text names what is wrong, never the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("not an IP address")]
    Address,
    #[error("prefix length is not a number from 0 to {0}")]
    Prefix(u8),
    #[error("address has bits set after the prefix (write the network address)")]
    HostBits,
}

impl Cidr {
    /// The network `addr/prefix`; `prefix` must fit the address family and `addr` must have
    /// no bits set after the prefix.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, CidrError> {
        let max = max_prefix(addr);
        if prefix > max {
            return Err(CidrError::Prefix(max));
        }
        let cidr = Cidr { addr, prefix };
        if cidr.masked(addr) != bits(addr) {
            return Err(CidrError::HostBits);
        }
        Ok(cidr)
    }

    /// True when `ip` is in this network. IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) are
    /// compared as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                self.masked(ip) == bits(self.addr)
            }
            _ => false,
        }
    }

    fn masked(&self, ip: IpAddr) -> u128 {
        let width = u32::from(max_prefix(ip));
        let host_bits = width - u32::from(self.prefix);
        let mask = if host_bits >= 128 {
            0
        } else {
            !((1u128 << host_bits) - 1)
        };
        bits(ip) & mask
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `ADDR/PREFIX`, or a bare address meaning that one host.
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| CidrError::Address)?;
        let addr = addr.to_canonical();
        let max = max_prefix(addr);
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().map_err(|_| CidrError::Prefix(max))?
            }
            Some(_) => return Err(CidrError::Prefix(max)),
        };
        Cidr::new(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Reads an address as the platforms write it: bare (`10.1.2.3`, `2001:db8::1`), with a port
/// (`10.1.2.3:5060`, `[2001:db8::1]:5061`), or with an IPv6 zone (`fe80::1%eth0`).
pub fn parse_address(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    let s = s
        .strip_prefix('[')
        .map_or(s, |r| r.split(']').next().unwrap_or(r));
    let s = s.split('%').next().unwrap_or(s);
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_networks() {
        assert!(c("10.0.0.0/8").contains(ip("10.44.100.67")));
        assert!(!c("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(c("192.168.1.0/24").contains(ip("192.168.1.255")));
        assert!(c("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(c("10.1.2.3").contains(ip("10.1.2.3")));
        assert!(!c("10.1.2.3").contains(ip("10.1.2.4")));
        assert!(c("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assert!(!c("10.0.0.0/8").contains(ip("2001:db8::1")));
    }

    #[test]
    fn ipv6_networks() {
        assert!(c("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!c("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(c("::/0").contains(ip("fe80::1")));
        assert!(c("fd00::/8").contains(ip("fdab::1")));
        assert_eq!(c("2001:db8::/32").to_string(), "2001:db8::/32");
    }

    #[test]
    fn rejects_bad_networks() {
        assert_eq!("10.0.0.0/33".parse::<Cidr>(), Err(CidrError::Prefix(32)));
        assert_eq!("10.0.0.1/8".parse::<Cidr>(), Err(CidrError::HostBits));
        assert_eq!("intranet".parse::<Cidr>(), Err(CidrError::Address));
        assert_eq!("10.0.0.0/x".parse::<Cidr>(), Err(CidrError::Prefix(32)));
        assert_eq!("::/129".parse::<Cidr>(), Err(CidrError::Prefix(128)));
    }

    #[test]
    fn reads_addresses_with_ports() {
        assert_eq!(parse_address("10.1.2.3:5060"), Some(ip("10.1.2.3")));
        assert_eq!(parse_address("[2001:db8::1]:5061"), Some(ip("2001:db8::1")));
        assert_eq!(parse_address("fe80::1%eth0"), Some(ip("fe80::1")));
        assert_eq!(parse_address("somewhere"), None);
    }
}
