//! The desk's session in the operator's browser: the login under way (PKCE verifier, state and
//! the page to return to), the access token once signed in, and the CSRF token every form
//! carries. All three live in `__Host-` cookies: sent only over HTTPS (or to localhost), only to
//! this origin, never readable by the page's script.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// The access token, once signed in.
pub const SESSION_COOKIE: &str = "__Host-desk-session";
/// The login under way: state, PKCE verifier and the page to return to.
pub const LOGIN_COOKIE: &str = "__Host-desk-login";
/// The CSRF token that every form repeats in its `csrf` field.
pub const CSRF_COOKIE: &str = "__Host-desk-csrf";

/// How long a login may take, from the desk's redirect to the identity provider's return.
const LOGIN_SECONDS: u32 = 600;
/// The most a cookie value we set or accept may hold: a Cognito access token is about 1 KB.
const MAX_COOKIE_VALUE: usize = 3_072;
const OURS: [&str; 3] = [SESSION_COOKIE, LOGIN_COOKIE, CSRF_COOKIE];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    #[error("the cookie {0} is sent more than once")]
    Duplicate(&'static str),
    #[error("the cookie {0} holds characters a cookie value may not")]
    Malformed(&'static str),
}

/// The desk's own cookies from a request's `Cookie` headers; anyone else's are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskCookies {
    pub session: Option<String>,
    pub login: Option<String>,
    pub csrf: Option<String>,
}

impl DeskCookies {
    /// Strictly: one of ours sent twice (a cookie planted from a sibling domain beside the real
    /// one) or with a value outside RFC 6265's cookie octets is refused, not guessed at.
    pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Self, CookieError> {
        let mut cookies = Self::default();
        for pair in headers.into_iter().flat_map(|header| header.split(';')) {
            let Some((name, value)) = pair.trim().split_once('=') else { continue };
            let Some(&name) = OURS.iter().find(|ours| **ours == name) else { continue };
            if value.is_empty() || value.len() > MAX_COOKIE_VALUE || !value.bytes().all(is_cookie_octet) {
                return Err(CookieError::Malformed(name));
            }
            let slot = match name {
                SESSION_COOKIE => &mut cookies.session,
                LOGIN_COOKIE => &mut cookies.login,
                _ => &mut cookies.csrf,
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(CookieError::Duplicate(name));
            }
        }
        Ok(cookies)
    }
}

/// RFC 6265's cookie-octet: visible ASCII but for `"`, `,`, `;` and `\`.
fn is_cookie_octet(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// A `Set-Cookie` value for one of the desk's cookies. `SameSite=Lax`: the identity provider's
/// redirect back is a cross-site navigation that must carry the login cookie, and the session
/// must survive the redirect that follows; forms are guarded by the CSRF token besides.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: u32) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}")
}

/// A `Set-Cookie` value that removes one of the desk's cookies.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// A fresh random token of 32 bytes, base64url: state, PKCE verifier, CSRF token.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether the form's CSRF token is the cookie's.
pub fn csrf_matches(cookie: Option<&str>, submitted: Option<&str>) -> bool {
    let (Some(cookie), Some(submitted)) = (cookie, submitted) else { return false };
    !cookie.is_empty() && same_secret(cookie, submitted)
}

/// Whether two secrets are equal, in time that does not tell where they differ.
pub fn same_secret(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected.bytes().zip(given.bytes()).fold(0u8, |differ, (a, b)| differ | (a ^ b)) == 0
}

/// PKCE's `S256` code challenge of `verifier` (RFC 7636 §4.2): what the identity provider holds
/// the token request's verifier to.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A page of the desk to return to after login: a path under `/desk`, never another origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskPath(String);

impl DeskPath {
    pub const HOME: &'static str = "/desk/";

