//! Address rules per country: postal-code shapes written canonically, required regions, and PO
//! boxes, which no courier hands an express parcel to.

use super::{
    contact::{Address, CountryCode},
    pricing::ShippingOption,
    text::Line,
};

/// The address field a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressField {
    Line1,
    Line2,
    Region,
    PostalCode,
    Country,
}

impl AddressField {
    pub fn name(self) -> &'static str {
        match self {
            Self::Line1 => "line1",
            Self::Line2 => "line2",
            Self::Region => "region",
            Self::PostalCode => "postal_code",
            Self::Country => "country",
        }
    }
}

/// Why an order cannot go where it is addressed, or not the way it asks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShippingRefusal {
    #[error("{reason}")]
    Address { field: AddressField, code: &'static str, reason: String },
    #[error("line {line}: this item cannot be shipped to {country}")]
    SkuNotShippable { line: usize, country: CountryCode },
    #[error("{option:?} shipping is not offered to {country}")]
    OptionNotOffered { option: ShippingOption, country: CountryCode },
}

impl ShippingRefusal {
    pub(super) fn address(field: AddressField, code: &'static str, reason: impl Into<String>) -> Self {
        Self::Address { field, code, reason: reason.into() }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Address { code, .. } => code,
            Self::SkuNotShippable { .. } => "sku_not_shippable",
            Self::OptionNotOffered { .. } => "shipping_option_not_offered",
        }
    }
}

/// How a country writes its postal codes: the shapes of the code with spaces and hyphens taken
/// out (`9` a digit, `A` a letter), and how to write a matching one canonically.
struct PostalFormat {
    shapes: &'static [&'static str],
    example: &'static str,
    canonical: fn(&str) -> String,
}

fn as_is(compact: &str) -> String {
    compact.to_owned()
}

/// `N19GU` → `N1 9GU`: the inward code is always the last three characters.
fn space_before_last_three(compact: &str) -> String {
    let split = compact.len().saturating_sub(3);
    format!("{} {}", &compact[..split], &compact[split..])
}

fn us_zip(compact: &str) -> String {
    if compact.len() == 9 { format!("{}-{}", &compact[..5], &compact[5..]) } else { compact.to_owned() }
}

fn nl_postcode(compact: &str) -> String {
    format!("{} {}", &compact[..4], &compact[4..])
}

fn jp_postcode(compact: &str) -> String {
    format!("{}-{}", &compact[..3], &compact[3..])
}

/// Postal rules, required regions and their codes, for the countries the rules know.
struct CountryRules {
    postal: PostalFormat,
    /// `Some(codes)`: the region is required and must be one of these; `Some(&[])`: required,
    /// free text (Japan's prefectures are written in several scripts).
    regions: Option<&'static [&'static str]>,
    /// Extra rule on a matching postal code (letters a country never uses, reserved ranges).
    postal_extra: fn(&str) -> bool,
}

fn any(_: &str) -> bool {
    true
}

const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "AA",
    "AE", "AP",
];
const CA_PROVINCES: &[&str] = &["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"];
const AU_STATES: &[&str] = &["ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA"];

/// Canada Post never uses D, F, I, O, Q or U, nor W or Z as the first letter.
fn canadian_letters(compact: &str) -> bool {
    let letters: Vec<char> = compact.chars().filter(char::is_ascii_alphabetic).collect();
    !letters.iter().any(|c| "DFIOQU".contains(*c)) && !letters.first().is_some_and(|c| "WZ".contains(*c))
}

/// Dutch postcodes start at 1000 and skip the letter pairs SA, SD and SS.
fn dutch_range(compact: &str) -> bool {
    !compact.starts_with('0') && !["SA", "SD", "SS"].contains(&&compact[4..])
}

fn rules(country: &str) -> Option<CountryRules> {
    let format = |shapes, example, canonical| PostalFormat { shapes, example, canonical };
    Some(match country {
        "US" => CountryRules {
            postal: format(&["99999", "999999999"], "94103 or 94103-1234", us_zip),
            regions: Some(US_STATES),
            postal_extra: any,
        },
        "CA" => CountryRules {
            postal: format(&["A9A9A9"], "K1A 0B1", space_before_last_three),
            regions: Some(CA_PROVINCES),
            postal_extra: canadian_letters,
        },
        "GB" => CountryRules {
            postal: format(
                &["A99AA", "A999AA", "AA99AA", "AA999AA", "A9A9AA", "AA9A9AA"],
                "SW1A 1AA",
                space_before_last_three,
            ),
            regions: None,
            postal_extra: any,
        },
        "DE" => CountryRules { postal: format(&["99999"], "10115", as_is), regions: None, postal_extra: any },
        "FR" => CountryRules { postal: format(&["99999"], "75008", as_is), regions: None, postal_extra: any },
        "NL" => CountryRules {
            postal: format(&["9999AA"], "1012 AB", nl_postcode),
            regions: None,
            postal_extra: dutch_range,
        },
        "AU" => CountryRules { postal: format(&["9999"], "2000", as_is), regions: Some(AU_STATES), postal_extra: any },
        "JP" => CountryRules {
            postal: format(&["9999999"], "100-0001", jp_postcode),
            regions: Some(&[]),
            postal_extra: any,
        },
        _ => return None,
    })
}

