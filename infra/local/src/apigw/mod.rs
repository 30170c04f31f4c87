//! API Gateway's side of the local cloud. Here: matching a request to a route of the template
//! and turning it into the payload-format 2.0 event the function receives; the server on one
//! loopback port (`api`), the JWT authorizers and local token issuer (`auth`), the operators'
//! hosted login (`login`), and a client
//! as storefronts and operators call it (`client`).

pub mod api;
pub mod auth;
pub mod client;
pub mod login;

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::stack::template::Template;

/// One route of the template: `POST /orders` → `IntakeFunction`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function: String,
    /// The authorizer that guards it: the event's `Auth.Authorizer`, else its API's default;
    /// `None` for `NONE` or an API without one.
    pub authorizer: Option<String>,
    /// The event's `Auth.AuthorizationScopes`: the token must hold one of them.
    pub scopes: Vec<String>,
}

impl Route {
    /// `GET /orders/{id}`, as API Gateway writes the route key.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameters if `path` matches this route's pattern. A last segment `{name+}`
    /// (greedy) takes the rest of the path, one segment or more.
    fn matches(&self, method: &str, path: &str) -> Option<BTreeMap<String, String>> {
        if !self.method.eq_ignore_ascii_case(method) && self.method != "ANY" {
            return None;
        }
        let pattern: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        let greedy = self.greedy_parameter();
        let fits = if greedy.is_some() { actual.len() >= pattern.len() } else { actual.len() == pattern.len() };
        if !fits {
            return None;
        }
        let mut parameters = BTreeMap::new();
        for (index, (expected, given)) in pattern.iter().zip(&actual).enumerate() {
            match expected.strip_prefix('{').and_then(|name| name.strip_suffix('}')) {
                Some(_) if given.is_empty() => return None,
                Some(name) if greedy.is_some() && index == pattern.len() - 1 => {
                    parameters.insert(name.trim_end_matches('+').to_owned(), actual[index..].join("/"));
                }
                Some(name) => {
                    parameters.insert(name.to_owned(), (*given).to_owned());
                }
                None if expected == given => {}
                None => return None,
            }
        }
        Some(parameters)
    }

    /// The name of the route's greedy path variable (`/desk/{proxy+}`), if it ends in one.
    fn greedy_parameter(&self) -> Option<&str> {
        let last = self.path.trim_end_matches('/').rsplit('/').next()?;
        last.strip_prefix('{')?.strip_suffix("+}")
    }

    /// How specific the route is, as API Gateway ranks the routes a request matches: any route
    /// before one with a greedy variable, then more literal segments first, then one method
    /// before `ANY`.
    fn specificity(&self) -> (bool, usize, bool) {
        let literal = self.path.split('/').filter(|segment| !segment.is_empty() && !segment.starts_with('{')).count();
        (self.greedy_parameter().is_none(), literal, self.method != "ANY")
    }
}

