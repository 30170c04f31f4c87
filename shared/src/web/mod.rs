//! The operators' desk in a browser: its session (login with PKCE, the session and CSRF
//! cookies), the check of the operator's access token that the session holds, and its pages.

#[cfg(feature = "desk")]
pub mod desk;
pub mod session;
#[cfg(feature = "desk")]
pub mod tokens;