fn fits_shape(compact: &str, shape: &str) -> bool {
    compact.len() == shape.len()
        && compact.chars().zip(shape.chars()).all(|(c, s)| match s {
            '9' => c.is_ascii_digit(),
            'A' => c.is_ascii_uppercase(),
            literal => c == literal,
        })
}

fn line(text: &str) -> Result<Line, ShippingRefusal> {
    Line::parse(text)
        .map_err(|invalid| ShippingRefusal::address(AddressField::PostalCode, invalid.code, invalid.reason))
}

/// Words of an address line, lower-case, with dots dropped (`P.O.` is `po`) and accents folded.
fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .chars()
        .filter(|c| *c != '.')
        .map(|c| match c {
            'î' | 'Î' | 'ï' => 'i',
            'é' | 'è' | 'É' => 'e',
            other => other.to_ascii_lowercase(),
        })
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded.split_whitespace().map(str::to_owned).collect()
}

/// Post office boxes as people write them in the countries we ship to most.
const PO_BOX_PHRASES: &[&[&str]] = &[
    &["po", "box"],
    &["p", "o", "box"],
    &["pobox"],
    &["post", "office", "box"],
    &["gpo", "box"],
    &["postfach"],
    &["postbus"],
    &["boite", "postale"],
    &["locked", "bag"],
];

/// Whether a line of an address is a post office box rather than a door.
pub(crate) fn is_po_box(text: &str) -> bool {
    if text.contains("私書箱") {
        return true;
    }
    let words = words(text);
    PO_BOX_PHRASES.iter().any(|phrase| words.windows(phrase.len()).any(|window| window == *phrase))
}

