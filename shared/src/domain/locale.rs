//! The customer's language: a BCP 47 tag as storefronts send it (`de-DE`, `fr-CA`, `nl`).

use icu_locale_core::LanguageIdentifier;

use super::{InvalidValue, text::checked_string, text::show_plainly};

/// RFC 5646 asks implementations to take tags of at least 35 characters; none we speak is longer.
const MAX_TAG_CHARS: usize = 35;

const INVALID_LOCALE: InvalidValue =
    InvalidValue::new("invalid_locale", "must be a BCP 47 language tag such as \"de-DE\" or \"fr\"");

checked_string!(
    /// A language identifier (language, optional script, region and variants) written
    /// canonically: `DE-de` is `de-DE`. Extensions and private use (`-u-…`, `-x-…`), POSIX
    /// spellings (`de_DE`) and the undetermined `und` are refused.
    Locale,
    check_locale
);
show_plainly!(Locale);

fn check_locale(raw: &str) -> Result<String, InvalidValue> {
    if raw.is_empty() || raw.len() > MAX_TAG_CHARS || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(INVALID_LOCALE);
    }
    let id = LanguageIdentifier::try_from_str(raw).map_err(|_| INVALID_LOCALE)?;
    if id.language.is_unknown() {
        return Err(INVALID_LOCALE);
    }
    Ok(id.to_string())
}

/// A language the customers' messages are written in: a storefront offers only locales in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Language {
    English,
    German,
    French,
    Dutch,
}

impl Language {
    #[cfg(test)]
    pub(crate) const ALL: [Language; 4] = [Self::English, Self::German, Self::French, Self::Dutch];

    /// The language a locale's messages are written in, if we write it.
    pub(crate) fn of(locale: &Locale) -> Option<Self> {
        match locale.language() {
            "en" => Some(Self::English),
            "de" => Some(Self::German),
            "fr" => Some(Self::French),
            "nl" => Some(Self::Dutch),
            _ => None,
        }
    }
}

impl Locale {
    /// `en`: what a storefront that names no locale writes in.
    pub(crate) fn english() -> Self {
        Self("en".to_owned())
    }

    /// The language subtag: `de` of `de-AT`.
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or_default()
    }

    /// The region subtag, if any: `AT` of `de-AT`, `419` of `es-419`.
    pub fn region(&self) -> Option<String> {
        // Checked when made: a canonical tag parses again.
        LanguageIdentifier::try_from_str(&self.0).ok()?.region.map(|region| region.as_str().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_written_canonically() {
        for (raw, canonical) in [
            ("de-DE", "de-DE"),
            ("DE-de", "de-DE"),
            ("fr", "fr"),
            ("EN-gb", "en-GB"),
            ("sr-latn-rs", "sr-Latn-RS"),
            ("es-419", "es-419"),
            ("nl-NL", "nl-NL"),
        ] {
            assert_eq!(Locale::parse(raw).unwrap().as_str(), canonical, "{raw}");
        }
        let austrian = Locale::parse("de-at").unwrap();
        assert_eq!((austrian.language(), austrian.region().as_deref()), ("de", Some("AT")));
        assert_eq!(Locale::parse("nl").unwrap().region(), None);
    }

    #[test]
    fn anything_else_is_refused_by_class() {
        for raw in [
            "",
            "de_DE",
            "de DE",
            " de",
            "de\u{200b}",
            "dé",
            "d",
            "deutsch-long-tag",
            "und",
            "en-GB-u-ca-buddhist",
            "x-klingon",
            "en--GB",
            "-en",
            "en-",
            "1234",
            &"a".repeat(36),
            "de-DE\n",
            "ｄｅ",
        ] {
            assert_eq!(Locale::parse(raw).map_err(|e| e.code), Err("invalid_locale"), "{raw:?}");
        }
    }

    #[test]
    fn only_the_languages_written_here_are_offered() {
        let of = |tag: &str| Language::of(&Locale::parse(tag).unwrap());
        assert_eq!(of("de-AT"), Some(Language::German));
        assert_eq!(of("nl-BE"), Some(Language::Dutch));
        assert_eq!(of("en-US"), Some(Language::English));
        assert_eq!(of("fr-CA"), Some(Language::French));
        assert_eq!(of("es-ES"), None);
        for (tag, language) in ["en", "de", "fr", "nl"].into_iter().zip(Language::ALL) {
            assert_eq!(of(tag), Some(language));
        }
    }
}
