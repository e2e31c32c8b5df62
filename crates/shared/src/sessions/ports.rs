//! Preopen ports: ports inside the container a session asks to have
//! reachable through the app proxy from the start (the user runs the
//! server on them). The launcher's text box and the create body obey the
//! same rules, which live here.

use serde::{Deserialize, Serialize};

use crate::validate::Invalid;

/// Lowest preopen port (below are privileged ports).
pub const PREOPEN_MIN: u16 = 1024;
/// Most preopen ports a session may ask for unless the server says
/// otherwise (`--max-preopen-ports`).
pub const DEFAULT_MAX_PREOPEN_PORTS: u32 = 10;

/// What the server allows beyond the fixed rules: the chosen image's
/// service ports are taken, and how many ports one session may ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortRules {
    /// Ports the image's services use.
    pub taken: Vec<u16>,
    /// Most preopen ports (none: not known yet, no limit checked).
    pub max: Option<u32>,
}

/// Parses what a user types: ports separated by commas or spaces, and
/// `a:b` ranges (both ends included). Nothing typed is no port.
pub fn parse_port_list(text: &str) -> Result<Vec<u16>, Invalid> {
    let mut out = Vec::new();
    for token in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
    {
        let bad = || {
            Invalid::new(
                "invalid_port",
                format!("{token} is not a port: use numbers separated by commas or spaces."),
            )
        };
        let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
        let (lo, hi) = match token.split_once(':') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(token)?, number(token)?),
        };
        if lo > hi {
            return Err(bad());
        }
        for p in lo..=hi {
            let p = u16::try_from(p).map_err(|_| out_of_range(p))?;
            out.push(p);
            // a huge range is a typo; stop before it fills memory
            if out.len() > usize::from(u16::MAX) {
                return Err(bad());
            }
        }
    }
    Ok(out)
}

fn out_of_range(p: u32) -> Invalid {
    let mut i = Invalid::range(
        PREOPEN_MIN,
        u16::MAX,
        format!("{p} is not between {PREOPEN_MIN} and 65535."),
    );
    i.params.insert("value".into(), p.to_string());
    i
}

/// The rules that need no server state: each port in 1024–65535, none
/// twice.
pub fn preopen_ports(ports: &[u16]) -> Result<(), Invalid> {
    for (i, &p) in ports.iter().enumerate() {
        if p < PREOPEN_MIN {
            return Err(out_of_range(p.into()));
        }
        if ports[..i].contains(&p) {
            let mut twice = Invalid::new("duplicate", format!("{p} is listed twice."));
            twice.params.insert("value".into(), p.to_string());
            return Err(twice);
        }
    }
    Ok(())
}

/// The rules that need the server's answer: not a port the image's
/// services use, and no more than the server allows.
pub fn preopen_ports_allowed(ports: &[u16], rules: &PortRules) -> Result<(), Invalid> {
    if let Some(p) = ports.iter().find(|p| rules.taken.contains(p)) {
        return Err(Invalid::new(
            "service_port",
            format!("{p} is used by one of the environment's apps."),
        ));
    }
    match rules.max {
        Some(max) if ports.len() > max as usize => Err(Invalid::new(
            "too_many",
            format!("At most {max} preopen ports."),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commas_spaces_and_ranges() {
        assert_eq!(
            parse_port_list(" 8000, 8001 9000:9002,,").unwrap(),
            vec![8000, 8001, 9000, 9001, 9002]
        );
        assert_eq!(parse_port_list("   ").unwrap(), Vec::<u16>::new());
        assert_eq!(parse_port_list("80a").unwrap_err().code, "invalid_port");
        assert_eq!(
            parse_port_list("9002:9000").unwrap_err().code,
            "invalid_port"
        );
        assert_eq!(parse_port_list("70000").unwrap_err().code, "out_of_range");
    }

    #[test]
    fn range_duplicates_services_and_count() {
        assert_eq!(preopen_ports(&[80]).unwrap_err().code, "out_of_range");
        assert_eq!(preopen_ports(&[8000, 8000]).unwrap_err().code, "duplicate");
        assert!(preopen_ports(&[1024, 65535]).is_ok());
        let rules = PortRules {
            taken: vec![8081, 2200],
            max: Some(2),
        };
        assert_eq!(
            preopen_ports_allowed(&[8081], &rules).unwrap_err().code,
            "service_port"
        );
        assert_eq!(
            preopen_ports_allowed(&[8000, 8001, 8002], &rules)
                .unwrap_err()
                .code,
            "too_many"
        );
        assert!(preopen_ports_allowed(&[8000, 8001], &rules).is_ok());
        assert!(preopen_ports_allowed(&[1; 50], &PortRules::default()).is_ok());
    }

    proptest! {
        #[test]
        fn a_typed_list_reads_back(ports in proptest::collection::vec(1024u16.., 0..20),
                                   seps in proptest::collection::vec(prop_oneof![Just(","), Just(" "), Just(", "), Just("\t")], 20)) {
            let text: String = ports.iter().zip(seps.iter()).map(|(p, s)| format!("{p}{s}")).collect();
            prop_assert_eq!(parse_port_list(&text).unwrap(), ports.clone());
            let unique = ports.iter().enumerate().all(|(i, p)| !ports[..i].contains(p));
            prop_assert_eq!(preopen_ports(&ports).is_ok(), unique);
        }
    }
}