/// Checks an address against its country's rules and returns it written canonically: postal
/// codes spaced and capitalised as the post writes them, region codes in capitals. A PO box
/// cannot take an express parcel, which a courier hands over in person.
pub(crate) fn check_address(address: &Address, option: ShippingOption) -> Result<Address, ShippingRefusal> {
    let mut checked = address.clone();
    for (field, text) in [(AddressField::Line1, Some(&address.line1)), (AddressField::Line2, address.line2.as_ref())] {
        if option == ShippingOption::Express && text.is_some_and(|text| is_po_box(text.as_str())) {
            return Err(ShippingRefusal::address(
                field,
                "po_box_not_allowed",
                "express parcels are handed over in person and cannot go to a PO box",
            ));
        }
    }
    let Some(rules) = rules(address.country.as_str()) else {
        return Ok(checked);
    };
    let raw_postal = address.postal_code.as_ref().ok_or_else(|| {
        ShippingRefusal::address(AddressField::PostalCode, "postal_code_required", "this country needs a postal code")
    })?;
    let compact: String =
        raw_postal.as_str().chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_ascii_uppercase()).collect();
    let matches = rules.postal.shapes.iter().any(|shape| fits_shape(&compact, shape)) && (rules.postal_extra)(&compact);
    if !matches {
        return Err(ShippingRefusal::address(
            AddressField::PostalCode,
            "invalid_postal_code",
            format!("is not a postal code of {}, such as {}", address.country, rules.postal.example),
        ));
    }
    checked.postal_code = Some(line(&(rules.postal.canonical)(&compact))?);
    if let Some(codes) = rules.regions {
        let region = address.region.as_ref().ok_or_else(|| {
            ShippingRefusal::address(AddressField::Region, "region_required", "this country needs a state or region")
        })?;
        if !codes.is_empty() {
            let code = region.as_str().to_ascii_uppercase();
            if !codes.contains(&code.as_str()) {
                return Err(ShippingRefusal::address(
                    AddressField::Region,
                    "invalid_region",
                    format!("is not a state or province code of {}", address.country),
                ));
            }
            checked.region = Some(line(&code)?);
        }
    }
    Ok(checked)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn address(country: &str, postal: Option<&str>, region: Option<&str>) -> Address {
        let text = |raw: &str| Line::parse(raw).unwrap();
        Address {
            name: text("Ada Lovelace"),
            line1: text("12 Analytical Row"),
            line2: None,
            city: text("Somewhere"),
            region: region.map(text),
            postal_code: postal.map(text),
            country: CountryCode::parse(country).unwrap(),
        }
    }

    pub(crate) fn refusal_code(result: Result<Address, ShippingRefusal>) -> &'static str {
        result.map(|_| "ok").unwrap_or_else(|refusal| refusal.code())
    }

    #[test]
    fn postal_codes_are_checked_and_written_canonically_per_country() {
        let valid = [
            ("US", "94103", Some("CA"), "94103"),
            ("US", "94103-1234", Some("ny"), "94103-1234"),
            ("US", "941031234", Some("TX"), "94103-1234"),
            ("CA", "k1a0b1", Some("ON"), "K1A 0B1"),
            ("CA", "M5V 3L9", Some("on"), "M5V 3L9"),
            ("GB", "sw1a1aa", None, "SW1A 1AA"),
            ("GB", "N1 9GU", None, "N1 9GU"),
            ("GB", "M1 1AE", None, "M1 1AE"),
            ("GB", "B33 8TH", None, "B33 8TH"),
            ("GB", "CR2 6XH", None, "CR2 6XH"),
            ("GB", "DN55 1PT", None, "DN55 1PT"),
            ("GB", "W1A 0AX", None, "W1A 0AX"),
            ("DE", "10115", None, "10115"),
            ("FR", "75008", None, "75008"),
            ("NL", "1012ab", None, "1012 AB"),
            ("NL", "3511 LX", None, "3511 LX"),
            ("AU", "2000", Some("NSW"), "2000"),
            ("JP", "100-0001", Some("Tokyo"), "100-0001"),
            ("JP", "1000001", Some("東京都"), "100-0001"),
        ];
        for (country, postal, region, canonical) in valid {
            let checked = check_address(&address(country, Some(postal), region), ShippingOption::Standard)
                .unwrap_or_else(|refusal| panic!("{country} {postal}: {refusal}"));
            assert_eq!(checked.postal_code.unwrap().as_str(), canonical, "{country} {postal}");
        }
        let invalid = [
            ("US", "9410", Some("CA")),
            ("US", "94103-12", Some("CA")),
            ("US", "ABCDE", Some("CA")),
            ("CA", "K1A 0B", Some("ON")),
            ("CA", "D1A 0B1", Some("ON")),
            ("CA", "W1A 0B1", Some("ON")),
            ("CA", "12345", Some("ON")),
            ("GB", "SW1A", None),
            ("GB", "12345", None),
            ("GB", "SW1A 1A1", None),
            ("DE", "1011", None),
            ("DE", "101155", None),
            ("FR", "7500A", None),
            ("NL", "0123 AB", None),
            ("NL", "1012 SS", None),
            ("NL", "1012", None),
            ("AU", "20000", Some("NSW")),
            ("JP", "100-001", Some("Tokyo")),
        ];
        for (country, postal, region) in invalid {
            let result = check_address(&address(country, Some(postal), region), ShippingOption::Standard);
            assert_eq!(refusal_code(result), "invalid_postal_code", "{country} {postal}");
        }
    }

    #[test]
    fn required_fields_depend_on_the_country() {
        let check = |country, postal, region| {
            refusal_code(check_address(&address(country, postal, region), ShippingOption::Standard))
        };
        assert_eq!(check("DE", None, None), "postal_code_required");
        assert_eq!(check("US", Some("94103"), None), "region_required");
        assert_eq!(check("US", Some("94103"), Some("XX")), "invalid_region");
        assert_eq!(check("CA", Some("K1A 0B1"), Some("Ontario")), "invalid_region");
        assert_eq!(check("AU", Some("2000"), None), "region_required");
        assert_eq!(check("JP", Some("100-0001"), None), "region_required");
        // A country without rules here takes what it is given; its own post knows best.
        assert_eq!(check("NZ", None, None), "ok");
        let region = check_address(&address("AU", Some("2000"), Some("nsw")), ShippingOption::Standard).unwrap().region;
        assert_eq!(region.unwrap().as_str(), "NSW");
    }

    #[test]
    fn a_po_box_may_take_standard_but_not_express_parcels() {
        for line in [
            "PO Box 123",
            "P.O. Box 9",
            "p o box 7",
            "Post Office Box 12",
            "GPO Box 1",
            "Postfach 10 01 01",
            "Postbus 51",
            "Boîte postale 7",
            "私書箱 12",
        ] {
            assert!(is_po_box(line), "{line}");
        }
        for line in ["12 Box Hill Road", "Poboxy Lane 3", "Postal Street 4", "Boxing Avenue 5"] {
            assert!(!is_po_box(line), "{line}");
        }
        let mut po_box = address("DE", Some("10115"), None);
        po_box.line2 = Some(Line::parse("Postfach 12 34").unwrap());
        assert_eq!(refusal_code(check_address(&po_box, ShippingOption::Standard)), "ok");
        match check_address(&po_box, ShippingOption::Express) {
            Err(ShippingRefusal::Address { field: AddressField::Line2, code: "po_box_not_allowed", .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
