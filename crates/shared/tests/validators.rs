//! Every shared input rule on arbitrary input: it never panics, and a
//! refusal always says why (a code and a message). The browser and the
//! server call these same functions, so their verdicts cannot differ.

use berth_shared::bytes::ByteSize;
use berth_shared::folders::{content_disposition, entry_path, folder_name, folder_path};
use berth_shared::images::{display_name, image_name};
use berth_shared::resources::parse_service_ports;
use berth_shared::sessions::limits::{batch_timeout, cpu_amount, image_reference};
use berth_shared::sessions::{env_name, env_rows, parse_port_list, preopen_ports, session_name};
use berth_shared::validate::{
    email, login_password, new_password, required, whole_number, Invalid,
};
use proptest::prelude::*;

fn explained(r: Result<(), Invalid>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert!(!e.code.is_empty() && !e.message.is_empty(), "{e:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn text_rules_never_panic_and_explain_refusals(s in "\\PC{0,80}|.{0,300}") {
        for rule in [required, email, new_password, login_password, session_name, env_name,
                     image_name, folder_name, image_reference] {
            explained(rule(&s))?;
        }
        if let Err(e) = folder_path(&s) { explained(Err(e))?; }
        if let Err(e) = entry_path(&s) { explained(Err(e))?; }
        if let Err(e) = parse_port_list(&s) { explained(Err(e))?; }
        if let Err(e) = whole_number(&s) { explained(Err(e))?; }
        let _ = ByteSize::parse(&s);
        let _ = display_name(&s);
        let _ = content_disposition(&s);
        let _ = parse_service_ports(&s);
    }

    #[test]
    fn number_rules_never_panic(cpu in any::<f64>(), secs in any::<u64>(), ports in prop::collection::vec(any::<u16>(), 0..20)) {
        explained(cpu_amount(cpu))?;
        explained(batch_timeout(secs))?;
        explained(preopen_ports(&ports))?;
    }

    #[test]
    fn env_rows_name_the_row_they_refuse(rows in prop::collection::vec((".{0,12}", ".{0,12}"), 0..8)) {
        if let Err(errs) = env_rows(&rows) {
            for e in errs {
                prop_assert!(e.field.starts_with("env["), "{e:?}");
            }
        }
    }

    /// A whole number is taken exactly as typed, and nothing else is taken:
    /// "12.5" is never 125 or 12, "-5" never 5.
    #[test]
    fn whole_numbers_are_digits_only(n in any::<u64>(), junk in "[-+.,e ]{1,3}") {
        prop_assert_eq!(whole_number(&n.to_string()).unwrap(), Some(n));
        prop_assert_eq!(whole_number(&format!(" {n} ")).unwrap(), Some(n));
        let (before, within) = (format!("{junk}{n}"), format!("{n}{junk}5"));
        prop_assert!(whole_number(&before).is_err() || junk.trim().is_empty(), "{}", before);
        prop_assert!(whole_number(&within).is_err(), "{}", within);
        prop_assert_eq!(whole_number("").unwrap(), None);
    }

    #[test]
    fn a_path_that_passes_stays_inside(s in "[a-z./\\\\]{0,30}") {
        if let Ok(parts) = folder_path(&s) {
            prop_assert!(parts.iter().all(|p| *p != ".." && !p.contains('\\') && !p.is_empty()));
        }
    }
}