    /// `/desk` or a path below it, of plain path characters: no scheme, no `//` (another host
    /// to a browser), no `\`, no dot segments, no query (which could carry customer data).
    pub fn parse(path: &str) -> Option<Self> {
        let below = path == "/desk" || path.starts_with("/desk/");
        let plain = path.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte));
        let segments_plain = path.split('/').all(|segment| segment != "." && segment != "..");
        (below && plain && segments_plain && !path.contains("//")).then(|| Self(path.to_owned()))
    }

    pub fn home() -> Self {
        Self(Self::HOME.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A login under way: what the callback checks the identity provider's answer against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub state: String,
    pub verifier: String,
    pub return_to: DeskPath,
}

impl PendingLogin {
    /// A new login that returns to `return_to`.
    pub fn start(return_to: DeskPath) -> Result<Self, getrandom::Error> {
        Ok(Self { state: random_token()?, verifier: random_token()?, return_to })
    }

    /// The PKCE `code_challenge` for this login's verifier.
    pub fn challenge(&self) -> String {
        pkce_challenge(&self.verifier)
    }

    /// The login cookie's value: `state.verifier.return_to` (the path base64url-encoded).
    pub fn cookie_value(&self) -> String {
        format!("{}.{}.{}", self.state, self.verifier, URL_SAFE_NO_PAD.encode(self.return_to.as_str()))
    }

    pub fn set_cookie(&self) -> String {
        set_cookie(LOGIN_COOKIE, &self.cookie_value(), LOGIN_SECONDS)
    }

    /// The login cookie read back; `None` when it is not one the desk wrote.
    pub fn from_cookie(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let (state, verifier, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = String::from_utf8(URL_SAFE_NO_PAD.decode(path).ok()?).ok()?;
        let token = |text: &str| text.len() == 43 && URL_SAFE_NO_PAD.decode(text).is_ok();
        (parts.next().is_none() && token(state) && token(verifier)).then_some(())?;
        Some(Self { state: state.to_owned(), verifier: verifier.to_owned(), return_to: DeskPath::parse(&path)? })
    }

    /// Whether the identity provider's `state` is this login's.
    pub fn is_answered_by(&self, state: &str) -> bool {
        csrf_matches(Some(&self.state), Some(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_cookies_are_read_and_one_of_ours_twice_is_refused() {
        let cookies =
            DeskCookies::parse(["theme=dark; __Host-desk-session=abc.def", "__Host-desk-csrf=xyz; other=1"]).unwrap();
        assert_eq!(cookies.session.as_deref(), Some("abc.def"));
        assert_eq!(cookies.csrf.as_deref(), Some("xyz"));
        assert_eq!(cookies.login, None);

        let twice = DeskCookies::parse(["__Host-desk-session=a; __Host-desk-session=b"]);
        assert_eq!(twice, Err(CookieError::Duplicate(SESSION_COOKIE)));
        let across_headers = DeskCookies::parse(["__Host-desk-csrf=a", "__Host-desk-csrf=a"]);
        assert_eq!(across_headers, Err(CookieError::Duplicate(CSRF_COOKIE)));
    }

    #[test]
    fn a_cookie_value_outside_the_cookie_octets_or_too_long_is_refused() {
        for value in ["a\"b", "a\\b", "a,b", "caf\u{e9}", "a\u{202e}b", "a b", ""] {
            let header = format!("{SESSION_COOKIE}={value}");
            assert_eq!(DeskCookies::parse([header.as_str()]), Err(CookieError::Malformed(SESSION_COOKIE)), "{value:?}");
        }
        let long = format!("{CSRF_COOKIE}={}", "a".repeat(MAX_COOKIE_VALUE + 1));
        assert_eq!(DeskCookies::parse([long.as_str()]), Err(CookieError::Malformed(CSRF_COOKIE)));
    }

    #[test]
    fn csrf_tokens_match_only_when_both_are_present_and_equal() {
        assert!(csrf_matches(Some("token"), Some("token")));
        assert!(!csrf_matches(Some("token"), Some("tokem")));
        assert!(!csrf_matches(Some("token"), Some("token2")));
        assert!(!csrf_matches(None, Some("token")));
        assert!(!csrf_matches(Some("token"), None));
        assert!(!csrf_matches(Some(""), Some("")));
    }

    #[test]
    fn the_page_to_return_to_is_a_desk_path_and_nothing_else() {
        for good in ["/desk", "/desk/", "/desk/orders/ord_01J", "/desk/queue"] {
            assert!(DeskPath::parse(good).is_some(), "{good}");
        }
        let bad = [
            "https://evil.example/desk",
            "//evil.example/desk/",
            "/desk//evil.example",
            "/desk/../orders",
            "/desk/./x",
            "/desk\\evil",
            "/deskx",
            "/desk/search?email=a@b.c",
            "/desk/%2e%2e/x",
            "desk/",
            "",
        ];
        for path in bad {
            assert!(DeskPath::parse(path).is_none(), "{path}");
        }
    }

    #[test]
    fn a_pending_login_survives_its_cookie_and_its_challenge_is_s256_of_the_verifier() {
        let login = PendingLogin::start(DeskPath::parse("/desk/orders/ord_1").unwrap()).unwrap();
        let read = PendingLogin::from_cookie(&login.cookie_value()).unwrap();
        assert_eq!(read, login);
        assert!(read.is_answered_by(&login.state));
        assert!(!read.is_answered_by("another-state"));

        // SHA-256 of "abc" is FIPS 180-2's first example, ba7816bf…15ad: here in base64url.
        assert_eq!(pkce_challenge("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_eq!(login.challenge(), pkce_challenge(&login.verifier));
    }

    #[test]
    fn a_login_cookie_the_desk_did_not_write_is_not_read() {
        let login = PendingLogin::start(DeskPath::home()).unwrap();
        let value = login.cookie_value();
        let evil_path = URL_SAFE_NO_PAD.encode("//evil.example/");
        let (state_and_verifier, _) = value.rsplit_once('.').unwrap();
        for forged in [
            format!("{state_and_verifier}.{evil_path}"),
            format!("{value}.extra"),
            "short.short.L2Rlc2sv".to_owned(),
            value.replacen('.', "", 1),
        ] {
            assert_eq!(PendingLogin::from_cookie(&forged), None, "{forged}");
        }
    }

    #[test]
    fn cookies_are_host_only_secure_http_only_and_lax() {
        assert_eq!(
            set_cookie(CSRF_COOKIE, "t", 60),
            "__Host-desk-csrf=t; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert!(clear_cookie(SESSION_COOKIE).ends_with("Max-Age=0"));
    }
}
