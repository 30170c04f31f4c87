//! The desk's pages over HTTP, free of Lambda's types: signing in through the hosted login
//! (authorization code with PKCE), the session that holds the operator's access token, CSRF on
//! every form, and the pages themselves, each with headers that keep it from being framed,
//! scripted from elsewhere or leaking its address.

use askama::Template;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::session::{
    CSRF_COOKIE, DeskCookies, DeskPath, LOGIN_COOKIE, PendingLogin, SESSION_COOKIE, clear_cookie, csrf_matches,
    random_token, set_cookie,
};
use super::tokens::{KeySource, TokenRefused, TokenVerifier};
use crate::adapters::identity::{CodeRefused, HostedLogin};
use crate::api::{Caller, Problem};
use crate::domain::{Money, scope};

const STYLESHEET: &str = include_str!("../../templates/desk/desk.css");

/// What the desk answers: a page, a redirect, or the stylesheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAnswer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl WebAnswer {
    fn page(status: u16, html: String) -> Self {
        let mut headers = security_headers();
        headers.push(("content-type", "text/html; charset=utf-8".to_owned()));
        Self { status, headers, body: html }
    }

    fn redirect(status: u16, location: &str) -> Self {
        let mut headers = security_headers();
        headers.push(("location", location.to_owned()));
        Self { status, headers, body: String::new() }
    }

    fn with_cookie(mut self, cookie: String) -> Self {
        self.headers.push(("set-cookie", cookie));
        self
    }
}

/// Every answer of the desk: no script or style but its own, never in a frame, no address in
/// a `Referer`, never cached (pages hold customers' data), content types as declared.
fn security_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'"
                .to_owned(),
        ),
        ("x-frame-options", "DENY".to_owned()),
        ("referrer-policy", "no-referrer".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("cache-control", "no-store".to_owned()),
    ]
}

/// What the desk's request carries, read by the function from API Gateway's event.
#[derive(Debug, Clone, Copy)]
pub struct WebRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub cookies: &'a [&'a str],
    pub body: &'a [u8],
    pub request_id: &'a str,
}

/// The signed-in operator a page is for, and the CSRF token its forms carry.
#[derive(Debug, Clone)]
struct SignedIn {
    name: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "desk/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    operator: Option<SignedIn>,
    message: &'a str,
    link: Option<(&'a str, &'a str)>,
}

