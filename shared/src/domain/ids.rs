//! Identifiers and counts with rules: order ids, SKUs, storefronts, idempotency keys, quantities.

use super::text::{InvalidValue, checked_string, show_plainly};

const ORDER_ID_PREFIX: &str = "ord_";
/// Crockford's base32: no I, L, O or U, so ids survive being read aloud or retyped.
const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 128 random bits, 5 bits a character.
const ORDER_ID_RANDOM_CHARS: usize = 26;

fn check_order_id(raw: &str) -> Result<String, InvalidValue> {
    let invalid = InvalidValue::new("invalid_order_id", "is not an Orderflow order id");
    let random = raw.strip_prefix(ORDER_ID_PREFIX).ok_or(invalid)?;
    if random.len() == ORDER_ID_RANDOM_CHARS && random.bytes().all(|b| CROCKFORD.contains(&b)) {
        Ok(raw.to_owned())
    } else {
        Err(invalid)
    }
}

checked_string!(
    /// An order's id: `ord_` and 128 random bits, so ids can be neither guessed nor enumerated.
    OrderId,
    check_order_id
);

impl OrderId {
    /// Where this order falls among `slots` (FNV-1a of the id): one stable spread of orders over
    /// stock counters, index shards and retry delays.
    pub fn slot(&self, slots: usize) -> usize {
        let hash = self
            .as_str()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
        let slots = u64::try_from(slots.max(1)).unwrap_or(u64::MAX);
        usize::try_from(hash % slots).unwrap_or(0)
    }

    /// A new id from the operating system's random source.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self::from_random_bits(u128::from_be_bytes(bytes)))
    }

    fn from_random_bits(bits: u128) -> Self {
        let mut id = String::with_capacity(ORDER_ID_PREFIX.len() + ORDER_ID_RANDOM_CHARS);
        id.push_str(ORDER_ID_PREFIX);
        for position in (0..ORDER_ID_RANDOM_CHARS).rev() {
            let index = (bits >> (position * 5)) & 0x1f;
            id.push(char::from(CROCKFORD[index as usize]));
        }
        Self(id)
    }
}

fn check_sku(raw: &str) -> Result<String, InvalidValue> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    match raw.len() {
        0 => Err(InvalidValue::new("empty_value", "must not be empty")),
        1..=64 if raw.chars().all(valid_char) => Ok(raw.to_owned()),
        1..=64 => Err(InvalidValue::new("invalid_sku", "may contain only letters, digits, '-', '_' and '.'")),
        _ => Err(InvalidValue::new("invalid_sku", "must be at most 64 characters")),
    }
}

checked_string!(
    /// A stock-keeping unit: 1 to 64 letters, digits, `-`, `_` or `.`.
    Sku,
    check_sku
);

/// Printable ASCII other than space, which keeps a value safe inside a composite DynamoDB key.
fn check_token(raw: &str, max: usize, code: &'static str, reason: &'static str) -> Result<String, InvalidValue> {
    if raw.is_empty() {
        return Err(InvalidValue::new("empty_value", "must not be empty"));
    }
    if raw.len() <= max && raw.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(raw.to_owned())
    } else {
        Err(InvalidValue::new(code, reason))
    }
}

fn check_storefront_id(raw: &str) -> Result<String, InvalidValue> {
    // `#` separates the parts of the idempotency claim's key (storefront, then the client's
    // key): a storefront named `a#b` could otherwise claim storefront `a`'s key `b#c`.
    if raw.contains('#') {
        return Err(InvalidValue::new("invalid_storefront", "must not contain '#'"));
    }
    check_token(raw, 128, "invalid_storefront", "must be 1 to 128 printable ASCII characters")
}

checked_string!(
    /// The storefront that owns an order: the `sub` claim of the token it called the API with.
    StorefrontId,
    check_storefront_id
);

fn check_idempotency_key(raw: &str) -> Result<String, InvalidValue> {
    // API Gateway joins a header sent twice with a comma: a key with one was sent twice.
    let reason = "must be sent once, as 1 to 255 printable ASCII characters other than ','";
    if raw.contains(',') {
        return Err(InvalidValue::new("invalid_idempotency_key", reason));
    }
    check_token(raw, 255, "invalid_idempotency_key", reason)
}

checked_string!(
    /// A client's `Idempotency-Key`: the same key names the same request.
    IdempotencyKey,
    check_idempotency_key
);

/// The prefixes of the payment provider's ids for a way to pay: a PaymentMethod, a card token,
/// a card and a source.
const PAYMENT_METHOD_PREFIXES: [&str; 4] = ["pm_", "tok_", "card_", "src_"];

fn check_payment_method(raw: &str) -> Result<String, InvalidValue> {
    if super::holds_card_number(raw) {
        return Err(super::CARD_NUMBER);
    }
    let valid = (1..=255).contains(&raw.len())
        && PAYMENT_METHOD_PREFIXES.iter().any(|prefix| raw.len() > prefix.len() && raw.starts_with(prefix))
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(InvalidValue::new("invalid_payment_method", "must be a payment provider's token such as pm_card_visa"))
    }
}

checked_string!(
    /// The payment provider's token for how the customer pays (`pm_…`). Card data never
    /// reaches Orderflow: the storefront tokenises it with the provider.
    PaymentMethodId,
    check_payment_method
);

