//! The template's HTTP APIs on one loopback port: route matching, the JWT authorizers (401
//! before any function runs), the payload-format 2.0 event, and the function's answer back
//! into HTTP, as API Gateway does it. The local issuer's keys are served at
//! `/.well-known/jwks.json`, and the operators' hosted login at `/oauth2/` and `/logout`.

use std::{
    collections::{BTreeMap, HashMap},
    convert::Infallible,
    sync::Arc,
};

use http_body_util::{BodyExt, Full};
use hyper::{
    Request, Response,
    body::{Bytes, Incoming},
};
use tokio::net::TcpListener;

use crate::{
    apigw::auth::{JwtAuthorizer, LocalIssuer},
    apigw::login::LocalLogin,
    apigw::{self, HttpRequest, HttpResponse, Route},
    lambda::runtime::{FunctionHost, InvokeError},
    lambda::sources::{Chaos, Invoker},
    observe::journal::Journal,
};

#[derive(Debug)]
pub struct LocalApi {
    pub routes: Vec<Route>,
    pub authorizers: BTreeMap<String, JwtAuthorizer>,
    pub issuer: Arc<LocalIssuer>,
    pub login: Option<Arc<LocalLogin>>,
    pub hosts: HashMap<String, Arc<FunctionHost>>,
    pub journal: Journal,
}

pub async fn serve(listener: TcpListener, api: Arc<LocalApi>) {
    crate::serve::serve_http(listener, api, respond).await;
}

async fn respond(api: Arc<LocalApi>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    // A value's bytes beyond ASCII are kept one character each (ISO-8859-1, as HTTP/1.1 once
    // defined them), never dropped: the function judges them.
    let latin1 =
        |value: &hyper::header::HeaderValue| value.as_bytes().iter().map(|&byte| char::from(byte)).collect::<String>();
    let request = HttpRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: apigw::joined_headers(parts.headers.iter().map(|(name, value)| (name.as_str(), latin1(value)))),
        body: body.to_vec(),
    };
    Ok(into_hyper(api.handle(&request).await))
}

impl LocalApi {
    pub async fn handle(&self, request: &HttpRequest) -> HttpResponse {
        if request.method == "GET" && request.path == "/.well-known/jwks.json" {
            return HttpResponse {
                status: 200,
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body: self.issuer.jwks().to_string().into_bytes(),
            };
        }
        if let Some(answer) = self.login.as_ref().and_then(|login| login.handle(request, &self.issuer)) {
            return answer;
        }
        let Some((route, parameters)) = apigw::route_for(&self.routes, request) else {
            return HttpResponse::message(404, "Not Found");
        };
        let claims = match &route.authorizer {
            None => serde_json::Map::new(),
            Some(name) => {
                let Some(authorizer) = self.authorizers.get(name) else {
                    self.journal.note(format!("{}: the template names no authorizer {name:?}", route.key()));
                    return HttpResponse::message(500, "Internal Server Error");
                };
                match authorizer.authorize(&request.headers, &self.issuer, &route.scopes) {
                    Ok(claims) => claims,
                    Err(denial) => {
                        let status = denial.status();
                        self.journal.note(format!("{status} {} {}: {denial}", request.method, request.path));
                        let (message, error) = if status == 403 {
                            ("Forbidden", "insufficient_scope")
                        } else {
                            ("Unauthorized", "invalid_token")
                        };
                        let mut response = HttpResponse::message(status, message);
                        response.headers.push((
                            "www-authenticate".to_owned(),
                            format!("Bearer error=\"{error}\" error_description=\"{denial}\""),
                        ));
                        return response;
                    }
                }
            }
        };
        let Some(host) = self.hosts.get(&route.function) else {
            return HttpResponse::message(500, "Internal Server Error");
        };
        let event = apigw::event(route, &parameters, request, &claims);
        let invoker =
            Invoker::new(host.clone(), self.journal.clone(), format!("http {}", route.key()), Chaos::default());
        let _busy = self.journal.begin();
        match invoker.invoke_once(event, 1).await {
            Ok(answer) => apigw::response_from(&answer),
            Err(InvokeError::Timeout(_)) => HttpResponse::message(503, "Service Unavailable"),
            Err(_) => HttpResponse::message(500, "Internal Server Error"),
        }
    }
}

fn into_hyper(response: HttpResponse) -> Response<Full<Bytes>> {
    let mut reply = Response::new(Full::new(Bytes::from(response.body)));
    *reply.status_mut() =
        hyper::StatusCode::from_u16(response.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) =
            (hyper::header::HeaderName::try_from(name), hyper::header::HeaderValue::try_from(value))
        {
            reply.headers_mut().append(name, value);
        }
    }
    reply
}
