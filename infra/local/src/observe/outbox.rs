//! Every e-mail and text message that went through the local SES and SNS, written to a folder a
//! developer can open: `.eml` (and `.html` for HTML e-mail) per e-mail, `.txt` per SMS. The
//! moto sidecar records what was sent (`/orderflow/outbox?after=N`, shaped as moto's state dump);
//! this reads only what is new, however full the local cloud is.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde_json::Value;

use crate::observe::journal::Journal;

/// One message as the outbox writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub id: String,
    /// File name without extension: `0003-email-jane_example.com`.
    pub stem: String,
    /// (extension, content)
    pub files: Vec<(&'static str, String)>,
}

/// The messages of a moto state dump (or of the sidecar's outbox), in the order moto recorded them.
pub fn letters(dump: &Value) -> Vec<Letter> {
    let list = |pointer: &str| dump.pointer(pointer).and_then(Value::as_array).cloned().unwrap_or_default();
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut letters = Vec::new();
    for message in list("/ses/Message") {
        let to = recipients(message.pointer("/destinations/ToAddresses"));
        let body = text(&message, "body");
        let html = looks_like_html(&body);
        let eml = format!(
            "From: {}\r\nTo: {to}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/{}; charset=utf-8\r\n\r\n{body}",
            text(&message, "source"),
            text(&message, "subject"),
            if html { "html" } else { "plain" },
        );
        let mut files = vec![("eml", eml)];
        if html {
            files.push(("html", body));
        }
        letters.push(Letter { id: text(&message, "id"), stem: format!("email-{}", file_safe(&to)), files });
    }
    for message in list("/ses/RawMessage") {
        let raw = text(&message, "raw_data");
        let to = recipients(message.get("destinations"));
        let mut files = vec![("eml", raw.clone())];
        if let Some(html) = mime_part(&raw, "text/html") {
            files.push(("html", html));
        }
        letters.push(Letter { id: text(&message, "id"), stem: format!("email-{}", file_safe(&to)), files });
    }
    for sms in list("/sns/SMS") {
        let phone = text(&sms, "phone_number");
        let body = format!("To: {phone}\n\n{}\n", text(&sms, "message"));
        letters.push(Letter {
            id: text(&sms, "message_id"),
            stem: format!("sms-{}", file_safe(&phone)),
            files: vec![("txt", body)],
        });
    }
    letters
}

/// The bare addresses, once each: SES adds the MIME `To` (`"Name" <address>`) to the
/// destinations it was given.
fn recipients(value: Option<&Value>) -> String {
    let mut addresses: Vec<&str> = Vec::new();
    for raw in value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        let bare = raw.rsplit_once('<').map_or(raw, |(_, rest)| rest.trim_end_matches('>')).trim();
        if !addresses.contains(&bare) {
            addresses.push(bare);
        }
    }
    addresses.join(", ")
}

/// One line per message sent: (channel, recipient, e-mail subject or text message).
pub fn summaries(dump: &Value) -> Vec<(&'static str, String, String)> {
    let list = |pointer: &str| dump.pointer(pointer).and_then(Value::as_array).cloned().unwrap_or_default();
    let mut sent = Vec::new();
    for message in list("/ses/RawMessage") {
        let raw = message["raw_data"].as_str().unwrap_or_default();
        sent.push(("email", recipients(message.get("destinations")), header(raw, "Subject")));
    }
    for sms in list("/sns/SMS") {
        let text = |key: &str| sms[key].as_str().unwrap_or_default().to_owned();
        sent.push(("sms", text("phone_number"), text("message")));
    }
    sent
}

fn looks_like_html(body: &str) -> bool {
    let start = body.trim_start().to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html") || start.starts_with('<')
}

fn file_safe(text: &str) -> String {
    let safe: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '+' { c } else { '_' }).collect();
    safe.chars().take(60).collect()
}

/// The part of a MIME message with this content type (`text/html`), decoded (base64 or
/// quoted-printable).
pub fn mime_part(raw: &str, content_type: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    let start = lower.find(&format!("content-type: {content_type}"))?;
    let headers_end =
        lower[start..].find("\r\n\r\n").map(|at| (at, 4)).or_else(|| lower[start..].find("\n\n").map(|at| (at, 2)))?;
    let headers = &lower[start..start + headers_end.0];
    let body_start = start + headers_end.0 + headers_end.1;
    let body_end = raw[body_start..].find("\n--").map_or(raw.len(), |at| body_start + at);
    let body = raw[body_start..body_end].trim_end();
    if headers.contains("content-transfer-encoding: base64") {
        let compact: String = body.split_whitespace().collect();
        return STANDARD.decode(compact).ok().and_then(|bytes| String::from_utf8(bytes).ok());
    }
    if headers.contains("content-transfer-encoding: quoted-printable") {
        return Some(quoted_printable(body));
    }
    Some(body.to_owned())
}

