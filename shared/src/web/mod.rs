//! The operators' desk in a browser: its session (login with PKCE, the session and CSRF
//! cookies).

pub mod session;
