//! Keyed hashes of what a customer gives to find their orders (an e-mail address, a phone
//! number): the index keys that group a customer's orders within a storefront without holding
//! their details in clear, and that nobody without the key can compute from a guessed address.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{
    contact::{EmailAddress, PhoneNumber},
    ids::StorefrontId,
    parcels::TrackingNumber,
};

/// The key that leads from a parcel's tracking number to its order: a keyed hash, the same
/// whichever storefront's order it is (a carrier's event names no storefront).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelKey(String);

impl ParcelKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shortest key accepted: 256 bits, as HMAC-SHA-256 wants.
pub const MIN_LOOKUP_KEY_BYTES: usize = 32;

/// The secret the lookup keys are made with. Changing it loses every order's index entries
/// until they are written again: it is not rotated.
#[derive(Clone)]
pub struct LookupKey {
    secret: Vec<u8>,
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupKey(..)")
    }
}

impl PartialEq for LookupKey {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a lookup key must be at least {MIN_LOOKUP_KEY_BYTES} bytes")]
pub struct ShortLookupKey;

impl LookupKey {
    pub fn new(secret: &[u8]) -> Result<Self, ShortLookupKey> {
        if secret.len() < MIN_LOOKUP_KEY_BYTES {
            return Err(ShortLookupKey);
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| ShortLookupKey)?;
        Ok(Self { secret: secret.to_vec(), mac })
    }

    /// The index key of a customer's e-mail address within a storefront; addresses differing
    /// only in case are one customer.
    pub fn customer(&self, storefront: &StorefrontId, email: &EmailAddress) -> String {
        self.keyed(storefront, "email", &email.as_str().to_lowercase())
    }

    /// The index key of a customer's phone number (E.164) within a storefront.
    pub fn phone(&self, storefront: &StorefrontId, phone: &PhoneNumber) -> String {
        self.keyed(storefront, "phone", phone.as_str())
    }

    /// The lookup key of a parcel's tracking number.
    pub fn parcel(&self, tracking_number: &TrackingNumber) -> ParcelKey {
        ParcelKey(self.digest(&["", "parcel", tracking_number.as_str()]))
    }

    fn keyed(&self, storefront: &StorefrontId, kind: &str, value: &str) -> String {
        format!("{storefront}#{kind}#{}", self.digest(&[storefront.as_str(), kind, value]))
    }

    fn digest(&self, parts: &[&str]) -> String {
        let mut mac = self.mac.clone();
        // Length-prefixed parts: no two different inputs hash the same bytes.
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_keys_are_keyed_per_storefront_and_never_hold_the_address() {
        let key = LookupKey::new(&[7; 32]).unwrap();
        let other = LookupKey::new(&[8; 32]).unwrap();
        let shop: StorefrontId = "shop-a".parse().unwrap();
        let email: EmailAddress = "Ana.Lima@example.com".parse().unwrap();
        let lower: EmailAddress = "ana.lima@example.com".parse().unwrap();
        let customer = key.customer(&shop, &email);
        assert_eq!(customer, key.customer(&shop, &lower), "one customer whatever the case");
        assert!(customer.starts_with("shop-a#email#") && !customer.contains("ana"));
        assert_ne!(customer, other.customer(&shop, &email), "another key, another index key");
        assert_ne!(customer, key.customer(&"shop-b".parse().unwrap(), &email));
        let phone: PhoneNumber = "+31612345678".parse().unwrap();
        assert!(!key.phone(&shop, &phone).contains("612345678"));
        let parcel: TrackingNumber = "JJD000390007891234567".parse().unwrap();
        assert!(!key.parcel(&parcel).as_str().contains("JJD"));
        assert_ne!(key.parcel(&parcel), other.parcel(&parcel));
        assert_eq!(LookupKey::new(&[1; 31]), Err(ShortLookupKey));
    }
}
