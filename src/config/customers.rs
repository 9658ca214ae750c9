//! Pseudonymous customers in a pipeline file: `[customers]` (where the council's secret for the
//! keyed hashes is read from, and the windows that make a contact a repeat) and each source's
//! `[sources.customer]` (which of its columns identify the customer or case). The keys
//! themselves are made at ingest (`ingest::pseudonym`); this module only checks and resolves.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use super::source::SourceKind;

/// Customer keys and repeat contact (`[customers]`): needed when a source maps a customer
/// identifier in `[sources.customer]`. The identifiers are never stored: each is normalised and
/// turned into a keyed hash (HMAC-SHA-256) with a secret only the council holds, so the lake
/// and the publications cannot be linked back to a phone number or e-mail address without it.
/// Rotating the secret: keys made with the new secret do not match the old ones, so repeats
/// across the change are not seen; re-ingest the months you compare (a new lake) after a
/// rotation. A run refuses to make keys without the secret (never plain hashes).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCustomers {
    /// A file holding the secret, relative to the pipeline file: its text, without surrounding
    /// spaces, at least 16 characters. Keep it outside the lake, the output folder and version
    /// control, readable by the job's account only. This or `secret_env`.
    #[schemars(extend("examples" = ["/etc/cex/customer-key"]))]
    pub secret_file: Option<String>,
    /// An environment variable holding the secret (at least 16 characters), for jobs whose
    /// scheduler supplies secrets that way. This or `secret_file`.
    #[schemars(extend("examples" = ["CEX_CUSTOMER_SECRET"]))]
    pub secret_env: Option<String>,
    /// The windows, in days, within which a contact by the same customer about the same service
    /// is a repeat (and after which a contact with no follow-up counts as resolved): whole
    /// numbers from 1 to 366, at most four, each once. Days are calendar days: a contact the
    /// same day is 0 days later. Default: `[7, 28]`.
    #[schemars(extend("default" = [7, 28], "examples" = [[7, 28]]))]
    pub repeat_days: Option<Vec<i64>>,
    /// Values the exports put in an identifier column that are no customer: the contact
    /// centre's own address advisers type into forms they fill in for callers, a switchboard
    /// number, a dummy account. Compared after each kind's normalisation (case, spaces, `+44`),
    /// in every source; a contact carrying one gets no key of that kind (it is still counted).
    /// Besides these, cex never keys a number of one repeated digit (`00000000000`), an address
    /// whose name says there is none (`noemail@`, `none@`, `no-reply@`, `n/a@`, `unknown@`,
    /// `test@`, `x@`...), or a reference with no letter or digit or that reads `N/A`, `NONE`,
    /// `NULL`, `NIL`, `UNKNOWN`, `TBC`, `TBA`, or only `0`s or `X`s. Default: none.
    #[schemars(extend("examples" = [["contact.centre@example.gov.uk", "01632 960000"]]))]
    pub placeholders: Option<Vec<String>>,
    /// The most contacts one identifier may carry on one day of one export file and still be
    /// taken as one customer's. A value carrying more (a dummy address no list foresaw, a
    /// withheld number written as a number) is taken as a placeholder: its contacts in that file
    /// get no key of that kind, and the run warns, naming the file and column (never the value);
    /// list it in `placeholders` to say so, or raise this if one customer really contacts you
    /// that often. Sources dated by day only. Whole number from 2 to 100000. Default: 20.
    #[schemars(extend("default" = 20, "examples" = [20]))]
    pub max_contacts_per_day: Option<i64>,
}

/// The columns of one source that identify its customer or case (`[sources.customer]`).
/// Contact sources with one row per contact only (not interval exports, not rows with a
/// `count`). Each column must be in every file; a blank, withheld or unreadable value gives the
/// row no key of that kind (it is still counted everywhere else).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCustomerColumns {
    /// The caller's or customer's telephone number. Normalised to one form (spaces, dashes and
    /// brackets dropped; `+44` and `0044` become `0`; other country codes become `00...`);
    /// fewer than 7 digits (extensions, "Withheld") gives no key.
    #[schemars(extend("examples" = ["CLI"]))]
    pub phone: Option<String>,
    /// The customer's e-mail address, compared without surrounding spaces and case; a value
    /// that is not an address gives no key.
    #[schemars(extend("examples" = ["Email Address"]))]
    pub email: Option<String>,
    /// A reference that identifies the customer or case (account, council-tax reference, UPRN,
    /// case number), compared without spaces and case.
    #[schemars(extend("examples" = ["Account Ref"]))]
    pub reference: Option<String>,
    /// What kind of reference `reference` is: sources that name the same scheme are matched on
    /// it (a council-tax account quoted on the phone and on a form). Default: the source's name,
    /// so a reference only matches references of the same source.
    #[schemars(extend("examples" = ["council_tax_account"]))]
    pub reference_scheme: Option<String>,
}

/// Where the secret comes from.
#[derive(Clone, PartialEq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "secret_file {}", p.display()),
            SecretSource::Env(v) => write!(f, "secret_env {v}"),
        }
    }
}

