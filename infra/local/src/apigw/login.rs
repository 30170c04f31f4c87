//! The operators' hosted login, played on the runner's port as Cognito's managed login serves
//! it: the authorization code flow with PKCE (`S256` only) for the operators' app client.
//!
//! - `GET /oauth2/authorize?response_type=code&client_id&redirect_uri&state&code_challenge&
//!   code_challenge_method=S256`: the sign-in form. A request naming another client, a redirect
//!   the client does not list, or no challenge is answered here with 400, never redirected.
//! - `POST /oauth2/authorize` (the form): a local operator's user name and password; on success
//!   a redirect to `redirect_uri` with a one-time `code` and the `state`.
//! - `POST /oauth2/token` (`grant_type=authorization_code`, `code`, `client_id`,
//!   `redirect_uri`, `code_verifier`): the code, once, within five minutes, for the client and
//!   redirect it was issued to and the verifier its challenge was made from, becomes an access
//!   token with the claims the user pool's pre-token trigger gives (see
//!   [`LocalIssuer::operator_token`]).
//! - `GET /logout?client_id&logout_uri`: back to `logout_uri`, if the client lists it.
//!
//! Local operators are registered by the runner ([`crate::runner::Runner::add_operator_login`]);
//! there is no other user.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::json;
use shared::web::session::{pkce_challenge, random_token, same_secret};

use crate::apigw::{
    HttpRequest, HttpResponse,
    auth::{JwtAuthorizer, LocalIssuer},
};

/// How long a code may wait for its token request, as Cognito's.
const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// How long the access tokens last: the desk client's `AccessTokenValidity`.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A person who may sign in: their user name and password, and what the pool knows of them.
#[derive(Clone)]
pub struct LocalOperator {
    pub username: String,
    pub password: String,
    pub subject: String,
    pub groups: Vec<String>,
    /// `custom:storefronts`: the storefronts they serve, space-separated.
    pub storefronts: String,
}

impl std::fmt::Debug for LocalOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalOperator").field("username", &self.username).field("groups", &self.groups).finish()
    }
}

/// What a code was issued for.
#[derive(Debug, Clone)]
struct Issued {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    operator: LocalOperator,
    at: Instant,
}

/// The client an authorization request is for, checked before anything is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authorization {
    client_id: String,
    redirect_uri: String,
    state: String,
    challenge: String,
}

#[derive(Debug)]
pub struct LocalLogin {
    /// The operators' authorizer: its first audience is the app client's id.
    pub authorizer: JwtAuthorizer,
    /// Where the client may be sent back after sign-in and after logout.
    pub redirects: Vec<String>,
    operators: Mutex<Vec<LocalOperator>>,
    codes: Mutex<HashMap<String, Issued>>,
}

impl LocalLogin {
    pub fn new(authorizer: JwtAuthorizer, redirects: Vec<String>) -> Self {
        Self { authorizer, redirects, operators: Mutex::default(), codes: Mutex::default() }
    }

    pub fn add_operator(&self, operator: LocalOperator) {
        let mut operators = self.operators.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        operators.retain(|known| known.username != operator.username);
        operators.push(operator);
    }