/// Every `HttpApi` event of every function in the template.
pub fn routes(template: &Template) -> Vec<Route> {
    let default_authorizer = |properties: &Value| {
        let api = properties.pointer("/ApiId/Ref").and_then(Value::as_str)?;
        let api = template.resources.get(api)?;
        api.properties.pointer("/Auth/DefaultAuthorizer").and_then(Value::as_str).map(str::to_owned)
    };
    template
        .of_type("AWS::Serverless::Function")
        .flat_map(|(function, resource)| {
            let events = resource.properties.get("Events").and_then(Value::as_object).cloned().unwrap_or_default();
            events
                .into_values()
                .filter(|event| event.get("Type").and_then(Value::as_str) == Some("HttpApi"))
                .filter_map(|event| {
                    let properties = event.get("Properties")?;
                    let authorizer = match properties.pointer("/Auth/Authorizer").and_then(Value::as_str) {
                        Some("NONE") => None,
                        Some(named) => Some(named.to_owned()),
                        None => default_authorizer(properties),
                    };
                    let scopes = properties.pointer("/Auth/AuthorizationScopes").and_then(Value::as_array);
                    Some(Route {
                        method: properties.get("Method")?.as_str()?.to_ascii_uppercase(),
                        path: properties.get("Path")?.as_str()?.to_owned(),
                        function: function.clone(),
                        authorizer,
                        scopes: scopes.into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect(),
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// An HTTP request as the local API received it.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// As HTTP APIs deliver them: lower-case names, a header sent twice joined by commas (see
    /// [`joined_headers`]).
    pub headers: BTreeMap<String, String>,
    /// The bytes received, repaired in no way.
    pub body: Vec<u8>,
}

/// Headers as payload format 2.0 carries them: names lower-cased, the values of a name sent
/// more than once joined by commas in the order received, nothing dropped.
pub fn joined_headers<N: AsRef<str>, V: AsRef<str>>(
    headers: impl IntoIterator<Item = (N, V)>,
) -> BTreeMap<String, String> {
    let mut joined: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        joined
            .entry(name.as_ref().to_ascii_lowercase())
            .and_modify(|values| {
                values.push(',');
                values.push_str(value.as_ref());
            })
            .or_insert_with(|| value.as_ref().to_owned());
    }
    joined
}

/// The route a request matches, with its path parameters.
pub fn route_for<'r>(routes: &'r [Route], request: &HttpRequest) -> Option<(&'r Route, BTreeMap<String, String>)> {
    routes
        .iter()
        .filter_map(|route| Some((route, route.matches(&request.method, &request.path)?)))
        .max_by_key(|(route, _)| route.specificity())
}

/// The route a request matches and the event for its function; `None` if no route matches.
pub fn event_for(routes: &[Route], request: &HttpRequest, claims: &Map<String, Value>) -> Option<(Route, Value)> {
    let (route, parameters) = route_for(routes, request)?;
    Some((route.clone(), event(route, &parameters, request, claims)))
}

/// The payload-format 2.0 event for `request` on `route`, carrying the verified `claims`.
pub fn event(
    route: &Route,
    parameters: &BTreeMap<String, String>,
    request: &HttpRequest,
    claims: &Map<String, Value>,
) -> Value {
    let now = Utc::now();
    // A body that is not UTF-8 travels base64-encoded, as API Gateway sends binary: the function
    // must see the bytes that were sent, not a string with replacement characters.
    let (body, is_base64_encoded) = match std::str::from_utf8(&request.body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(&request.body), true),
    };
    // Payload format 2.0 carries the cookies apart from the headers, one entry per cookie.
    let mut headers = request.headers.clone();
    let cookies: Vec<String> = headers
        .remove("cookie")
        .map(|joined| joined.split(';').map(str::trim).filter(|cookie| !cookie.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    json!({
        "version": "2.0",
        "routeKey": route.key(),
        "rawPath": request.path,
        "rawQueryString": request.query,
        "cookies": if cookies.is_empty() { Value::Null } else { json!(cookies) },
        "headers": headers,
        "pathParameters": if parameters.is_empty() { Value::Null } else { json!(parameters) },
        "requestContext": {
            "accountId": crate::stack::provision::ACCOUNT_ID,
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "requestId": format!("local-{}", now.timestamp_nanos_opt().unwrap_or_default()),
            "routeKey": route.key(),
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": request.headers.get("user-agent").cloned().unwrap_or_default()
            },
            "authorizer": { "jwt": { "claims": claims, "scopes": null } }
        },
        "body": body,
        "isBase64Encoded": is_base64_encoded
    })
}

/// An HTTP response as API Gateway builds it from a function's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn message(status: u16, message: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: json!({ "message": message }).to_string().into_bytes(),
        }
    }
}

/// Payload format 2.0: an object with `statusCode` is a response; anything else is a 200 with
/// the answer as its JSON body.
pub fn response_from(answer: &Value) -> HttpResponse {
    let Some(status) = answer.get("statusCode").and_then(Value::as_u64) else {
        return HttpResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: answer.to_string().into_bytes(),
        };
    };
    let mut headers: Vec<(String, String)> = answer
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), crate::stack::template::scalar_text(value)))
        .collect();
    for (name, values) in answer.get("multiValueHeaders").and_then(Value::as_object).into_iter().flatten() {
        for value in values.as_array().into_iter().flatten() {
            headers.push((name.clone(), crate::stack::template::scalar_text(value)));
        }
    }
    for cookie in answer.get("cookies").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        headers.push(("set-cookie".to_owned(), cookie.to_owned()));
    }
    let text = answer.get("body").and_then(Value::as_str).unwrap_or_default();
    let body = if answer.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    HttpResponse { status: u16::try_from(status).unwrap_or(500), headers, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_s_routes_match_paths_and_extract_parameters() {
        let template = Template::load(&crate::stack::template::default_path()).unwrap();
        let routes = routes(&template);
        let request = HttpRequest { method: "GET".into(), path: "/orders/ord_1".into(), ..HttpRequest::default() };
        let (route, event) = event_for(&routes, &request, &Map::new()).unwrap();
        assert_eq!((route.key().as_str(), route.function.as_str()), ("GET /orders/{id}", "IntakeFunction"));
        assert_eq!(event["pathParameters"]["id"], "ord_1");
        let post = HttpRequest { method: "POST".into(), path: "/orders".into(), ..HttpRequest::default() };
        assert_eq!(event_for(&routes, &post, &Map::new()).unwrap().0.key(), "POST /orders");
        let nowhere = HttpRequest { method: "DELETE".into(), path: "/orders".into(), ..HttpRequest::default() };
        assert!(event_for(&routes, &nowhere, &Map::new()).is_none());
    }

    #[test]
    fn a_greedy_variable_takes_the_rest_of_the_path_and_yields_to_a_more_specific_route() {
        let route = |method: &str, path: &str, function: &str| Route {
            method: method.into(),
            path: path.into(),
            function: function.into(),
            ..Route::default()
        };
        let routes = [
            route("ANY", "/desk/{proxy+}", "Greedy"),
            route("GET", "/desk/{page}", "OneSegment"),
            route("GET", "/desk/queue", "Literal"),
        ];
        let matched = |method: &str, path: &str| {
            let request = HttpRequest { method: method.into(), path: path.into(), ..HttpRequest::default() };
            route_for(&routes, &request).map(|(route, parameters)| (route.function.clone(), parameters))
        };
        let (function, parameters) = matched("POST", "/desk/orders/ord_1/claim").unwrap();
        assert_eq!((function.as_str(), parameters["proxy"].as_str()), ("Greedy", "orders/ord_1/claim"));
        assert_eq!(matched("GET", "/desk/queue").unwrap().0, "Literal");
        assert_eq!(matched("GET", "/desk/search").unwrap().0, "OneSegment");
        assert_eq!(matched("POST", "/desk/search").unwrap().0, "Greedy");
        assert!(matched("GET", "/desk").is_none(), "a greedy variable takes one segment or more");
        assert!(matched("GET", "/desks/queue").is_none());
    }

    #[test]
    fn the_event_carries_the_bytes_and_headers_that_were_sent() {
        let route = Route { method: "POST".into(), path: "/orders".into(), ..Route::default() };
        let request = HttpRequest {
            method: "POST".into(),
            path: "/orders".into(),
            headers: joined_headers([("Idempotency-Key", "a"), ("X-Other", "é"), ("idempotency-key", "b")]),
            body: b"{\"name\": \"\xff\"}".to_vec(),
            ..HttpRequest::default()
        };
        let event = event(&route, &BTreeMap::new(), &request, &Map::new());
        assert_eq!(event["headers"]["idempotency-key"], "a,b");
        assert_eq!(event["headers"]["x-other"], "é");
        assert_eq!(event["isBase64Encoded"], true);
        let sent = base64::engine::general_purpose::STANDARD.decode(event["body"].as_str().unwrap()).unwrap();
        assert_eq!(sent, request.body);
        let text = HttpRequest { body: b"{}".to_vec(), ..request };
        let event = super::event(&route, &BTreeMap::new(), &text, &Map::new());
        assert_eq!((event["body"].as_str(), &event["isBase64Encoded"]), (Some("{}"), &Value::Bool(false)));
    }

    #[test]
    fn answers_become_responses_as_payload_format_2_0_says() {
        let full = response_from(&json!({
            "statusCode": 201,
            "headers": { "location": "/orders/1" },
            "multiValueHeaders": { "vary": ["a", "b"] },
            "cookies": ["c=1"],
            "body": "aGk=",
            "isBase64Encoded": true
        }));
        assert_eq!(full.status, 201);
        assert_eq!(full.body, b"hi");
        for header in [("location", "/orders/1"), ("vary", "a"), ("vary", "b"), ("set-cookie", "c=1")] {
            assert!(full.headers.contains(&(header.0.to_owned(), header.1.to_owned())), "{header:?}");
        }
        let inferred = response_from(&json!({ "ok": true }));
        assert_eq!((inferred.status, inferred.body), (200, br#"{"ok":true}"#.to_vec()));
    }
}
