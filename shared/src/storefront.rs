//! The shops behind the storefronts, as their customers know them: each one's name, support,
//! site and the locales it offers, and the `NotificationPolicy` template parameter that holds
//! them with the rules of when customers hear from us. Intake takes an order's locale from here;
//! the notifier its shop's voice.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::{Language, Locale, StorefrontId};

/// The shop as its customers know it, per storefront.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorefrontProfile {
    /// The shop's name, in subjects, greetings and text messages.
    pub name: String,
    pub support_email: String,
    #[serde(default)]
    pub support_phone: Option<String>,
    /// The shop's site; order pages and the feedback form are under it.
    pub website: String,
    /// Whether the confirmation e-mail carries "you may also like".
    #[serde(default = "yes")]
    pub recommendations: bool,
    /// The locales its customers may choose, the storefront's own first: an order without one
    /// is written in that. Each must be in a language we write ([`Language`]).
    #[serde(default = "english")]
    pub locales: Vec<Locale>,
}

fn english() -> Vec<Locale> {
    vec![Locale::english()]
}

/// Why an order's locale is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the storefront writes to its customers in {}", offered.join(", "))]
pub(crate) struct UnsupportedLocale {
    pub offered: Vec<String>,
}

impl StorefrontProfile {
    /// The locale orders take when they name none.
    pub(crate) fn default_locale(&self) -> Locale {
        // `NotificationPolicy::parse` refuses a storefront without locales.
        self.locales.first().cloned().unwrap_or_else(|| english().remove(0))
    }

    /// The locale an order is written in: the one it asks for if the storefront offers it
    /// (canonical tags compare exactly: `de-AT` is not `de-DE`), else the storefront's own.
    pub(crate) fn locale_for(&self, requested: Option<&Locale>) -> Result<Locale, UnsupportedLocale> {
        match requested {
            None => Ok(self.default_locale()),
            Some(locale) if self.locales.contains(locale) => Ok(locale.clone()),
            Some(_) => Err(UnsupportedLocale { offered: self.locales.iter().map(ToString::to_string).collect() }),
        }
    }
}

fn yes() -> bool {
    true
}

fn feedback_days() -> u16 {
    7
}

fn decision_seconds() -> u16 {
    20
}

/// The `NotificationPolicy` template parameter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationPolicy {
    /// Days after delivery before the feedback request goes out.
    #[serde(default = "feedback_days")]
    pub feedback_after_days: u16,
    /// How long "we've received your order" waits for the order's first decision (confirmed,
    /// held, rejected, declined, cancelled): one in that time says all it would have, so the
    /// customer hears one message, in order. 0 sends it at once.
    #[serde(default = "decision_seconds")]
    pub received_waits_seconds: u16,
    /// Profiles by storefront id; `*` is every storefront not named.
    pub storefronts: BTreeMap<String, StorefrontProfile>,
    /// Tracking page by carrier name, `{tracking_number}` in place of the number.
    #[serde(default)]
    pub tracking_urls: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid notification policy: {0}")]
pub struct InvalidNotificationPolicy(String);

/// Storefronts not named in the policy use this profile.
const DEFAULT_STOREFRONT: &str = "*";

impl NotificationPolicy {
    pub fn parse(json: &str) -> Result<Self, InvalidNotificationPolicy> {
        let policy: Self = serde_json::from_str(json).map_err(|error| InvalidNotificationPolicy(error.to_string()))?;
        if !policy.storefronts.contains_key(DEFAULT_STOREFRONT) {
            return Err(InvalidNotificationPolicy(format!("storefronts must have a \"{DEFAULT_STOREFRONT}\" profile")));
        }
        if policy.feedback_after_days == 0 {
            return Err(InvalidNotificationPolicy("feedback_after_days must be at least 1".to_owned()));
        }
        for (id, shop) in &policy.storefronts {
            if shop.locales.is_empty() {
                return Err(InvalidNotificationPolicy(format!("storefront {id} has no locales")));
            }
            if let Some(unwritten) = shop.locales.iter().find(|locale| Language::of(locale).is_none()) {
                return Err(InvalidNotificationPolicy(format!(
                    "storefront {id} offers {unwritten}, a language we have no messages in"
                )));
            }
            if let Some(twice) =
                shop.locales.iter().enumerate().find(|(at, locale)| shop.locales[..*at].contains(locale))
            {
                return Err(InvalidNotificationPolicy(format!("storefront {id} lists {} twice", twice.1)));
            }
        }
        if let Some((carrier, _)) = policy.tracking_urls.iter().find(|(_, url)| !url.contains("{tracking_number}")) {
            return Err(InvalidNotificationPolicy(format!("the tracking URL of {carrier} has no {{tracking_number}}")));
        }
        Ok(policy)
    }