/// One held order in the queue's table.
#[derive(Debug, Clone)]
struct QueueRow {
    id: String,
    storefront: String,
    total: String,
    waiting_minutes: i64,
    sla_minutes: i64,
    overdue: bool,
    claimed_by: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/queue.html")]
struct QueuePage {
    title: &'static str,
    operator: Option<SignedIn>,
    rows: Vec<QueueRow>,
}

/// The desk's sign-in and session around the operators' API.
#[derive(Debug)]
pub struct DeskWeb<K> {
    pub tokens: TokenVerifier<K>,
    pub login: HostedLogin,
}

/// What the pages need of the operators' API, as its JSON routes answer (the same checks of
/// storefront and role): the queue, an order, and the changes the desk's forms ask for.
pub trait DeskPages {
    fn queue(&self, caller: &Caller, now: DateTime<Utc>) -> impl Future<Output = Result<Value, Problem>> + Send;
    fn order(&self, caller: &Caller, raw_id: &str) -> impl Future<Output = Result<Value, Problem>> + Send;
    fn claim(
        &self,
        caller: &Caller,
        raw_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), Problem>> + Send;
    /// `body`: the JSON the review route takes.
    fn review(
        &self,
        caller: &Caller,
        raw_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), Problem>> + Send;
}

/// An order as its page shows it.
#[derive(Debug, Clone, Default)]
struct OrderFacts {
    id: String,
    status: String,
    reason: Option<String>,
    customer_name: String,
    customer_email: String,
    customer_phone: String,
    total: String,
    /// Held, and the caller's role may claim it or decide it.
    may_claim: bool,
    may_review: bool,
    lines: Vec<LineFacts>,
    timeline: Vec<TimelineFacts>,
}

#[derive(Debug, Clone, Default)]
struct LineFacts {
    sku: String,
    quantity: i64,
}

#[derive(Debug, Clone, Default)]
struct TimelineFacts {
    at: String,
    status: String,
    by: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/order.html")]
struct OrderPage {
    title: String,
    operator: Option<SignedIn>,
    csrf: String,
    order: OrderFacts,
    done: Option<&'static str>,
    error: Option<String>,
}

impl<K: KeySource + Sync> DeskWeb<K> {
    pub async fn handle(&self, api: &impl DeskPages, request: &WebRequest<'_>, now: DateTime<Utc>) -> WebAnswer {
        let cookies = DeskCookies::parse(request.cookies.iter().copied());
        match (request.method, request.path) {
            ("GET", "/desk" | "/desk/") => WebAnswer::redirect(302, "/desk/queue"),
            ("GET", "/desk/desk.css") => {
                let mut answer = WebAnswer { status: 200, headers: security_headers(), body: STYLESHEET.to_owned() };
                answer.headers.push(("content-type", "text/css; charset=utf-8".to_owned()));
                answer
            }
            ("GET", "/desk/callback") => self.finish_login(request, cookies.ok()).await,
            ("GET", "/desk/signed-out") => message(200, "Signed out", None, "You are signed out of the desk.", true),
            ("POST", "/desk/logout") => match cookies {
                Ok(cookies) if csrf_matches(cookies.csrf.as_deref(), form_field(request.body, "csrf").as_deref()) => {
                    WebAnswer::redirect(303, "/desk/signed-out")
                        .with_cookie(clear_cookie(SESSION_COOKIE))
                        .with_cookie(clear_cookie(CSRF_COOKIE))
                }
                _ => forbidden_form(),
            },
            ("GET", "/desk/queue") => {
                let (caller, operator) = match self.session(request, cookies, scope::READ).await {
                    Ok(signed_in) => signed_in,
                    Err(answer) => return *answer,
                };
                match api.queue(&caller, now).await {
                    Ok(queue) => {
                        render(200, &QueuePage { title: "Review queue", operator: Some(operator), rows: rows(&queue) })
                    }
                    Err(problem) => message(problem.status, "Review queue", Some(operator), &problem.detail, false),
                }
            }
            (method, path) => match (method, OrderPath::parse(path)) {
                ("GET", Some(OrderPath::Page(id))) => {
                    let (caller, operator) = match self.session(request, cookies, scope::READ).await {
                        Ok(signed_in) => signed_in,
                        Err(answer) => return *answer,
                    };
                    let done = query_field(request.query, "done").and_then(|done| done_message(&done));
                    order_page(api, &caller, operator, id, done, None).await
                }
                ("POST", Some(OrderPath::Form(id, form))) => {
                    let (caller, operator) = match self.session(request, cookies.clone(), scope::WORK).await {
                        Ok(signed_in) => signed_in,
                        Err(answer) => return *answer,
                    };
                    let sent = cookies.ok().and_then(|cookies| cookies.csrf);
                    if !csrf_matches(sent.as_deref(), form_field(request.body, "csrf").as_deref()) {
                        return forbidden_form();
                    }
                    let done = match form {
                        OrderForm::Claim => api.claim(&caller, id, now).await.map(|()| "claimed"),
                        OrderForm::Review => match review_body(request.body) {
                            Some((body, done)) => api.review(&caller, id, body.as_bytes(), now).await.map(|()| done),
                            None => Err(Problem::bad_request("invalid_decision", "choose approve or deny")),
                        },
                    };
                    match done {
                        Ok(done) => WebAnswer::redirect(303, &format!("/desk/orders/{id}?done={done}")),
                        Err(problem) => {
                            let status = problem.status;
                            let mut page = order_page(api, &caller, operator, id, None, Some(problem.detail)).await;
                            page.status = status;
                            page
                        }
                    }
                }
                _ => message(404, "Not found", None, "The desk has no such page.", true),
            },
        }
    }

