//! API errors as `application/problem+json` (RFC 9457), with a stable `code` and the offending field.

use serde::Serialize;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// What went wrong with a request, in a form a client can act on. Internals never reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: &'static str,
    pub status: u16,
    /// Stable and machine-readable: clients branch on it.
    pub code: &'static str,
    pub detail: String,
    /// A JSON pointer into the request body (`/lines/0/quantity`), or the header's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: u16, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("urn:orderflow:problem:{code}"),
            title: title(status),
            status,
            code,
            detail: detail.into(),
            field: None,
        }
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The request is not well-formed: bad JSON, a missing field, a field of the wrong type.
    pub(crate) fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, code, detail)
    }

    /// The request is well-formed but a value breaks a rule.
    pub(crate) fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(422, code, detail)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, "order_not_found", "no such order").at("id")
    }

    /// Our fault or our dependencies': the client may retry the same request, with the same
    /// idempotency key, and nothing will have been written twice.
    pub fn unavailable() -> Self {
        Self::new(503, "service_unavailable", "the order service is briefly unavailable; retry the same request")
    }

    pub(crate) fn internal() -> Self {
        Self::new(500, "internal_error", "the order service failed; the request was not carried out")
    }

    /// True where the client did nothing wrong.
    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"code\":\"internal_error\",\"status\":500}"))
    }
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        428 => "Precondition Required",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_serialises_as_rfc_9457_with_code_and_field() {
        let problem = Problem::unprocessable("invalid_email", "is not an e-mail address").at("/customer/email");
        let json: serde_json::Value = serde_json::from_str(&problem.to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "urn:orderflow:problem:invalid_email",
                "title": "Unprocessable Content",
                "status": 422,
                "code": "invalid_email",
                "detail": "is not an e-mail address",
                "field": "/customer/email"
            })
        );
        assert!(!problem.is_server_error());
        assert!(Problem::unavailable().is_server_error());
    }
}
