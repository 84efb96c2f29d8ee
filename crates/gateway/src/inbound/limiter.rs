//! Concurrent connections, in total and per client address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

/// Counts open connections; a [`Permit`] is held for each.
pub(super) struct ConnectionLimiter {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Total,
    PerIp,
}

/// One open connection; released on drop.
pub(super) struct Permit {
    limiter: Arc<ConnectionLimiter>,
    key: IpAddr,
}

impl ConnectionLimiter {
    pub(super) fn new(max_total: usize, max_per_ip: usize) -> ConnectionLimiter {
        ConnectionLimiter {
            max_total,
            max_per_ip,
            open: Mutex::new(Open::default()),
        }
    }

    /// A permit for a connection from `ip`, unless a limit is reached.
    pub(super) fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        let key = key(ip);
        let mut open = self.lock();
        if open.total >= self.max_total {
            return Err(Refusal::Total);
        }
        let count = open.per_ip.entry(key).or_insert(0);
        if *count >= self.max_per_ip {
            return Err(Refusal::PerIp);
        }
        *count += 1;
        open.total += 1;
        Ok(Permit {
            limiter: self.clone(),
            key,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.limiter.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.per_ip.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.per_ip.remove(&self.key);
            }
        }
    }
}

/// IPv4 addresses count alone (IPv4-mapped IPv6 included); IPv6 per /64, since one client
/// usually holds a whole /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_in_total_and_releases_on_drop() {
        let limiter = Arc::new(ConnectionLimiter::new(3, 2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let b_same_64: IpAddr = "2001:db8::ffff".parse().unwrap();

        let first = limiter.acquire(a).unwrap();
        let _second = limiter.acquire(a).unwrap();
        assert_eq!(limiter.acquire(a).err(), Some(Refusal::PerIp));
        let _third = limiter.acquire(b).unwrap();
        assert_eq!(limiter.acquire(b_same_64).err(), Some(Refusal::Total));
        drop(first);
        assert!(limiter.acquire(b_same_64).is_ok());
    }
}