/// A MIME message's header, unfolded, its encoded words (RFC 2047: `=?utf-8?b?…?=`, as a subject
/// beyond ASCII is sent) decoded.
pub fn header(raw: &str, name: &str) -> String {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ").replace("\r\n\t", " ");
    let value = head.lines().find_map(|line| line.strip_prefix(&format!("{name}: "))).unwrap_or_default();
    let mut decoded = String::with_capacity(value.len());
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, word) = rest.split_at(start);
        match encoded_word(word) {
            Some((text, used)) => {
                // Space between two encoded words is folding, not text.
                if !(after_word && before.trim().is_empty()) {
                    decoded.push_str(before);
                }
                decoded.push_str(&text);
                rest = &word[used..];
                after_word = true;
            }
            None => {
                decoded.push_str(before);
                decoded.push_str("=?");
                rest = &word[2..];
                after_word = false;
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// `=?utf-8?b?…?=` or `=?utf-8?q?…?=` at the start of `word`: its text and its length.
fn encoded_word(word: &str) -> Option<(String, usize)> {
    let (charset, rest) = word.strip_prefix("=?")?.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let decoded = match encoding {
        "B" | "b" => String::from_utf8(STANDARD.decode(text).ok()?).ok()?,
        "Q" | "q" => quoted_printable(&text.replace('_', " ")),
        _ => return None,
    };
    // `=?` charset `?` encoding `?` text `?=`.
    Some((decoded, 2 + charset.len() + 1 + encoding.len() + 1 + end + 2))
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[index], hex.and_then(|pair| u8::from_str_radix(pair, 16).ok())) {
            (b'=', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The moto sidecar's record of what was sent: `?after=N` skips the first N messages.
pub const OUTBOX_PATH: &str = "/orderflow/outbox";

/// Writes new letters into `folder` as they appear in the local cloud at `endpoint`.
pub async fn keep(endpoint: String, folder: PathBuf, journal: Journal) {
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut next = 0u64;
    let mut count = 0usize;
    if let Err(error) = std::fs::create_dir_all(&folder) {
        journal.note(format!("outbox: cannot create {}: {error}", folder.display()));
        return;
    }
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Ok(uri) = format!("{endpoint}{OUTBOX_PATH}?after={next}").parse::<hyper::Uri>() else { return };
        let Ok(response) = client.get(uri).await else { continue };
        let Ok(body) = response.into_body().collect().await.map(|body| body.to_bytes()) else { continue };
        let Ok(sent) = serde_json::from_slice::<Value>(&body) else { continue };
        next = sent["next"].as_u64().unwrap_or(next);
        for letter in letters(&sent) {
            count += 1;
            match write(&folder, count, &letter) {
                Ok(path) => journal.note(format!("outbox: {}", path.display())),
                Err(error) => journal.note(format!("outbox: cannot write {}: {error}", letter.stem)),
            }
        }
    }
}

fn write(folder: &Path, count: usize, letter: &Letter) -> std::io::Result<PathBuf> {
    let mut first = None;
    for (extension, content) in &letter.files {
        let path = folder.join(format!("{count:04}-{}.{extension}", letter.stem));
        std::fs::write(&path, content)?;
        first.get_or_insert(path);
    }
    Ok(first.unwrap_or_else(|| folder.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn simple_raw_and_sms_messages_become_files() {
        let raw = "From: shop@example.com\r\nTo: jane@example.com\r\nSubject: Your order\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Hello =E2=82=AC 5</p>\r\n--b--\r\n";
        let dump = json!({
            "ses": {
                "Message": [{ "id": "m1", "source": "shop@example.com", "subject": "Hi", "body": "<p>x</p>", "destinations": { "ToAddresses": ["jane@example.com"] } }],
                "RawMessage": [{ "id": "m2", "source": "shop@example.com", "raw_data": raw, "destinations": ["jane@example.com", "Jane <jane@example.com>"] }]
            },
            "sns": { "SMS": [{ "message_id": "s1", "phone_number": "+15550001111", "message": "Shipped!" }] }
        });
        let letters = letters(&dump);
        assert_eq!(letters.len(), 3);
        assert_eq!(letters[0].stem, "email-jane_example.com");
        assert!(letters[0].files[0].1.contains("Subject: Hi\r\n") && letters[0].files[0].1.contains("text/html"));
        assert_eq!(letters[0].files[1], ("html", "<p>x</p>".to_owned()));
        assert_eq!(letters[1].files[0].1, raw);
        assert_eq!(letters[1].stem, "email-jane_example.com", "{:?}", letters[1]);
        assert_eq!(letters[1].files[1], ("html", "<p>Hello € 5</p>".to_owned()));
        assert_eq!(letters[2].stem, "sms-+15550001111");
        assert!(letters[2].files[0].1.contains("Shipped!"));
        let sent = summaries(&dump);
        assert_eq!(sent[0], ("email", "jane@example.com".to_owned(), "Your order".to_owned()));
        assert_eq!(sent[1], ("sms", "+15550001111".to_owned(), "Shipped!".to_owned()));
    }

    #[test]
    fn encoded_words_in_a_header_are_decoded_and_the_space_between_them_dropped() {
        // "Bestellung 1 ist bestätigt", as mail-builder encodes it, folded over two lines.
        let encoded = STANDARD.encode("Bestellung 1 ist best\u{e4}tigt");
        let raw = format!("Subject: =?utf-8?B?{encoded}?=\r\n =?utf-8?Q?_=E2=82=AC_5?= and more\r\nTo: x\r\n\r\nbody");
        assert_eq!(header(&raw, "Subject"), "Bestellung 1 ist bestätigt € 5 and more");
        let unknown = "=?latin1?q?x?= =?utf-8?x?y?=";
        assert_eq!(header(&format!("Subject: {unknown}\r\n\r\n"), "Subject"), unknown);
        assert_eq!(header("To: a\r\n\r\n", "Subject"), "");
    }
}
