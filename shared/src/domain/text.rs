//! Validated text values: every constructor checks, so a value that exists is valid.

use std::fmt;

/// Why a value was refused. `code` is stable and reaches API clients; `reason` is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidValue {
    pub code: &'static str,
    pub reason: &'static str,
}

impl InvalidValue {
    pub const fn new(code: &'static str, reason: &'static str) -> Self {
        Self { code, reason }
    }
}

/// Defines a string newtype whose only ways in are `parse`, `TryFrom<String>` and `Deserialize`,
/// all through the same check.
macro_rules! checked_string {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, $crate::domain::InvalidValue> {
                $check(raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::InvalidValue;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::InvalidValue;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }
    };
}
pub(crate) use checked_string;

/// Implements `Display` and `Debug` as the plain value, for values that are not personal data.
macro_rules! show_plainly {
    ($($name:ident),+) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    )+};
}
pub(crate) use show_plainly;

const MAX_LINE_CHARS: usize = 200;

fn check_line(raw: &str) -> Result<String, InvalidValue> {
    if raw.trim().is_empty() {
        return Err(InvalidValue::new("empty_value", "must not be empty"));
    }
    if raw.chars().count() > MAX_LINE_CHARS {
        return Err(InvalidValue::new("too_long", "must be at most 200 characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err(InvalidValue::new("invalid_characters", "must not contain control characters"));
    }
    Ok(raw.trim().to_owned())
}

checked_string!(
    /// One line of human text: a name, a street, a city. Trimmed, 1 to 200 characters, no
    /// control characters. Personal data: `Debug` hides it.
    Line,
    check_line
);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Line(<{} chars>)", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_and_bounded() {
        assert_eq!(Line::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(Line::parse("   ").unwrap_err().code, "empty_value");
        assert_eq!(Line::parse(&"x".repeat(201)).unwrap_err().code, "too_long");
        assert_eq!(Line::parse("a\u{0}b").unwrap_err().code, "invalid_characters");
        assert!(Line::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn a_line_does_not_show_itself_in_debug_output() {
        let line = Line::parse("10 Downing Street").unwrap();
        assert_eq!(format!("{line:?}"), "Line(<17 chars>)");
    }

    #[test]
    fn deserialising_runs_the_same_check() {
        assert!(serde_json::from_str::<Line>("\"\"").is_err());
        assert_eq!(serde_json::from_str::<Line>("\"Paris\"").unwrap().as_str(), "Paris");
    }
}
