//! Secrets kept in Secrets Manager, not in the functions' environment (where anyone allowed
//! `lambda:GetFunctionConfiguration` reads them): read on first use, kept for the life of the
//! process, and read again when whoever checks the secret refuses it, which is how a rotated
//! secret reaches a warm function without a redeploy.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use aws_sdk_secretsmanager::Client;

/// A refused secret is read again at once, the first time; after that at most this often, so a
/// caller who keeps failing the check (an attacker's bad signatures, say) cannot turn each
/// request into a Secrets Manager call.
const REREAD_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("Secrets Manager could not be read")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the secret {id} cannot be used: {reason}")]
    Unusable { id: String, reason: String },
}

/// Reads a secret's text into what its user needs; the error never quotes the text.
type Parse<T> = Arc<dyn Fn(&str) -> Result<T, String> + Send + Sync>;

/// One secret, parsed into `T`; cheap to clone, and clones share what was read.
pub struct StoredSecret<T> {
    client: Client,
    id: String,
    parse: Parse<T>,
    kept: Arc<Mutex<Option<Kept<T>>>>,
    /// Held while the first read is in flight: a batch's messages, handled side by side in a
    /// cold process, wait for that one read rather than each making its own.
    first_read: Arc<tokio::sync::Mutex<()>>,
}

struct Kept<T> {
    value: Arc<T>,
    read_at: Instant,
    /// Read again after a refusal (and found unchanged, or changed to this).
    reread: bool,
}

impl<T> Clone for StoredSecret<T> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            id: self.id.clone(),
            parse: self.parse.clone(),
            kept: self.kept.clone(),
            first_read: self.first_read.clone(),
        }
    }
}

impl<T> std::fmt::Debug for StoredSecret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret").field("id", &self.id).finish_non_exhaustive()
    }
}

impl<T: PartialEq> StoredSecret<T> {
    /// The secret `id` (a name or an ARN); nothing is read until it is first needed.
    pub fn new(client: Client, id: String, parse: impl Fn(&str) -> Result<T, String> + Send + Sync + 'static) -> Self {
        Self { client, id, parse: Arc::new(parse), kept: Arc::default(), first_read: Arc::default() }
    }

    /// The secret as last read; read now if it never was.
    pub async fn current(&self) -> Result<Arc<T>, SecretError> {
        if let Some((value, ..)) = self.kept() {
            return Ok(value);
        }
        let _reading = self.first_read.lock().await;
        match self.kept() {
            Some((value, ..)) => Ok(value),
            None => self.read(false).await,
        }
    }

    /// After `refused` was refused: a different value to try, or `None` if there is none and
    /// the refusal stands. The secret is read again the first time its value is refused, then
    /// at most once a minute.
    pub(crate) async fn after_refusal(&self, refused: &Arc<T>) -> Result<Option<Arc<T>>, SecretError> {
        if let Some((value, read_at, reread)) = self.kept() {
            if !Arc::ptr_eq(&value, refused) {
                return Ok(Some(value));
            }
            if reread && read_at.elapsed() < REREAD_AFTER {
                return Ok(None);
            }
        }
        let fresh = self.read(true).await?;
        Ok((*fresh != **refused).then_some(fresh))
    }

    /// `check` with the secret as it stands, and once more with its new value if `check`'s
    /// answer says the secret was refused (a signature that does not match) and it has been
    /// rotated since it was read.
    pub async fn check_rotating<R, E>(
        &self,
        check: impl Fn(&T) -> Result<R, E>,
        refused: impl Fn(&E) -> bool,
    ) -> Result<Result<R, E>, SecretError> {
        let value = self.current().await?;
        match check(&value) {
            Err(error) if refused(&error) => match self.after_refusal(&value).await? {
                Some(rotated) => Ok(check(&rotated)),
                None => Ok(Err(error)),
            },
            checked => Ok(checked),
        }
    }

    fn kept(&self) -> Option<(Arc<T>, Instant, bool)> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref().map(|kept| (kept.value.clone(), kept.read_at, kept.reread))
    }

    async fn read(&self, reread: bool) -> Result<Arc<T>, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.id)
            .send()
            .await
            .map_err(|error| SecretError::Unavailable(Box::new(error)))?;
        let unusable = |reason: String| SecretError::Unusable { id: self.id.clone(), reason };
        let text = output.secret_string().ok_or_else(|| unusable("it holds no text".to_owned()))?;
        let value = Arc::new((self.parse)(text).map_err(unusable)?);
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        *kept = Some(Kept { value: value.clone(), read_at: Instant::now(), reread });
        Ok(value)
    }
}

/// The lookup key, kept as `{"lookup_key": "…"}` (at least 32 characters) in the secret
/// `LOOKUP_KEY_SECRET_ID` names.
pub fn lookup_key_from_env(
    client: Client,
    env: &crate::config::Env,
) -> Result<StoredSecret<crate::domain::LookupKey>, crate::config::ConfigError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Stored {
        lookup_key: String,
    }
    Ok(StoredSecret::new(client, env.get("LOOKUP_KEY_SECRET_ID")?, |text| {
        let stored: Stored =
            serde_json::from_str(text).map_err(|_| "it is not {\"lookup_key\": \"...\"}".to_owned())?;
        crate::domain::LookupKey::new(stored.lookup_key.as_bytes()).map_err(|error| error.to_string())
    }))
}

impl crate::domain::LookupKeys for StoredSecret<crate::domain::LookupKey> {
    async fn lookup_key(&self) -> Result<Arc<crate::domain::LookupKey>, crate::domain::StoreError> {
        self.current().await.map_err(|error| crate::domain::StoreError::Unavailable(Box::new(error)))
    }
}
