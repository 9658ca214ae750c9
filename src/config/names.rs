//! The names a setting's values have in a pipeline file (`kind = "calls"`, `durations =
//! "minutes"`): one table per enum, given by [`named!`], from which the enum gets its names, its
//! parser and the list of accepted names its error message shows, so these cannot drift apart.

/// An enum whose values a pipeline file gives by name; implemented by [`named!`].
pub(crate) trait Named: Sized {
    /// Its values' names as messages list them, one per value (synonyms are not listed).
    const NAMES: &'static [&'static str];
    /// The value a name means, synonyms included; `None` for any other text.
    fn from_name(name: &str) -> Option<Self>;
}

/// Gives an enum `NAMES`, `from_name` and `as_str` (and [`Named`]) from one table:
/// `Variant = "name" | "synonym" | ...`, the first name being the one shown.
macro_rules! named {
    ($ty:ident { $($variant:ident = $name:literal $(| $alias:literal)*,)+ }) => {
        impl $ty {
            /// Its values' names in a pipeline file as messages list them (not the synonyms).
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// Every name a pipeline file may write, synonyms included (the schema's `enum`).
            #[allow(dead_code)]
            pub const ACCEPTED: &'static [&'static str] = &[$($name $(, $alias)*),+];

            /// The value a pipeline file names, synonyms included; `None` for any other text.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name $(| $alias)* => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// This value's name in a pipeline file.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }

        // The inherent items above take precedence over the trait's in these paths.
        impl $crate::config::names::Named for $ty {
            const NAMES: &'static [&'static str] = $ty::NAMES;
            fn from_name(name: &str) -> Option<Self> {
                $ty::from_name(name)
            }
        }
    };
}
pub(crate) use named;

/// A setting given by name: `None` when the key is absent. A name that means nothing is one
/// problem at `key` ("'x' is not a, b or c", listing every accepted name) and gives `None`
/// too, so the caller's default applies and validation carries on.
pub(crate) fn setting<T: Named>(
    value: Option<&str>,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> Option<T> {
    let value = value?;
    let found = T::from_name(value);
    if found.is_none() {
        push(
            key.to_string(),
            format!("'{value}' is not {}", either(T::NAMES)),
        );
    }
    found
}

/// `a, b or c`: the names a setting accepts, as a message lists them.
pub(crate) fn either(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Compiles a regular expression from the pipeline file, or says in one line why it is not one
/// (the regex crate's last line: "error: unclosed group").
pub(crate) fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| {
        let text = e.to_string();
        format!(
            "not a regular expression ({})",
            text.lines().last().unwrap_or("invalid").trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Speed {
        Slow,
        Fast,
    }
    named!(Speed {
        Slow = "slow",
        Fast = "fast" | "quick",
    });

    #[test]
    fn one_table_gives_names_parser_and_message() {
        assert_eq!(Speed::NAMES, ["slow", "fast"]);
        assert_eq!(Speed::ACCEPTED, ["slow", "fast", "quick"]);
        assert_eq!(Speed::from_name("quick"), Some(Speed::Fast));
        assert_eq!(Speed::from_name("Fast"), None);
        assert_eq!(Speed::Fast.as_str(), "fast");
        let mut problems = Vec::new();
        let mut push = |k: String, m: String| problems.push(format!("{k}: {m}"));
        assert_eq!(setting::<Speed>(None, "speed", &mut push), None);
        assert_eq!(setting(Some("slow"), "speed", &mut push), Some(Speed::Slow));
        assert_eq!(setting::<Speed>(Some("warp"), "speed", &mut push), None);
        assert_eq!(problems, ["speed: 'warp' is not slow or fast"]);
    }

    #[test]
    fn names_are_listed_as_a_sentence() {
        assert_eq!(either(&["a"]), "a");
        assert_eq!(either(&["a", "b"]), "a or b");
        assert_eq!(either(&["a", "b", "c"]), "a, b or c");
        assert_eq!(either(&[]), "");
    }
}
