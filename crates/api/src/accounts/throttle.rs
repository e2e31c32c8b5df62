//! Login throttling, a pure core: failed attempts are counted per
//! (account, client address) and per client address, in fixed windows.
//! Attempts still being checked count too, so a flood sent in parallel is
//! refused like one sent in sequence: `begin` reserves a place before any
//! password is hashed, and `end` turns it into a failure or forgets it.
//! A client over a limit is refused with the time to wait. An attacker's
//! failures count against their own address: they never lock the real user
//! out from another address, and every lock ends with its window. IPv6
//! clients are keyed by their /64, the block one subscriber usually holds.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Failed logins allowed for one account from one address per window.
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed logins allowed from one address (any accounts) per window.
pub const ADDRESS_FAILURES: u32 = 30;
/// The window both limits count in.
pub const WINDOW: Duration = Duration::from_secs(300);
/// What a client refused only for attempts still in flight is told to wait.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);
/// Most keys remembered; past it, expired ones are swept, and if none
/// expired the oldest window goes (memory stays bounded under a flood).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
    in_flight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String, IpAddr),
    Address(IpAddr),
}

/// How a login attempt that [`Throttle::begin`] let through ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The password was right: the account's failures from there are forgotten.
    Succeeded,
    /// The password (or account) was wrong: one more failure.
    Failed,
    /// Nothing was decided (a busy hasher, a database error).
    Undecided,
}

/// The address a client is counted under: IPv4 as it is (also when it
/// comes mapped into IPv6), IPv6 by its /64.
pub fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Failed and in-flight login counts.
#[derive(Debug, Default)]
pub struct Throttle {
    windows: HashMap<Key, Window>,
}

fn keys(email: &str, addr: IpAddr) -> [(Key, u32); 2] {
    let addr = client_key(addr);
    [
        (Key::Account(email.to_lowercase(), addr), ACCOUNT_FAILURES),
        (Key::Address(addr), ADDRESS_FAILURES),
    ]
}

impl Throttle {
    /// `Err(wait)` when `email` from `addr` is over a limit at `now`,
    /// counting attempts in flight; else the attempt is counted as in
    /// flight until [`Throttle::end`].
    pub fn begin(&mut self, email: &str, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let keys = keys(email, addr);
        let wait = keys
            .iter()
            .filter_map(|(key, max)| {
                let w = self.windows.get(key)?;
                let ends = w.started + WINDOW;
                let failures = if ends > now { w.failures } else { 0 };
                if failures >= *max {
                    Some(ends - now)
                } else if failures.saturating_add(w.in_flight) >= *max {
                    Some(IN_FLIGHT_WAIT)
                } else {
                    None
                }
            })
            .max();
        if let Some(w) = wait {
            return Err(w);
        }
        self.make_room(now);
        for (key, _) in keys {
            let w = self.window(key, now);
            w.in_flight = w.in_flight.saturating_add(1);
        }
        Ok(())
    }

    /// Ends an attempt [`Throttle::begin`] let through.
    pub fn end(&mut self, email: &str, addr: IpAddr, now: Instant, outcome: Outcome) {
        for (key, _) in keys(email, addr) {
            let account = matches!(key, Key::Account(..));
            let w = self.window(key, now);
            w.in_flight = w.in_flight.saturating_sub(1);
            match outcome {
                Outcome::Failed => w.failures = w.failures.saturating_add(1),
                Outcome::Succeeded if account => w.failures = 0,
                _ => {}
            }
        }
    }

    /// Counts a login's outcome that another replica decided (nothing in
    /// flight here).
    pub fn record(&mut self, email: &str, addr: IpAddr, now: Instant, outcome: Outcome) {
        self.make_room(now);
        for (key, _) in keys(email, addr) {
            let account = matches!(key, Key::Account(..));
            let w = self.window(key, now);
            match outcome {
                Outcome::Failed => w.failures = w.failures.saturating_add(1),
                Outcome::Succeeded if account => w.failures = 0,
                _ => {}
            }
        }
    }

    /// The window of `key` at `now` (a new one when it ended).
    fn window(&mut self, key: Key, now: Instant) -> &mut Window {
        let w = self.windows.entry(key).or_insert(Window {
            started: now,
            failures: 0,
            in_flight: 0,
        });
        if w.started + WINDOW <= now {
            w.started = now;
            w.failures = 0;
        }
        w
    }

