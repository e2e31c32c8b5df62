//! Login throttling, a pure core: failed attempts are counted per
//! (account, client address) and per client address, in fixed windows.
//! A client over a limit is refused before any password is hashed, with the
//! time to wait. An attacker's failures count against their own address:
//! they never lock the real user out from another address, and every lock
//! ends with its window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failed logins allowed for one account from one address per window.
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed logins allowed from one address (any accounts) per window.
pub const ADDRESS_FAILURES: u32 = 30;
/// The window both limits count in.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Most keys remembered; past it, expired ones are swept, and if none
/// expired the oldest window goes (memory stays bounded under a flood).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String, IpAddr),
    Address(IpAddr),
}

/// Failed-login counts.
#[derive(Debug, Default)]
pub struct Throttle {
    windows: HashMap<Key, Window>,
}

impl Throttle {
    /// `Err(wait)` when `email` from `addr` is over a limit at `now`.
    pub fn check(&self, email: &str, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let limits = [
            (Key::Account(email.to_lowercase(), addr), ACCOUNT_FAILURES),
            (Key::Address(addr), ADDRESS_FAILURES),
        ];
        let wait = limits
            .iter()
            .filter_map(|(key, max)| {
                let w = self.windows.get(key)?;
                let ends = w.started + WINDOW;
                (w.failures >= *max && ends > now).then(|| ends - now)
            })
            .max();
        match wait {
            Some(w) => Err(w),
            None => Ok(()),
        }
    }

    /// Counts a failed login.
    pub fn failed(&mut self, email: &str, addr: IpAddr, now: Instant) {
        if self.windows.len() >= MAX_KEYS {
            self.windows.retain(|_, w| w.started + WINDOW > now);
            if self.windows.len() >= MAX_KEYS {
                if let Some(oldest) = self
                    .windows
                    .iter()
                    .min_by_key(|(_, w)| w.started)
                    .map(|(k, _)| k.clone())
                {
                    self.windows.remove(&oldest);
                }
            }
        }
        for key in [Key::Account(email.to_lowercase(), addr), Key::Address(addr)] {
            let w = self.windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if w.started + WINDOW <= now {
                *w = Window {
                    started: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    /// A successful login forgets the account's failures from `addr`.
    pub fn succeeded(&mut self, email: &str, addr: IpAddr) {
        self.windows
            .remove(&Key::Account(email.to_lowercase(), addr));
    }

    /// Keys remembered (for tests of the bound).
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn an_account_locks_for_its_address_only_and_only_for_the_window() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES {
            assert!(t.check("Alice@x.org", ip(1), now).is_ok());
            t.failed("Alice@x.org", ip(1), now);
        }
        let wait = t.check("alice@x.org", ip(1), now).unwrap_err();
        assert_eq!(wait, WINDOW);
        assert!(
            t.check("alice@x.org", ip(2), now).is_ok(),
            "another address"
        );
        assert!(t.check("bob@x.org", ip(1), now).is_ok(), "another account");
        assert!(
            t.check("alice@x.org", ip(1), now + WINDOW).is_ok(),
            "it ends"
        );
        t.failed("alice@x.org", ip(1), now + WINDOW);
        assert!(
            t.check("alice@x.org", ip(1), now + WINDOW).is_ok(),
            "a new window"
        );
    }

    #[test]
    fn an_address_trying_many_accounts_is_stopped() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for n in 0..ADDRESS_FAILURES {
            t.failed(&format!("u{n}@x.org"), ip(1), now);
        }
        assert!(t.check("new@x.org", ip(1), now).is_err());
        assert!(t.check("new@x.org", ip(2), now).is_ok());
    }

    #[test]
    fn success_forgets_the_account_failures() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES - 1 {
            t.failed("a@x.org", ip(1), now);
        }
        t.succeeded("a@x.org", ip(1));
        t.failed("a@x.org", ip(1), now);
        assert!(t.check("a@x.org", ip(1), now).is_ok());
    }

    proptest! {
        #[test]
        fn a_wait_never_exceeds_the_window_and_memory_is_bounded(
            events in prop::collection::vec((0u8..4, 0u8..4, 0u64..900), 0..200),
        ) {
            let mut t = Throttle::default();
            let start = Instant::now();
            let mut at = start;
            for (user, addr, step) in events {
                at += Duration::from_secs(step);
                let email = format!("u{user}@x.org");
                if let Err(w) = t.check(&email, ip(addr), at) {
                    prop_assert!(w <= WINDOW && w > Duration::ZERO);
                    prop_assert!(t.check(&email, ip(addr), at + w).is_ok());
                } else {
                    t.failed(&email, ip(addr), at);
                }
                prop_assert!(t.len() <= 4 * 4 + 4);
            }
        }
    }
}