/// `[customers]`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerConfig {
    pub secret: Option<SecretSource>,
    /// Repeat windows in days, ascending.
    pub repeat_days: Vec<u32>,
    /// Identifier values that are no customer, as written in the pipeline file.
    pub placeholders: Vec<String>,
    /// More contacts than this on one day of one file make an identifier a placeholder.
    pub max_contacts_per_day: u32,
}

pub const DEFAULT_REPEAT_DAYS: [u32; 2] = [7, 28];

pub const DEFAULT_MAX_CONTACTS_PER_DAY: u32 = 20;

impl Default for CustomerConfig {
    fn default() -> Self {
        CustomerConfig {
            secret: None,
            repeat_days: DEFAULT_REPEAT_DAYS.to_vec(),
            placeholders: Vec::new(),
            max_contacts_per_day: DEFAULT_MAX_CONTACTS_PER_DAY,
        }
    }
}

/// One source's customer identifiers, resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerColumns {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub reference: Option<String>,
    /// The namespace its references are hashed in.
    pub reference_scheme: String,
}

impl CustomerColumns {
    pub fn any(&self) -> bool {
        self.phone.is_some() || self.email.is_some() || self.reference.is_some()
    }

    /// (canonical field, source column) pairs, for checking that a file has them.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        [
            ("customer.phone", &self.phone),
            ("customer.email", &self.email),
            ("customer.reference", &self.reference),
        ]
        .into_iter()
        .filter_map(|(field, column)| column.as_deref().map(|c| (field, c)))
        .collect()
    }
}

pub(super) fn resolve(
    raw: Option<RawCustomers>,
    base: &Path,
    push: &mut impl FnMut(String, String),
) -> CustomerConfig {
    let Some(raw) = raw else {
        return CustomerConfig::default();
    };
    let secret = match (raw.secret_file, raw.secret_env) {
        (Some(_), Some(_)) => {
            push(
                "customers.secret_env".into(),
                "give the secret in one place: secret_file or secret_env, not both".into(),
            );
            None
        }
        (Some(file), None) if file.trim().is_empty() => {
            push(
                "customers.secret_file".into(),
                "name the file holding the secret".into(),
            );
            None
        }
        (Some(file), None) => Some(SecretSource::File(super::paths::beside(base, file))),
        (None, Some(var)) if var.trim().is_empty() || var.contains('=') => {
            push(
                "customers.secret_env".into(),
                format!("'{var}' is not an environment variable's name"),
            );
            None
        }
        (None, Some(var)) => Some(SecretSource::Env(var)),
        (None, None) => None,
    };
    let repeat_days = match raw.repeat_days {
        None => DEFAULT_REPEAT_DAYS.to_vec(),
        Some(days) => {
            let mut out: Vec<u32> = Vec::new();
            for d in &days {
                match u32::try_from(*d) {
                    Ok(d) if (1..=366).contains(&d) && !out.contains(&d) => out.push(d),
                    _ => push(
                        "customers.repeat_days".into(),
                        format!("{d} is not a window: give whole days from 1 to 366, each once"),
                    ),
                }
            }
            if out.is_empty() || out.len() > 4 {
                push(
                    "customers.repeat_days".into(),
                    "give one to four windows, e.g. [7, 28]".into(),
                );
            }
            out.sort_unstable();
            out
        }
    };
    let placeholders = raw.placeholders.unwrap_or_default();
    if placeholders.iter().any(|p| p.trim().is_empty()) {
        push(
            "customers.placeholders".into(),
            "a placeholder is blank: blank identifiers never get a key anyway, remove it".into(),
        );
    }
    let max_contacts_per_day = match raw.max_contacts_per_day {
        None => DEFAULT_MAX_CONTACTS_PER_DAY,
        Some(n) => match u32::try_from(n) {
            Ok(n) if (2..=100_000).contains(&n) => n,
            _ => {
                push(
                    "customers.max_contacts_per_day".into(),
                    format!("{n} is not a limit: give a whole number from 2 to 100000, e.g. 20"),
                );
                DEFAULT_MAX_CONTACTS_PER_DAY
            }
        },
    };
    CustomerConfig {
        secret,
        repeat_days,
        placeholders,
        max_contacts_per_day,
    }
}