    /// Keeps the map bounded: expired idle windows go first, then the
    /// oldest idle one.
    fn make_room(&mut self, now: Instant) {
        if self.windows.len() < MAX_KEYS {
            return;
        }
        self.windows
            .retain(|_, w| w.in_flight > 0 || w.started + WINDOW > now);
        if self.windows.len() >= MAX_KEYS {
            if let Some(oldest) = self
                .windows
                .iter()
                .filter(|(_, w)| w.in_flight == 0)
                .min_by_key(|(_, w)| w.started)
                .map(|(k, _)| k.clone())
            {
                self.windows.remove(&oldest);
            }
        }
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

    /// One attempt, begun and failed at once.
    fn fail(t: &mut Throttle, email: &str, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        t.begin(email, addr, now)?;
        t.end(email, addr, now, Outcome::Failed);
        Ok(())
    }

    #[test]
    fn an_account_locks_for_its_address_only_and_only_for_the_window() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES {
            assert!(fail(&mut t, "Alice@x.org", ip(1), now).is_ok());
        }
        let wait = t.begin("alice@x.org", ip(1), now).unwrap_err();
        assert_eq!(wait, WINDOW);
        assert!(
            fail(&mut t, "alice@x.org", ip(2), now).is_ok(),
            "another address"
        );
        assert!(
            fail(&mut t, "bob@x.org", ip(1), now).is_ok(),
            "another account"
        );
        assert!(
            fail(&mut t, "alice@x.org", ip(1), now + WINDOW).is_ok(),
            "it ends, and a new window starts"
        );
        assert!(t.begin("alice@x.org", ip(1), now + WINDOW).is_ok());
    }

    #[test]
    fn attempts_in_flight_count_so_a_parallel_flood_is_refused() {
        let mut t = Throttle::default();
        let now = Instant::now();
        let let_through = (0..40)
            .filter(|_| t.begin("a@x.org", ip(1), now).is_ok())
            .count();
        assert_eq!(let_through, ACCOUNT_FAILURES as usize);
        for _ in 0..let_through {
            t.end("a@x.org", ip(1), now, Outcome::Failed);
        }
        assert_eq!(t.begin("a@x.org", ip(1), now).unwrap_err(), WINDOW);
    }

    #[test]
    fn an_undecided_attempt_gives_its_place_back() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES {
            t.begin("a@x.org", ip(1), now).unwrap();
            t.end("a@x.org", ip(1), now, Outcome::Undecided);
        }
        assert!(t.begin("a@x.org", ip(1), now).is_ok());
    }

    #[test]
    fn an_address_trying_many_accounts_is_stopped() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for n in 0..ADDRESS_FAILURES {
            fail(&mut t, &format!("u{n}@x.org"), ip(1), now).unwrap();
        }
        assert!(t.begin("new@x.org", ip(1), now).is_err());
        assert!(t.begin("new@x.org", ip(2), now).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let mut t = Throttle::default();
        let now = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        for _ in 0..ACCOUNT_FAILURES {
            fail(&mut t, "a@x.org", a, now).unwrap();
        }
        assert!(t.begin("a@x.org", b, now).is_err(), "the same /64");
        assert!(t.begin("a@x.org", other, now).is_ok(), "another /64");
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), ip(1));
    }

    #[test]
    fn success_forgets_the_account_failures() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES - 1 {
            fail(&mut t, "a@x.org", ip(1), now).unwrap();
        }
        t.begin("a@x.org", ip(1), now).unwrap();
        t.end("a@x.org", ip(1), now, Outcome::Succeeded);
        fail(&mut t, "a@x.org", ip(1), now).unwrap();
        assert!(t.begin("a@x.org", ip(1), now).is_ok());
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
                if let Err(w) = t.begin(&email, ip(addr), at) {
                    prop_assert!(w <= WINDOW && w > Duration::ZERO);
                    prop_assert!(t.begin(&email, ip(addr), at + w).is_ok());
                    t.end(&email, ip(addr), at + w, Outcome::Undecided);
                } else {
                    t.end(&email, ip(addr), at, Outcome::Failed);
                }
                prop_assert!(t.len() <= 4 * 4 + 4);
            }
        }
    }
}