    /// The caller the session's token names, if it holds `scope`; otherwise the answer: to the
    /// hosted login when signing in again would help.
    async fn session(
        &self,
        request: &WebRequest<'_>,
        cookies: Result<DeskCookies, super::session::CookieError>,
        scope: &str,
    ) -> Result<(Caller, SignedIn), Box<WebAnswer>> {
        let cookies = cookies.unwrap_or_default();
        let return_to = return_path(request.path);
        let (Some(token), Some(csrf)) = (cookies.session.as_deref(), cookies.csrf.clone()) else {
            return Err(Box::new(self.start_login(return_to)));
        };
        let claims = match self.tokens.verify(token, scope).await {
            Ok(claims) => claims,
            Err(refused) if refused.signing_in_helps() => return Err(Box::new(self.start_login(return_to))),
            Err(TokenRefused::MissingScope) => {
                return Err(Box::new(message(403, "Not allowed", None, "Your role does not open this page.", false)));
            }
            Err(_) => {
                let told = "The sign-in service cannot be reached; try again in a minute.";
                return Err(Box::new(message(503, "Unavailable", None, told, false)));
            }
        };
        let claim = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let caller = Caller::from_claims(&claim, request.request_id)
            .map_err(|problem| Box::new(message(problem.status, "Not allowed", None, &problem.detail, false)))?;
        let name = claim("username").or_else(|| claim("sub")).unwrap_or_default();
        Ok((caller, SignedIn { name, csrf }))
    }

    /// To the hosted login, remembering where to come back to.
    fn start_login(&self, return_to: DeskPath) -> WebAnswer {
        let Ok(login) = PendingLogin::start(return_to) else {
            return message(503, "Unavailable", None, "Signing in is not possible just now.", false);
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.login.client_id)
            .append_pair("redirect_uri", &self.login.callback_url)
            .append_pair("scope", "openid")
            .append_pair("state", &login.state)
            .append_pair("code_challenge", &login.challenge())
            .append_pair("code_challenge_method", "S256")
            .finish();
        WebAnswer::redirect(302, &format!("{}/oauth2/authorize?{query}", self.login.base_url))
            .with_cookie(login.set_cookie())
    }

