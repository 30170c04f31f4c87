//! The operators' desk in a browser: its session (login with PKCE, the session and CSRF
//! cookies) and the check of the operator's access token that the session holds.

pub mod session;
#[cfg(feature = "desk")]
pub mod tokens;
