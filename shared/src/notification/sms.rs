//! Text messages as the networks count them: 160 GSM-7 septets in one message, or 70 UCS-2
//! characters once a single character falls outside GSM-7; longer texts are split into
//! segments of 153 or 67 and billed per segment.

/// GSM 03.38's basic character set (one septet each; `\u{1b}` is the escape, not a character).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table: two septets each (escape and character).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

const GSM7_SINGLE: usize = 160;
const GSM7_SEGMENT: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_SEGMENT: usize = 67;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// A text message with what it will cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsText {
    pub text: String,
    pub encoding: SmsEncoding,
    /// How many messages the network sends (and bills) for it.
    pub segments: usize,
}

impl SmsText {
    pub fn new(text: String) -> Self {
        let septets: Option<usize> = text
            .chars()
            .map(|c| {
                if GSM7_BASIC.contains(c) {
                    Some(1)
                } else if GSM7_EXTENSION.contains(c) {
                    Some(2)
                } else {
                    None
                }
            })
            .sum();
        let (encoding, length, single, segment) = match septets {
            Some(septets) => (SmsEncoding::Gsm7, septets, GSM7_SINGLE, GSM7_SEGMENT),
            None => (SmsEncoding::Ucs2, text.encode_utf16().count(), UCS2_SINGLE, UCS2_SEGMENT),
        };
        let segments = if length <= single { 1 } else { length.div_ceil(segment) };
        Self { text, encoding, segments }
    }

    /// The first candidate that fits one message; if none does, the last (the shortest, sent
    /// split, knowingly: `segments` says into how many).
    pub(crate) fn fit(candidates: impl IntoIterator<Item = String>) -> Option<Self> {
        let mut last = None;
        for candidate in candidates {
            let text = Self::new(candidate);
            if text.segments == 1 {
                return Some(text);
            }
            last = Some(text);
        }
        last
    }
}

fn is_gsm7(c: char) -> bool {
    GSM7_BASIC.contains(c) || GSM7_EXTENSION.contains(c)
}

/// The text with what GSM-7 lacks written as GSM-7 readers expect: accents it has no letter for
/// dropped (`août` as `aout`, `ç` as `c`; `é`, `ü`, `ñ` and the others it has stay), typographic
/// spaces, quotes and dashes made plain. What has no such spelling (`ł`, `€` is kept, emoji, CJK)
/// stays as it is, and the text stays UCS-2.
pub(super) fn gsm7_folded(text: &str) -> String {
    let nfd = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd();
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if is_gsm7(c) => folded.push(c),
            '\u{a0}' | '\u{202f}' | '\u{2009}' | '\u{2007}' => folded.push(' '),
            '‘' | '’' | '‚' => folded.push('\''),
            '“' | '”' | '„' | '«' | '»' => folded.push('"'),
            '–' | '—' | '‑' => folded.push('-'),
            '…' => folded.push_str("..."),
            other => {
                let mut buffer = [0u8; 4];
                let base: String =
                    nfd.normalize(other.encode_utf8(&mut buffer)).chars().filter(|c| is_gsm7(*c)).collect();
                if base.is_empty() { folded.push(other) } else { folded.push_str(&base) }
            }
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_gsm7_letters_and_spells_the_rest_as_gsm7_readers_expect() {
        assert_eq!(gsm7_folded("août, reçu, fête, île, hôtel, naïve"), "aout, recu, fete, ile, hotel, naive");
        assert_eq!(gsm7_folded("é è à ù ü ö ä ß ñ Ç €"), "é è à ù ü ö ä ß ñ Ç €", "GSM-7 has these");
        assert_eq!(gsm7_folded("12\u{202f}345,50\u{a0}€ – «oui» l’été…"), "12 345,50 € - \"oui\" l'été...");
        assert_eq!(gsm7_folded("Łódź 😀"), "Łodz 😀", "no GSM-7 spelling for Ł or an emoji");
        assert_eq!(SmsText::new(gsm7_folded("Crêperie: août")).encoding, SmsEncoding::Gsm7);
    }

    #[test]
    fn gsm7_texts_fit_160_septets_and_extension_characters_count_twice() {
        let plain = SmsText::new("a".repeat(160));
        assert_eq!((plain.encoding, plain.segments), (SmsEncoding::Gsm7, 1));
        assert_eq!(SmsText::new("a".repeat(161)).segments, 2);
        assert_eq!(SmsText::new("a".repeat(306)).segments, 2);
        assert_eq!(SmsText::new("a".repeat(307)).segments, 3);
        let euros = SmsText::new("€".repeat(80));
        assert_eq!((euros.encoding, euros.segments), (SmsEncoding::Gsm7, 1));
        assert_eq!(SmsText::new("€".repeat(81)).segments, 2);
        assert_eq!(SmsText::new("Café Müller, £5 @ 10:00 ¿ok?".to_owned()).encoding, SmsEncoding::Gsm7);
    }

    #[test]
    fn one_character_outside_gsm7_makes_it_ucs2_with_70_per_message() {
        let polish = SmsText::new(format!("Łódź{}", "a".repeat(66)));
        assert_eq!((polish.encoding, polish.segments), (SmsEncoding::Ucs2, 1));
        assert_eq!(SmsText::new(format!("ł{}", "a".repeat(70))).segments, 2);
        assert_eq!(SmsText::new("😀".repeat(35)).segments, 1, "an emoji is two UTF-16 units");
        assert_eq!(SmsText::new("ç".to_owned()).encoding, SmsEncoding::Ucs2, "only the capital Ç is GSM-7");
    }

    #[test]
    fn fit_takes_the_first_candidate_that_is_one_message_else_the_last() {
        let fitted = SmsText::fit(["a".repeat(200), "b".repeat(150), "c".repeat(10)]).unwrap();
        assert_eq!(fitted.text, "b".repeat(150));
        let split = SmsText::fit(["a".repeat(400), "b".repeat(170)]).unwrap();
        assert_eq!((split.text.len(), split.segments), (170, 2));
        assert_eq!(SmsText::fit(Vec::<String>::new()), None);
    }
}