    /// Back from the hosted login: the code becomes the session's token, if the state is this
    /// browser's own login's.
    async fn finish_login(&self, request: &WebRequest<'_>, cookies: Option<DeskCookies>) -> WebAnswer {
        let login = cookies.and_then(|cookies| cookies.login).and_then(|value| PendingLogin::from_cookie(&value));
        let (code, state) = (query_field(request.query, "code"), query_field(request.query, "state"));
        let (Some(login), Some(code), Some(state)) = (login, code, state) else {
            return message(400, "Sign-in failed", None, "This sign-in was not started here, or took too long.", true);
        };
        if !login.is_answered_by(&state) {
            return message(400, "Sign-in failed", None, "This sign-in was not started here.", true);
        }
        let token = match self.login.access_token(&code, &login).await {
            Ok(token) => token,
            Err(CodeRefused::Refused(_)) => {
                return message(400, "Sign-in failed", None, "The sign-in expired or was used already.", true);
            }
            Err(CodeRefused::Unavailable(reason)) => {
                tracing::warn!(%reason, "the hosted login's token endpoint failed");
                return message(503, "Unavailable", None, "The sign-in service cannot be reached.", true);
            }
        };
        let claims = match self.tokens.verify(&token, scope::READ).await {
            Ok(claims) => claims,
            Err(refused) => {
                tracing::warn!(%refused, "the hosted login gave a token the desk does not take");
                return message(403, "Not allowed", None, "Your account does not open the desk.", false);
            }
        };
        let lifetime = claims
            .get("exp")
            .and_then(Value::as_str)
            .and_then(|exp| exp.parse::<i64>().ok())
            .map_or(0, |exp| exp - Utc::now().timestamp());
        let Ok(csrf) = random_token() else {
            return message(503, "Unavailable", None, "Signing in is not possible just now.", false);
        };
        let lifetime = u32::try_from(lifetime.max(0)).unwrap_or(0);
        WebAnswer::redirect(303, login.return_to.as_str())
            .with_cookie(set_cookie(SESSION_COOKIE, &token, lifetime))
            .with_cookie(set_cookie(CSRF_COOKIE, &csrf, lifetime))
            .with_cookie(clear_cookie(LOGIN_COOKIE))
    }
}

/// A page or a form of one order: `/desk/orders/{id}`, `/desk/orders/{id}/{form}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderPath<'a> {
    Page(&'a str),
    Form(&'a str, OrderForm),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderForm {
    Claim,
    Review,
}

impl<'a> OrderPath<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix("/desk/orders/")?;
        let (id, form) = rest.split_once('/').map_or((rest, None), |(id, form)| (id, Some(form)));
        if id.is_empty() {
            return None;
        }
        match form {
            None => Some(Self::Page(id)),
            Some("claim") => Some(Self::Form(id, OrderForm::Claim)),
            Some("review") => Some(Self::Form(id, OrderForm::Review)),
            Some(_) => None,
        }
    }
}

/// Where signing in again leads back to: the page itself, or for a form the page it is on (the
/// browser comes back with a GET, which a form's path does not answer).
fn return_path(path: &str) -> DeskPath {
    let page = match OrderPath::parse(path) {
        Some(OrderPath::Form(id, _)) => format!("/desk/orders/{id}"),
        _ => path.to_owned(),
    };
    DeskPath::parse(&page).unwrap_or_else(DeskPath::home)
}

/// What the page says was done, for the `done` the form's redirect names.
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "claimed" => Some("You hold this order's claim: nobody else calls the customer while it lasts."),
        "approved" => Some("You approved this order: its payment is taken and it goes on to the warehouse."),
        "denied" => Some("You denied this order: it is cancelled and the customer is told."),
        _ => None,
    }
}

/// The review route's JSON from the form's `decision` and `note`, and what the page will say.
fn review_body(form: &[u8]) -> Option<(String, &'static str)> {
    let (decision, done) = match form_field(form, "decision")?.as_str() {
        "approve" => ("approve", "approved"),
        "deny" => ("deny", "denied"),
        _ => return None,
    };
    let note = form_field(form, "note").filter(|note| !note.trim().is_empty());
    let body = match note {
        Some(note) => serde_json::json!({ "decision": decision, "note": note }),
        None => serde_json::json!({ "decision": decision }),
    };
    Some((body.to_string(), done))
}

async fn order_page(
    api: &impl DeskPages,
    caller: &Caller,
    operator: SignedIn,
    id: &str,
    done: Option<&'static str>,
    error: Option<String>,
) -> WebAnswer {
    match api.order(caller, id).await {
        Ok(order) => {
            let order = order_facts(&order);
            let title = format!("Order {}", order.id);
            let csrf = operator.csrf.clone();
            render(200, &OrderPage { title, operator: Some(operator), csrf, order, done, error })
        }
        Err(problem) => message(problem.status, "Order", Some(operator), &problem.detail, false),
    }
}

fn render(status: u16, page: &impl Template) -> WebAnswer {
    match page.render() {
        Ok(html) => WebAnswer::page(status, html),
        Err(error) => {
            tracing::error!(%error, "a desk page did not render");
            WebAnswer::page(500, "<!doctype html><title>Error</title><p>The page could not be shown.</p>".to_owned())
        }
    }
}

