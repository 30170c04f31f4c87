//! The ports' implementations on real services, each behind the cargo feature of its SDK: the
//! domain and the use cases never name one.

pub mod carriers;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "https")]
pub(crate) mod https;
#[cfg(feature = "desk")]
pub mod identity;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "ses")]
pub mod ses;
pub mod ses_feedback;
#[cfg(feature = "sns")]
pub mod sns_events;
#[cfg(feature = "sns")]
pub mod sns_sms;
#[cfg(feature = "sqs")]
pub mod sqs;
#[cfg(feature = "stripe")]
pub mod stripe;
pub mod stripe_webhooks;

#[cfg(any(feature = "ses", feature = "sns"))]
mod messages;
