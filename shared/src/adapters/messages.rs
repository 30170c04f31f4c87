//! How a customer message is handed to SES or SNS: at most once per attempt. Neither takes an
//! idempotency key, so a send whose answer was lost cannot be told from one that never went
//! out; sending it again is how a customer gets the same e-mail twice. The SDK's own retries
//! are off for these clients, and a send is tried again here only when the provider said it
//! did not send (it throttled us, or refused the request); any other failure says whether the
//! message may have gone, for the notifier's ledger to decide.

use std::{future::Future, time::Duration};

use aws_smithy_runtime_api::{client::result::SdkError, http::Response};

use crate::notification::ChannelError;

/// Hands a message to the provider at most once, as [`send_at_most_once`] does: the provider's
/// message id, or the channel's error (made by `failed`) saying whether the message may have
/// gone all the same.
pub(crate) async fn hand_over<T, E, F, Fut>(
    send: F,
    failed: impl FnOnce(SdkError<E, Response>) -> ChannelError,
    message_id: impl FnOnce(T) -> Option<String>,
) -> Result<String, ChannelError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, Response>>>,
{
    match send_at_most_once(send).await {
        Ok(output) => Ok(message_id(output).unwrap_or_default()),
        Err(error) => {
            let gone = may_have_gone(&error);
            Err(failed(error).may_have_gone(gone))
        }
    }
}

/// Tries a send up to three times while the provider refuses it before sending; backs off
/// 100, then 200 ms between tries.
async fn send_at_most_once<T, E, F, Fut>(mut send: F) -> Result<T, SdkError<E, Response>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, Response>>>,
{
    let mut pause = Duration::from_millis(100);
    for _ in 0..2 {
        match send().await {
            Err(error) if !may_have_gone(&error) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            done => return done,
        }
    }
    send().await
}

/// Whether a failed send may have been carried out all the same: the provider failed (5xx) or
/// did not answer in time once the request was out. A 4xx answer, a request never built and a
/// connection never made say it was not.
fn may_have_gone<E>(error: &SdkError<E, Response>) -> bool {
    match error {
        SdkError::ServiceError(context) => context.raw().status().is_server_error(),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        _ => false,
    }
}
