//! What the HTTP API's functions share on the way in and out: API Gateway requests to checked
//! headers, and use-case answers and problems to responses.

use lambda_http::{
    Body, Request, RequestExt, Response,
    http::{HeaderValue, StatusCode, header},
    request::RequestContext,
};

use crate::api::{Answer, Caller, PROBLEM_CONTENT_TYPE, Problem, within_body_limit};

/// The route API Gateway matched (`POST /orders`) and a claim of the token its JWT authorizer
/// verified; `who` says whose identity the claim is, for the 401 when it is missing.
pub fn route_and_claim<'r>(request: &'r Request, claim: &str, who: &str) -> Result<(&'r str, &'r str), Problem> {
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return Err(Problem::internal());
    };
    let value = context
        .authorizer
        .as_ref()
        .and_then(|authorizer| authorizer.jwt.as_ref())
        .and_then(|jwt| jwt.claims.get(claim))
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            Problem::new(401, "unauthenticated", format!("the request carries no {who} identity")).at("Authorization")
        })?;
    Ok((context.route_key.as_deref().unwrap_or_default(), value))
}

/// The route API Gateway matched and the operator calling it, from the claims its JWT
/// authorizer verified and the request's id.
pub fn route_and_caller(request: &Request) -> Result<(&str, Caller), Problem> {
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return Err(Problem::internal());
    };
    let claims = context.authorizer.as_ref().and_then(|authorizer| authorizer.jwt.as_ref()).map(|jwt| &jwt.claims);
    let claim = |name: &str| claims.and_then(|claims| claims.get(name)).cloned();
    let caller = Caller::from_claims(&claim, context.request_id.as_deref().unwrap_or_default())?;
    Ok((context.route_key.as_deref().unwrap_or_default(), caller))
}

/// The request's query string as sent (API Gateway's `rawQueryString`), still encoded.
pub fn raw_query(request: &Request) -> &str {
    request.uri().query().unwrap_or_default()
}

/// The request's body, refused (413) over the API's limit before anything reads it.
pub fn body(request: &Request) -> Result<&[u8], Problem> {
    within_body_limit(request.body().as_ref())
}

pub fn require_json(request: &Request) -> Result<(), Problem> {
    // A content type sent twice or beyond ASCII is not `application/json` either.
    let media_type = header_text(request, header::CONTENT_TYPE.as_str(), "unsupported_media_type")
        .ok()
        .flatten()
        .and_then(|value| value.split(';').next())
        .map(|media_type| media_type.trim().to_ascii_lowercase());
    match media_type.as_deref() {
        Some("application/json") => Ok(()),
        _ => Err(Problem::new(415, "unsupported_media_type", "send the order as application/json")
            .at(header::CONTENT_TYPE.as_str())),
    }
}

/// A header the function judges: absent, or sent once in visible ASCII; refused (400, `code`)
/// otherwise, never read as its first value or with its bytes repaired.
pub fn header_text<'r>(request: &'r Request, name: &str, code: &'static str) -> Result<Option<&'r str>, Problem> {
    let refused = || Problem::bad_request(code, "must be sent once, in printable ASCII").at(name);
    let mut values = request.headers().get_all(name).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(refused());
    }
    value.to_str().map(Some).map_err(|_| refused())
}

pub fn success(answer: Answer) -> Response<Body> {
    let mut response = respond(answer.response.status, "application/json", answer.response.body);
    let headers = response.headers_mut();
    if let Some(location) = answer.response.location.and_then(|location| HeaderValue::from_str(&location).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if let Some(etag) = answer.etag.and_then(|version| HeaderValue::from_str(&format!("\"{version}\"")).ok()) {
        headers.insert(header::ETAG, etag);
    }
    if answer.replayed {
        headers.insert("Idempotent-Replayed", HeaderValue::from_static("true"));
    }
    response
}

pub fn failure(problem: &Problem) -> Response<Body> {
    if problem.is_server_error() {
        tracing::warn!(code = problem.code, status = problem.status, "request failed on our side");
    } else {
        tracing::info!(
            code = problem.code,
            status = problem.status,
            field = problem.field.as_deref(),
            "request refused"
        );
    }
    let mut response = respond(problem.status, PROBLEM_CONTENT_TYPE, problem.to_json());
    if problem.status == 503 {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

pub fn respond(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