    /// The login's answer to `request`, or `None` when it is not one of the login's paths.
    pub fn handle(&self, request: &HttpRequest, issuer: &LocalIssuer) -> Option<HttpResponse> {
        Some(match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/oauth2/authorize") => match self.authorization(&pairs(request.query.as_bytes())) {
                Ok(authorization) => sign_in_form(&authorization, None),
                Err(problem) => page(400, "Sign-in refused", &escape(problem)),
            },
            ("POST", "/oauth2/authorize") => self.sign_in(&pairs(&request.body)),
            ("POST", "/oauth2/token") => self.token(&pairs(&request.body), issuer),
            ("GET", "/logout") => self.logout(&pairs(request.query.as_bytes())),
            _ => return None,
        })
    }

    fn client_id(&self) -> &str {
        self.authorizer.audiences.first().map_or("", String::as_str)
    }

    fn authorization(&self, params: &HashMap<String, String>) -> Result<Authorization, &'static str> {
        let field = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
        if field("response_type") != "code" {
            return Err("response_type must be code");
        }
        if field("client_id") != self.client_id() {
            return Err("no such client");
        }
        if !self.redirects.iter().any(|allowed| allowed == field("redirect_uri")) {
            return Err("redirect_uri is not one of the client's callback URLs");
        }
        if field("code_challenge_method") != "S256" || !is_base64url_digest(field("code_challenge")) {
            return Err("a code_challenge with code_challenge_method S256 is required");
        }
        if field("state").is_empty() {
            return Err("state is required");
        }
        Ok(Authorization {
            client_id: field("client_id").to_owned(),
            redirect_uri: field("redirect_uri").to_owned(),
            state: field("state").to_owned(),
            challenge: field("code_challenge").to_owned(),
        })
    }

    fn sign_in(&self, form: &HashMap<String, String>) -> HttpResponse {
        let authorization = match self.authorization(form) {
            Ok(authorization) => authorization,
            Err(problem) => return page(400, "Sign-in refused", &escape(problem)),
        };
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let operators = self.operators.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let operator = operators
            .iter()
            .find(|operator| {
                operator.username == field("username") && same_secret(&operator.password, field("password"))
            })
            .cloned();
        drop(operators);
        let Some(operator) = operator else {
            return sign_in_form(&authorization, Some("Incorrect username or password."));
        };
        let Ok(code) = random_token() else {
            return HttpResponse::message(500, "Internal Server Error");
        };
        let mut codes = self.codes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        codes.retain(|_, issued| issued.at.elapsed() < CODE_LIFETIME);
        codes.insert(
            code.clone(),
            Issued {
                client_id: authorization.client_id.clone(),
                redirect_uri: authorization.redirect_uri.clone(),
                challenge: authorization.challenge.clone(),
                operator,
                at: Instant::now(),
            },
        );
        let query = encode(&[("code", &code), ("state", &authorization.state)]);
        redirect(&format!("{}?{query}", authorization.redirect_uri))
    }

    fn token(&self, form: &HashMap<String, String>, issuer: &LocalIssuer) -> HttpResponse {
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        if field("grant_type") != "authorization_code" {
            return oauth_error("unsupported_grant_type");
        }
        // A code is spent by its first token request, whatever that request's fate.
        let issued = self.codes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(field("code"));
        let Some(issued) = issued.filter(|issued| issued.at.elapsed() < CODE_LIFETIME) else {
            return oauth_error("invalid_grant");
        };
        if issued.client_id != field("client_id") {
            return oauth_error("invalid_client");
        }
        let verifier_holds = pkce_challenge(field("code_verifier")) == issued.challenge;
        if issued.redirect_uri != field("redirect_uri") || !verifier_holds {
            return oauth_error("invalid_grant");
        }
        let operator = &issued.operator;
        let groups: Vec<&str> = operator.groups.iter().map(String::as_str).collect();
        let token =
            issuer.operator_token(&self.authorizer, &operator.subject, &groups, &operator.storefronts, TOKEN_LIFETIME);
        match token {
            Ok(token) => HttpResponse {
                status: 200,
                headers: vec![
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("cache-control".to_owned(), "no-store".to_owned()),
                ],
                body: json!({ "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME.as_secs() })
                    .to_string()
                    .into_bytes(),
            },
            Err(_) => HttpResponse::message(500, "Internal Server Error"),
        }
    }

    fn logout(&self, params: &HashMap<String, String>) -> HttpResponse {
        let field = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
        if field("client_id") != self.client_id() || !self.redirects.iter().any(|url| url == field("logout_uri")) {
            return page(400, "Sign-out refused", "The client or its logout URL is not known.");
        }
        redirect(field("logout_uri"))
    }
}

/// A form's or query's pairs; a name given twice keeps its first value.
fn pairs(encoded: &[u8]) -> HashMap<String, String> {
    let mut pairs = HashMap::new();
    for (name, value) in form_urlencoded::parse(encoded) {
        pairs.entry(name.into_owned()).or_insert_with(|| value.into_owned());
    }
    pairs
}

fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// A SHA-256 digest in base64url without padding: 43 characters.
fn is_base64url_digest(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn oauth_error(error: &str) -> HttpResponse {
    HttpResponse {
        status: 400,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: json!({ "error": error }).to_string().into_bytes(),
    }
}

fn redirect(location: &str) -> HttpResponse {
    HttpResponse {
        status: 302,
        headers: vec![
            ("location".to_owned(), location.to_owned()),
            ("cache-control".to_owned(), "no-store".to_owned()),
        ],
        body: Vec::new(),
    }
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn sign_in_form(authorization: &Authorization, error: Option<&str>) -> HttpResponse {
    let hidden = [
        ("response_type", "code"),
        ("client_id", authorization.client_id.as_str()),
        ("redirect_uri", authorization.redirect_uri.as_str()),
        ("state", authorization.state.as_str()),
        ("code_challenge", authorization.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(name, value)| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(value)))
    .collect::<String>();
    let error = error.map(|error| format!(r#"<p role="alert">{}</p>"#, escape(error))).unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/oauth2/authorize">{hidden}
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p></form>"#
    );
    page(if error.is_empty() { 200 } else { 401 }, "Sign in to the Orderflow desk", &body)
}

fn page(status: u16, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head><body><main><h1>{title}</h1>{body}<p><small>Local sign-in: the runner plays the operators' user pool.</small></p></main></body></html>"#
    );
    HttpResponse {
        status,
        headers: vec![
            ("content-type".to_owned(), "text/html; charset=utf-8".to_owned()),
            ("cache-control".to_owned(), "no-store".to_owned()),
            (
                "content-security-policy".to_owned(),
                "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'".to_owned(),
            ),
            ("x-frame-options".to_owned(), "DENY".to_owned()),
            ("referrer-policy".to_owned(), "no-referrer".to_owned()),
        ],
        body: html.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const CALLBACK: &str = "http://127.0.0.1:9/desk/callback";
    const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9x7mTkDp2cb7Ri8oJu5Q2rJTc";

    fn login() -> LocalLogin {
        let authorizer = JwtAuthorizer {
            name: "OperatorJwt".to_owned(),
            issuer: "http://127.0.0.1:9".to_owned(),
            audiences: vec!["desk-client".to_owned()],
            header: "authorization".to_owned(),
        };
        let login = LocalLogin::new(authorizer, vec![CALLBACK.to_owned(), "http://127.0.0.1:9/desk/".to_owned()]);
        login.add_operator(LocalOperator {
            username: "agent".to_owned(),
            password: "correct horse".to_owned(),
            subject: "demo-agent".to_owned(),
            groups: vec!["agent".to_owned()],
            storefronts: "demo-shop".to_owned(),
        });
        login
    }

    fn request(method: &str, path: &str, query: &str, body: &str) -> HttpRequest {
        HttpRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: BTreeMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn authorize_params(redirect: &str) -> String {
        let challenge = pkce_challenge(VERIFIER);
        encode(&[
            ("response_type", "code"),
            ("client_id", "desk-client"),
            ("redirect_uri", redirect),
            ("state", "s<t>ate"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    }

    fn location(response: &HttpResponse) -> &str {
        response.headers.iter().find(|(name, _)| name == "location").map_or("", |(_, value)| value.as_str())
    }

    /// Signs in as the agent and returns the code the redirect carries.
    fn code(login: &LocalLogin, issuer: &LocalIssuer) -> String {
        let form = format!("{}&username=agent&password=correct+horse", authorize_params(CALLBACK));
        let response = login.handle(&request("POST", "/oauth2/authorize", "", &form), issuer).unwrap();
        assert_eq!(response.status, 302);
        let (target, query) = location(&response).split_once('?').unwrap();
        assert_eq!(target, CALLBACK);
        let params = pairs(query.as_bytes());
        assert_eq!(params["state"], "s<t>ate");
        params["code"].clone()
    }

    fn exchange(login: &LocalLogin, issuer: &LocalIssuer, code: &str, verifier: &str) -> HttpResponse {
        let form = encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "desk-client"),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ]);
        login.handle(&request("POST", "/oauth2/token", "", &form), issuer).unwrap()
    }

    #[test]
    fn the_form_shows_the_request_escaped_and_a_foreign_redirect_is_refused_here() {
        let login = login();
        let issuer = LocalIssuer::new().unwrap();
        let form =
            login.handle(&request("GET", "/oauth2/authorize", &authorize_params(CALLBACK), ""), &issuer).unwrap();
        assert_eq!(form.status, 200);
        let html = String::from_utf8(form.body).unwrap();
        assert!(html.contains(r#"value="s&lt;t&gt;ate""#), "{html}");

        let foreign = authorize_params("https://evil.example/desk/callback");
        let refused = login.handle(&request("GET", "/oauth2/authorize", &foreign, ""), &issuer).unwrap();
        assert_eq!(refused.status, 400);
        assert_eq!(location(&refused), "");
        let plain = authorize_params(CALLBACK).replace("S256", "plain");
        assert_eq!(login.handle(&request("GET", "/oauth2/authorize", &plain, ""), &issuer).unwrap().status, 400);
    }

    #[test]
    fn a_wrong_password_shows_the_form_again_without_a_code() {
        let login = login();
        let issuer = LocalIssuer::new().unwrap();
        let form = format!("{}&username=agent&password=correct+horsf", authorize_params(CALLBACK));
        let response = login.handle(&request("POST", "/oauth2/authorize", "", &form), &issuer).unwrap();
        assert_eq!(response.status, 401);
        assert_eq!(location(&response), "");
    }

    #[test]
    fn a_code_becomes_an_operator_token_once_and_only_with_its_verifier() {
        let login = login();
        let issuer = LocalIssuer::new().unwrap();

        let code_a = code(&login, &issuer);
        let wrong_verifier = exchange(&login, &issuer, &code_a, &VERIFIER.replace('d', "e"));
        assert_eq!(wrong_verifier.status, 400);
        assert_eq!(exchange(&login, &issuer, &code_a, VERIFIER).status, 400, "a code is spent by its first use");

        let code_b = code(&login, &issuer);
        let granted = exchange(&login, &issuer, &code_b, VERIFIER);
        assert_eq!(granted.status, 200);
        let body: serde_json::Value = serde_json::from_slice(&granted.body).unwrap();
        let token = body["access_token"].as_str().unwrap();
        let mut headers = BTreeMap::new();
        headers.insert("authorization".to_owned(), format!("Bearer {token}"));
        let claims = login.authorizer.authorize(&headers, &issuer, &["orderflow/orders.read".to_owned()]).unwrap();
        assert_eq!(claims["sub"], "demo-agent");
        assert_eq!(claims["storefronts"], "demo-shop");
        assert_eq!(exchange(&login, &issuer, &code_b, VERIFIER).status, 400);
    }

    #[test]
    fn logout_returns_only_to_a_listed_url() {
        let login = login();
        let issuer = LocalIssuer::new().unwrap();
        let back = encode(&[("client_id", "desk-client"), ("logout_uri", "http://127.0.0.1:9/desk/")]);
        let response = login.handle(&request("GET", "/logout", &back, ""), &issuer).unwrap();
        assert_eq!((response.status, location(&response)), (302, "http://127.0.0.1:9/desk/"));
        let away = encode(&[("client_id", "desk-client"), ("logout_uri", "https://evil.example/")]);
        assert_eq!(login.handle(&request("GET", "/logout", &away, ""), &issuer).unwrap().status, 400);
    }
}