    /// `NOTIFICATION_POLICY`, checked.
    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        let name = "NOTIFICATION_POLICY";
        Self::parse(&env.get(name)?)
            .map_err(|error| crate::config::ConfigError::Malformed { name, source: Box::new(error) })
    }

    pub fn storefront(&self, id: &StorefrontId) -> &StorefrontProfile {
        self.storefronts.get(id.as_str()).or_else(|| self.storefronts.get(DEFAULT_STOREFRONT)).unwrap_or(&FALLBACK)
    }

    /// The carrier's tracking page for this parcel, if the policy knows the carrier.
    pub(crate) fn tracking_url(&self, carrier: &str, tracking_number: &str) -> Option<String> {
        let template = self
            .tracking_urls
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(carrier))
            .map(|(_, template)| template)?;
        let encoded: String =
            tracking_number.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
        Some(template.replace("{tracking_number}", &encoded))
    }
}

/// Only reachable for a policy built in code without `*`: `parse` refuses those.
static FALLBACK: StorefrontProfile = StorefrontProfile {
    name: String::new(),
    support_email: String::new(),
    support_phone: None,
    website: String::new(),
    recommendations: false,
    locales: Vec::new(),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_needs_a_default_storefront_locales_we_write_and_tracking_urls_with_the_number() {
        let base =
            r#""storefronts": {"*": {"name": "S", "support_email": "s@x.example", "website": "https://x.example"}}"#;
        let policy = NotificationPolicy::parse(&format!("{{{base}}}")).unwrap();
        assert_eq!(policy.feedback_after_days, 7);
        let any = policy.storefront(&crate::domain::StorefrontId::parse("any").unwrap());
        assert!(any.recommendations);
        assert_eq!(any.default_locale().as_str(), "en", "a storefront that names none writes English");
        let shop = |locales: &str| {
            format!(
                r#"{{"storefronts": {{"*": {{"name": "S", "support_email": "s@x.example", "website": "https://x.example", "locales": {locales}}}}}}}"#
            )
        };
        assert!(NotificationPolicy::parse(&shop(r#"["nl-BE", "fr-BE"]"#)).is_ok());
        for bad in [
            shop("[]"),
            shop(r#"["es-ES"]"#),
            shop(r#"["de-DE", "de-de"]"#),
            shop(r#"["de_DE"]"#),
            r#"{"storefronts": {}}"#.to_owned(),
            format!(r#"{{{base}, "feedback_after_days": 0}}"#),
            format!(r#"{{{base}, "tracking_urls": {{"ups": "https://ups.example/track"}}}}"#),
            format!(r#"{{{base}, "colour": "red"}}"#),
        ] {
            assert!(NotificationPolicy::parse(&bad).is_err(), "{bad}");
        }
        let tracked = NotificationPolicy::parse(&format!(
            r#"{{{base}, "tracking_urls": {{"DHLExpress": "https://dhl.example/track?AWB={{tracking_number}}"}}}}"#
        ))
        .unwrap();
        assert_eq!(
            tracked.tracking_url("dhlexpress", "JJD 0003/9?x").as_deref(),
            Some("https://dhl.example/track?AWB=JJD00039x")
        );
        assert_eq!(tracked.tracking_url("UPS", "1Z"), None);
    }
}