fn message(status: u16, title: &str, operator: Option<SignedIn>, text: &str, offer_sign_in: bool) -> WebAnswer {
    let link = offer_sign_in.then_some(("/desk/queue", "Sign in"));
    render(status, &MessagePage { title, operator, message: text, link })
}

fn forbidden_form() -> WebAnswer {
    message(403, "Not sent", None, "This form was not sent from your desk session; open the desk and try again.", true)
}

/// A field of a form-encoded body or query, when it is there once.
fn form_field(encoded: &[u8], name: &str) -> Option<String> {
    let mut values = form_urlencoded::parse(encoded).filter(|(field, _)| field == name).map(|(_, value)| value);
    let first = values.next()?.into_owned();
    values.next().is_none().then_some(first)
}

fn query_field(query: &str, name: &str) -> Option<String> {
    form_field(query.as_bytes(), name)
}

/// The queue's rows from the operators' API's JSON answer.
fn rows(queue: &Value) -> Vec<QueueRow> {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    queue["orders"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|order| QueueRow {
            id: text(&order["id"]),
            storefront: text(&order["storefront"]),
            total: serde_json::from_value::<Money>(order["total"].clone())
                .map(|total| total.to_string())
                .unwrap_or_default(),
            waiting_minutes: order["waiting_minutes"].as_i64().unwrap_or_default(),
            sla_minutes: order["sla_minutes"].as_i64().unwrap_or_default(),
            overdue: order["overdue"].as_bool().unwrap_or_default(),
            claimed_by: order["claim"]["by"].as_str().map(str::to_owned),
        })
        .collect()
}

/// An answer of the operators' API as the JSON its route sends.
pub fn answer_json(answer: &crate::api::Answer) -> Result<Value, Problem> {
    serde_json::from_str(&answer.response.body).map_err(|_| Problem::internal())
}

/// The order page's facts from the operators' API's view of the order.
fn order_facts(order: &Value) -> OrderFacts {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let customer = &order["customer"];
    let allowed = |action: &str| order["allowed_actions"].as_array().is_some_and(|all| all.iter().any(|a| a == action));
    OrderFacts {
        id: text(&order["id"]),
        status: text(&order["status"]),
        reason: order.get("status_reason").filter(|reason| !reason.is_null()).map(reason_text),
        customer_name: text(&customer["name"]),
        customer_email: text(&customer["email"]),
        customer_phone: text(&customer["phone"]),
        total: serde_json::from_value::<Money>(order["totals"]["total"].clone())
            .map(|total| total.to_string())
            .unwrap_or_default(),
        may_claim: order["status"] == "ON_HOLD" && allowed("claim"),
        may_review: order["status"] == "ON_HOLD" && allowed("review"),
        lines: order["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|line| LineFacts { sku: text(&line["sku"]), quantity: line["quantity"].as_i64().unwrap_or_default() })
            .collect(),
        timeline: order["timeline"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| TimelineFacts {
                at: text(&entry["at"]),
                status: text(&entry["status"]),
                by: operator_in(&entry["by"]).or_else(|| operator_in(&entry["reason"])),
            })
            .collect(),
    }
}

/// The operator a timeline entry names, wherever its shape keeps them (`by`, or the reason's
/// decision or request).
fn operator_in(value: &Value) -> Option<String> {
    match value {
        Value::Object(members) => members
            .get("operator")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| members.values().find_map(operator_in)),
        _ => None,
    }
}

