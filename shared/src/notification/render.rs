//! Messages rendered from the templates in `shared/templates/`, compiled into the binary by
//! askama: every e-mail as HTML and plain text (one single-column layout, no remote images or
//! scripts), every text message as short copy, fitted to one message where it can be. The
//! words come from the order's language (`copy`); the layout is the same in every language.

use askama::Template;

use super::{
    Notice,
    sms::{SmsText, gsm7_folded},
    view::{Block, Span, View},
};
use crate::{
    domain::{CatalogItem, EmailAddress, Order},
    storefront::{NotificationPolicy, StorefrontProfile},
};

/// One e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// What a notice renders to: always an e-mail; a text message for the texted ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub email: Email,
    pub sms: Option<SmsText>,
}

#[derive(Debug, thiserror::Error)]
#[error("template {template} failed to render")]
pub struct RenderError {
    template: &'static str,
    #[source]
    source: askama::Error,
}

#[derive(Template)]
#[template(path = "email.html")]
struct HtmlPart<'a> {
    v: &'a View<'a>,
}

#[derive(Template)]
#[template(path = "email.txt")]
struct TextPart<'a> {
    v: &'a View<'a>,
}

/// The e-mail (and text message, for texted notices) of `notice` about `order`.
/// `recommendations` are shown only where the notice and the storefront allow them.
pub fn render(
    notice: Notice,
    order: &Order,
    policy: &NotificationPolicy,
    recommendations: &[CatalogItem],
) -> Result<Rendered, RenderError> {
    let view = View::new(notice, order, policy, recommendations);
    Ok(Rendered { email: email(&view)?, sms: sms(&view) })
}

fn failed(template: &'static str) -> impl Fn(askama::Error) -> RenderError {
    move |source| RenderError { template, source }
}

/// The e-mail alone: HTML and plain text.
pub(crate) fn render_email(
    notice: Notice,
    order: &Order,
    policy: &NotificationPolicy,
    recommendations: &[CatalogItem],
) -> Result<Email, RenderError> {
    email(&View::new(notice, order, policy, recommendations))
}

fn email(view: &View<'_>) -> Result<Email, RenderError> {
    let html = HtmlPart { v: view }.render().map_err(failed("email.html"))?;
    let text = TextPart { v: view }.render().map_err(failed("email.txt"))?;
    Ok(Email { subject: view.subject.clone(), html, text })
}

/// The text message alone; `None` for notices that are not texted.
pub(crate) fn render_sms(notice: Notice, order: &Order, policy: &NotificationPolicy) -> Option<SmsText> {
    sms(&View::new(notice, order, policy, &[]))
}

/// The message with the tracking link if it fits one message, else without; each as written,
/// else folded into GSM-7 (`août` as `aout`) where that is what makes it fit.
fn sms(view: &View<'_>) -> Option<SmsText> {
    let words = super::copy::words(view.language);
    let texted = view.notice.texted()?;
    let with_link = words.sms(texted, view, view.sms_link(true));
    let without = words.sms(texted, view, view.sms_link(false));
    let mut candidates = Vec::with_capacity(4);
    for text in [with_link, without] {
        let folded = gsm7_folded(&text);
        let differs = folded != text;
        candidates.push(text);
        if differs {
            candidates.push(folded);
        }
    }
    SmsText::fit(candidates)
}

/// Plain text of spans: emphasis and links as their words.
fn plain(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|span| match span {
            Span::Text(text) | Span::Strong(text) | Span::Link { text, .. } => text.as_str(),
        })
        .collect()
}

impl Block {
    /// The block as the plain-text part writes it.
    pub(super) fn plain(&self) -> String {
        match self {
            Self::Paragraph(spans) => plain(spans),
            Self::List(items) => items.iter().map(|item| format!("- {item}")).collect::<Vec<_>>().join("\n"),
            Self::Button { label, url } => format!("{label}: {url}"),
        }
    }
}

impl View<'_> {
    fn questions_plain(&self) -> String {
        plain(&self.questions)
    }
}

/// The e-mail as MIME, from the shop's name at the sender identity, replies to its support.
pub fn mime(
    email: &Email,
    shop: &StorefrontProfile,
    sender: &EmailAddress,
    to_name: &str,
    to: &EmailAddress,
) -> Vec<u8> {
    let builder = mail_builder::MessageBuilder::new()
        .from((shop.name.as_str(), sender.as_str()))
        .reply_to(shop.support_email.as_str())
        .to((to_name, to.as_str()))
        .subject(email.subject.as_str())
        .text_body(email.text.as_str())
        .html_body(email.html.as_str());
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    builder.write_to(&mut out).ok();
    out
}