/// A source's `[sources.customer]`, checked against its kind.
pub(super) fn resolve_columns(
    raw: Option<RawCustomerColumns>,
    kind: SourceKind,
    counted: bool,
    source: &str,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> CustomerColumns {
    let Some(raw) = raw else {
        return CustomerColumns::default();
    };
    let columns = CustomerColumns {
        phone: raw.phone,
        email: raw.email,
        reference: raw.reference,
        reference_scheme: raw
            .reference_scheme
            .map(|s| s.trim().to_lowercase())
            .unwrap_or_else(|| source.to_string()),
    };
    let why_not = match kind {
        SourceKind::CallIntervals => Some("an interval export counts many calls in a row"),
        SourceKind::Satisfaction => Some("survey responses are not contacts"),
        _ if counted => Some("a row with a `count` stands for several contacts"),
        _ => None,
    };
    if let (Some(why), true) = (why_not, columns.any()) {
        push(
            format!("{key}.customer"),
            format!("{why}: no row is one customer's; remove [sources.customer] from this source"),
        );
    }
    if columns.reference_scheme.is_empty() {
        push(
            format!("{key}.customer.reference_scheme"),
            "name the kind of reference, e.g. council_tax_account".into(),
        );
    }
    columns
}

/// Every source that maps a customer identifier needs the secret to key it.
pub(super) fn check_secret(
    config: &CustomerConfig,
    sources: &[(String, bool)],
    push: &mut impl FnMut(String, String),
) {
    if config.secret.is_some() {
        return;
    }
    if let Some((key, _)) = sources.iter().find(|(_, maps)| *maps) {
        push(
            format!("{key}.customer"),
            "customer identifiers are stored only as keyed hashes: add [customers] with secret_file or secret_env naming the council's secret".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(raw: RawCustomers) -> (CustomerConfig, Vec<(String, String)>) {
        let mut out = Vec::new();
        let config = resolve(Some(raw), Path::new("/p"), &mut |k, m| out.push((k, m)));
        (config, out)
    }

    #[test]
    fn windows_are_checked_and_sorted() {
        let (config, errs) = problems(RawCustomers {
            repeat_days: Some(vec![28, 7]),
            secret_env: Some("CEX_SECRET".into()),
            ..Default::default()
        });
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(config.repeat_days, vec![7, 28]);
        assert_eq!(config.secret, Some(SecretSource::Env("CEX_SECRET".into())));
        for bad in [vec![0], vec![7, 7], vec![400], vec![], vec![1, 2, 3, 4, 5]] {
            let (_, errs) = problems(RawCustomers {
                repeat_days: Some(bad.clone()),
                ..Default::default()
            });
            assert!(
                errs.iter().any(|(k, _)| k == "customers.repeat_days"),
                "{bad:?}: {errs:?}"
            );
        }
    }

    #[test]
    fn placeholders_and_the_daily_limit_are_checked() {
        let (config, errs) = problems(RawCustomers {
            placeholders: Some(vec!["cc@example.gov.uk".into()]),
            max_contacts_per_day: Some(50),
            ..Default::default()
        });
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(config.placeholders, ["cc@example.gov.uk"]);
        assert_eq!(config.max_contacts_per_day, 50);
        assert_eq!(
            problems(RawCustomers::default()).0.max_contacts_per_day,
            DEFAULT_MAX_CONTACTS_PER_DAY
        );
        for bad in [0, 1, -3, 100_001] {
            let (_, errs) = problems(RawCustomers {
                max_contacts_per_day: Some(bad),
                ..Default::default()
            });
            assert!(
                errs.iter()
                    .any(|(k, _)| k == "customers.max_contacts_per_day"),
                "{bad}: {errs:?}"
            );
        }
        let (_, errs) = problems(RawCustomers {
            placeholders: Some(vec![" ".into()]),
            ..Default::default()
        });
        assert!(errs.iter().any(|(k, _)| k == "customers.placeholders"));
    }

    #[test]
    fn the_secret_comes_from_one_place() {
        let (_, errs) = problems(RawCustomers {
            secret_file: Some("key".into()),
            secret_env: Some("KEY".into()),
            ..Default::default()
        });
        assert_eq!(errs.len(), 1);
        let (config, errs) = problems(RawCustomers {
            secret_file: Some("key".into()),
            ..Default::default()
        });
        assert!(errs.is_empty());
        assert_eq!(
            config.secret,
            Some(SecretSource::File(PathBuf::from("/p/key")))
        );
    }

    #[test]
    fn rows_that_are_not_one_customers_cannot_carry_keys() {
        let raw = || {
            Some(RawCustomerColumns {
                phone: Some("CLI".into()),
                ..Default::default()
            })
        };
        for (kind, counted) in [
            (SourceKind::CallIntervals, false),
            (SourceKind::Satisfaction, false),
            (SourceKind::Calls, true),
        ] {
            let mut errs = Vec::new();
            resolve_columns(raw(), kind, counted, "s", "sources[0] (s)", &mut |k, m| {
                errs.push((k, m))
            });
            assert_eq!(errs.len(), 1, "{kind:?}");
        }
        let mut errs = Vec::new();
        let columns = resolve_columns(raw(), SourceKind::Calls, false, "s", "k", &mut |k, m| {
            errs.push((k, m))
        });
        assert!(errs.is_empty());
        assert_eq!(columns.reference_scheme, "s");
        let mut errs = Vec::new();
        check_secret(
            &CustomerConfig::default(),
            &[("sources[0] (s)".into(), true)],
            &mut |k, m| errs.push((k, m)),
        );
        assert_eq!(errs[0].0, "sources[0] (s).customer");
    }
}