/// A status reason as words: its text, or its JSON when it carries more.
fn reason_text(reason: &Value) -> String {
    match reason {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

impl<K> DeskWeb<K> {
    /// `DESK_ISSUER` and `DESK_CLIENT_ID` (whose tokens it takes), `DESK_LOGIN_URL` (the hosted
    /// login) and `DESK_CALLBACK_URL` (where the login returns to).
    pub fn from_env(
        keys: impl FnOnce(&str) -> Result<K, std::io::Error>,
        env: &crate::config::Env,
    ) -> Result<Self, crate::config::ConfigError> {
        use crate::config::ConfigError;
        let issuer = env.get("DESK_ISSUER")?;
        let client_id = env.get("DESK_CLIENT_ID")?;
        let keys =
            keys(&issuer).map_err(|source| ConfigError::Malformed { name: "DESK_ISSUER", source: Box::new(source) })?;
        let login = HostedLogin::new(&env.get("DESK_LOGIN_URL")?, &client_id, &env.get("DESK_CALLBACK_URL")?)
            .map_err(|source| ConfigError::Malformed { name: "DESK_LOGIN_URL", source: Box::new(source) })?;
        let policy = super::tokens::TokenPolicy { issuer, client_id };
        Ok(Self { tokens: TokenVerifier::new(policy, keys), login })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_forbids_framing_foreign_script_referrers_and_caching() {
        let answer = WebAnswer::redirect(302, "/desk/queue");
        let header =
            |name: &str| answer.headers.iter().find(|(known, _)| *known == name).map(|(_, value)| value.as_str());
        let policy = header("content-security-policy").unwrap();
        for directive in ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"] {
            assert!(policy.contains(directive), "{directive}");
        }
        assert!(!policy.contains("unsafe-inline") && !policy.contains("script-src"), "no script at all: {policy}");
        assert_eq!(header("x-frame-options"), Some("DENY"));
        assert_eq!(header("referrer-policy"), Some("no-referrer"));
        assert_eq!(header("cache-control"), Some("no-store"));
    }

    #[test]
    fn text_on_a_page_is_text_isolated_from_its_neighbours() {
        let hostile = "<script>alert(1)</script>\u{202e}gnp.exe";
        let row = QueueRow {
            id: hostile.to_owned(),
            storefront: "shop-a".to_owned(),
            total: "12.00 EUR".to_owned(),
            waiting_minutes: 61,
            sla_minutes: 60,
            overdue: true,
            claimed_by: Some(format!("\"><img src=x onerror=alert(1)>{}", "x".repeat(500))),
        };
        let operator = SignedIn { name: "ana".to_owned(), csrf: "token\"><b>".to_owned() };
        let html = QueuePage { title: "Review queue", operator: Some(operator), rows: vec![row] }.render().unwrap();
        assert!(!html.contains("<script>") && !html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains("<bdi class=\"id\">&#60;script&#62;alert(1)&#60;"), "escaped, in <bdi>: {html}");
        assert!(STYLESHEET.contains("unicode-bidi: isolate") && STYLESHEET.contains("overflow-wrap: anywhere"));
        assert!(html.contains("overdue"));
    }

    #[test]
    fn the_queue_s_rows_are_read_from_the_api_s_answer() {
        let queue = serde_json::json!({"orders": [{
            "id": "ord_1", "storefront": "shop-a", "status": "ON_HOLD",
            "total": {"minor_units": 1250, "currency": "EUR"},
            "waiting_minutes": 5, "sla_minutes": 60, "overdue": false,
            "claim": {"by": "ana", "until": "2026-12-07T10:00:00Z"}
        }]});
        let rows = rows(&queue);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].total.as_str(), rows[0].claimed_by.as_deref()), ("12.50 EUR", Some("ana")));
    }

    #[test]
    fn an_order_s_pages_and_forms_are_read_from_its_path_and_nothing_else() {
        assert_eq!(OrderPath::parse("/desk/orders/ord_1"), Some(OrderPath::Page("ord_1")));
        assert_eq!(OrderPath::parse("/desk/orders/ord_1/claim"), Some(OrderPath::Form("ord_1", OrderForm::Claim)));
        assert_eq!(OrderPath::parse("/desk/orders/ord_1/review"), Some(OrderPath::Form("ord_1", OrderForm::Review)));
        for other in ["/desk/orders/", "/desk/orders/ord_1/refund", "/desk/orders/ord_1/claim/x", "/desk/queue"] {
            assert_eq!(OrderPath::parse(other), None, "{other}");
        }
    }

    #[test]
    fn signing_in_again_returns_to_the_page_a_form_was_sent_from() {
        assert_eq!(return_path("/desk/orders/ord_1/review").as_str(), "/desk/orders/ord_1");
        assert_eq!(return_path("/desk/orders/ord_1").as_str(), "/desk/orders/ord_1");
        assert_eq!(return_path("/desk/queue").as_str(), "/desk/queue");
        assert_eq!(return_path("/desk/orders/..%2f/claim").as_str(), DeskPath::HOME);
    }

    #[test]
    fn a_review_form_becomes_the_review_route_s_json_and_only_with_a_known_decision() {
        let (body, done) = review_body(b"csrf=t&decision=deny&note=stolen+card").unwrap();
        assert_eq!(done, "denied");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            serde_json::json!({"decision": "deny", "note": "stolen card"})
        );
        let (body, _) = review_body(b"decision=approve&note=+").unwrap();
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), serde_json::json!({"decision": "approve"}));
        for refused in [&b"decision=maybe"[..], b"note=x", b"decision=approve&decision=deny"] {
            assert_eq!(review_body(refused), None);
        }
    }

    #[test]
    fn a_timeline_entry_names_its_operator_wherever_its_shape_keeps_them() {
        let order = serde_json::json!({
            "id": "ord_1", "status": "PAYMENT_AUTHORIZED",
            "customer": {"name": "Grace", "email": "g@example.com", "phone": "+4915112345678"},
            "totals": {"total": {"minor_units": 900, "currency": "EUR"}},
            "lines": [{"sku": "MUG", "quantity": 2}],
            "timeline": [
                {"at": "t1", "status": "ON_HOLD"},
                {"at": "t2", "status": "PAYMENT_AUTHORIZED", "reason": {"code": "review_approved", "decision": {"by": {"operator": "ana", "role": "agent"}}}},
                {"at": "t3", "status": "CANCELLED", "by": {"kind": "operator", "operator": "sam"}}
            ]
        });
        let facts = order_facts(&order);
        let by: Vec<Option<&str>> = facts.timeline.iter().map(|entry| entry.by.as_deref()).collect();
        assert_eq!(by, [None, Some("ana"), Some("sam")]);
        assert_eq!((facts.total.as_str(), facts.may_review, facts.lines[0].quantity), ("9.00 EUR", false, 2));
        let mut held = order.clone();
        held["status"] = Value::from("ON_HOLD");
        assert!(!order_facts(&held).may_review, "offered only what the API says the role allows");
        held["allowed_actions"] = serde_json::json!(["claim", "review"]);
        assert!(order_facts(&held).may_claim && order_facts(&held).may_review);
    }

    #[test]
    fn a_customer_s_own_words_on_the_order_page_stay_words() {
        let order = OrderFacts {
            id: "ord_1".to_owned(),
            status: "ON_HOLD".to_owned(),
            customer_name: "Eve <iframe src=//evil.example></iframe>\u{202e}\u{2066}".to_owned(),
            customer_email: "eve@example.com\"><script>".to_owned(),
            may_claim: true,
            may_review: true,
            ..OrderFacts::default()
        };
        let page = OrderPage {
            title: "Order ord_1".to_owned(),
            operator: Some(SignedIn { name: "ana".to_owned(), csrf: "token".to_owned() }),
            csrf: "token".to_owned(),
            order,
            done: None,
            error: Some("<b>refused</b>".to_owned()),
        };
        let html = page.render().unwrap();
        for markup in ["<iframe", "<script", "<b>"] {
            assert!(!html.contains(markup), "{markup} in {html}");
        }
        assert!(html.contains("<bdi>Eve &#60;iframe"), "the name is text, isolated: {html}");
        assert_eq!(html.matches("name=\"csrf\" value=\"token\"").count(), 3, "every form carries the token");
    }
}