/// An id another system gave us (the payment provider, a carrier) or one we give a partner:
/// 1 to 255 printable ASCII characters, kept as written.
fn check_reference(raw: &str) -> Result<String, InvalidValue> {
    check_token(raw, 255, "invalid_reference", "must be 1 to 255 printable ASCII characters")
}

/// String newtypes checked by [`check_reference`], shown as written.
macro_rules! reference_ids {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {
        $(checked_string!($(#[$meta])* $name, check_reference);)+
        show_plainly!($($name),+);
    };
}

reference_ids! {
    /// The payment provider's id of an authorisation (a PaymentIntent, `pi_…`, for Stripe).
    AuthorizationId,
    /// The payment provider's id of a refund (`re_…` for Stripe).
    RefundId,
    /// A return's merchandise authorisation (`RMA-…`): what the customer writes on the parcel and
    /// the warehouse's receipt names.
    Rma,
    /// The carrier's id of one tracking event: with its [`WebhookSource`], what makes it unique.
    CarrierEventId,
    /// The carrier route a tracking event came in by (`easypost`, `aftership`).
    WebhookSource,
    /// The payment provider's id of a dispute (a chargeback; `dp_…` for Stripe).
    DisputeId,
    /// The payment provider's id of one webhook event (`evt_…` for Stripe).
    ProviderEventId,
    /// API Gateway's id of one request: joins an operator's change to the access and audit logs.
    RequestId,
}

impl Rma {
    /// One return per order, so its number derives from the order's id (whose letters and digits
    /// always make a valid reference).
    pub(crate) fn for_order(order: &OrderId) -> Self {
        let id = order.as_str();
        Self(format!("RMA-{}", id[id.len().saturating_sub(10)..].to_ascii_uppercase()))
    }
}

fn check_operator(raw: &str) -> Result<String, InvalidValue> {
    let valid = (1..=255).contains(&raw.chars().count()) && !raw.chars().any(super::is_hidden_or_control);
    if valid { Ok(raw.to_owned()) } else { Err(InvalidValue::new("invalid_operator", "is not an operator's name")) }
}

checked_string!(
    /// The operator who acted: the `sub` claim of their token.
    OperatorId,
    check_operator
);

show_plainly!(OrderId, Sku, StorefrontId, IdempotencyKey, PaymentMethodId, OperatorId);

/// How many units of one SKU a line orders: 1 to 999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u64", into = "u16")]
pub struct Quantity(u16);

impl Quantity {
    pub const MAX: u16 = 999;

    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u64> for Quantity {
    type Error = InvalidValue;
    fn try_from(raw: u64) -> Result<Self, InvalidValue> {
        match u16::try_from(raw) {
            Ok(units @ 1..=Self::MAX) => Ok(Self(units)),
            _ => Err(InvalidValue::new("invalid_quantity", "must be a whole number from 1 to 999")),
        }
    }
}

impl From<Quantity> for u16 {
    fn from(quantity: Quantity) -> u16 {
        quantity.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn random_order_ids_are_valid_and_distinct() {
        let first = OrderId::random().unwrap();
        let second = OrderId::random().unwrap();
        assert_ne!(first, second);
        assert_eq!(OrderId::parse(first.as_str()).unwrap(), first);
        assert_eq!(first.as_str().len(), 30);
    }

    #[test]
    fn order_ids_are_checked() {
        for bad in [
            "",
            "ord_",
            "ord_0123456789abcdefghjkmnpqr",
            "ORD_0123456789abcdefghjkmnpqrs",
            "ord_0123456789abcdefghjkmnpqri",
        ] {
            assert_eq!(OrderId::parse(bad).unwrap_err().code, "invalid_order_id", "{bad}");
        }
        assert!(OrderId::parse("ord_0123456789abcdefghjkmnpqrs").is_ok());
    }

    proptest! {
        #[test]
        fn every_128_bit_value_encodes_to_a_valid_distinct_id(a: u128, b: u128) {
            let (id_a, id_b) = (OrderId::from_random_bits(a), OrderId::from_random_bits(b));
            prop_assert!(OrderId::parse(id_a.as_str()).is_ok());
            prop_assert_eq!(a == b, id_a == id_b);
        }

        #[test]
        fn quantities_are_accepted_exactly_from_1_to_999(units: u64) {
            prop_assert_eq!(Quantity::try_from(units).is_ok(), (1..=999).contains(&units));
        }
    }

    #[test]
    fn skus_are_checked() {
        assert!(Sku::parse("TSHIRT-RED_L.2").is_ok());
        assert_eq!(Sku::parse("").unwrap_err().code, "empty_value");
        assert_eq!(Sku::parse("red shirt").unwrap_err().code, "invalid_sku");
        assert_eq!(Sku::parse(&"A".repeat(65)).unwrap_err().code, "invalid_sku");
    }

    #[test]
    fn tokens_refuse_spaces_and_oversize() {
        assert!(IdempotencyKey::parse("3f2a-checkout-17").is_ok());
        assert_eq!(IdempotencyKey::parse("a b").unwrap_err().code, "invalid_idempotency_key");
        assert_eq!(IdempotencyKey::parse(&"k".repeat(256)).unwrap_err().code, "invalid_idempotency_key");
        assert_eq!(StorefrontId::parse("").unwrap_err().code, "empty_value");
        assert_eq!(StorefrontId::parse("shop#b").unwrap_err().code, "invalid_storefront");
    }
}
