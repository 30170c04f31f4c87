//! What a message shows about an order, as plain data: formatted for the customer's locale
//! (`compose` fills it from the order and its language's phrasebook), laid out by the templates,
//! and the shapes its text comes in (spans, blocks, the frame's labels).

use super::Notice;
use crate::{domain::Language, storefront::StorefrontProfile};

/// Part of a sentence: HTML shows emphasis and links, plain text and text messages do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Span {
    Text(String),
    Strong(String),
    Link { text: String, url: String },
}

impl From<&str> for Span {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Span {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

/// A block of a message's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Block {
    Paragraph(Vec<Span>),
    List(Vec<String>),
    /// A call to action: a button in HTML, `label: url` in plain text.
    Button {
        label: &'static str,
        url: String,
    },
}

/// Words around a value: `Frame("Hi ", ",")` makes `Hi Grace,`.
#[derive(Debug)]
pub(super) struct Frame(pub &'static str, pub &'static str);

impl Frame {
    pub(super) fn around(&self, value: &str) -> String {
        format!("{}{value}{}", self.0, self.1)
    }
}

/// The words of a message's frame: greeting, headings, totals, links.
#[derive(Debug)]
pub(super) struct Labels {
    pub greeting: Frame,
    pub order_heading: Frame,
    pub placed: Frame,
    /// Around a unit price.
    pub each: Frame,
    /// After the carrier's name, around the tracking number.
    pub tracking_number: Frame,
    /// Around the day a parcel should arrive.
    pub arriving: Frame,
    /// Before the shop's support address.
    pub write_to: &'static str,
    /// Around the shop's phone number, after its address; the sentence's end without one.
    pub or_call: Frame,
    pub parcels: &'static str,
    pub delivered: &'static str,
    pub track_this_parcel: &'static str,
    pub subtotal: &'static str,
    pub shipping: &'static str,
    pub tax: &'static str,
    pub total: &'static str,
    pub delivery: &'static str,
    pub standard: &'static str,
    pub express: &'static str,
    pub you_may_also_like: &'static str,
    pub see_your_order: &'static str,
    pub rate_your_order: &'static str,
    /// Between a label and its value in plain text: French puts a space before the colon.
    pub colon: &'static str,
    pub payment_method_unusable: &'static str,
}

pub(super) struct LineView {
    pub name: String,
    pub quantity: u16,
    /// The unit price, as "€12.50 each".
    pub each: String,
    pub total: String,
}

pub(super) struct ParcelView {
    pub carrier: String,
    /// "DHL, tracking number …".
    pub heading: String,
    pub tracking_url: Option<String>,
    /// "Delivered" or "Arriving Thursday 26 November 2026".
    pub state: String,
}

pub(super) struct DelayView {
    pub carrier: String,
    pub tracking_number: String,
    /// The carrier's own words, as it reported them.
    pub description: Option<String>,
    pub promised: String,
    pub expected: Option<String>,
    pub expected_short: Option<String>,
    pub returned_to_sender: bool,
}

pub(super) struct ShortageView {
    pub name: String,
    pub requested: u32,
    pub available: u32,
}

pub(super) struct RecommendationView {
    pub name: String,
    pub price: String,
    pub url: String,
}

/// An operator's apology as the customer reads it.
pub(super) struct ApologyView {
    /// The operator's words.
    pub what_went_wrong: String,
    /// What was done, in a sentence of the customer's language.
    pub remedy: &'static str,
}

/// A return as the customer needs it: the number for the parcel, what goes in it, what comes back.
pub(super) struct ReturnView {
    pub rma: String,
    pub refund: String,
    pub lines: Vec<String>,
}

/// Everything a template may show, formatted and worded.
pub(super) struct View<'a> {
    pub notice: Notice,
    /// The locale's tag, for `<html lang>`.
    pub lang: String,
    /// The locale's language, whose phrasebook writes the text message.
    pub language: Language,
    pub labels: &'static Labels,
    pub subject: String,
    pub headline: &'static str,
    pub greeting: String,
    pub body: Vec<Block>,
    pub questions: Vec<Span>,
    pub shop: &'a StorefrontProfile,
    pub order_id: String,
    pub order_url: String,
    pub order_heading: String,
    pub placed: String,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub shipping: String,
    pub tax: String,
    pub total: String,
    pub address: Vec<String>,
    pub shipping_option: &'static str,
    pub estimated_delivery: String,
    pub estimated_delivery_short: String,
    pub parcels: Vec<ParcelView>,
    pub delay: Option<DelayView>,
    pub shortages: Vec<ShortageView>,
    pub decline: Option<&'static str>,
    pub refunded: Option<String>,
    pub apology: Option<ApologyView>,
    pub return_request: Option<ReturnView>,
    pub recommendations: Vec<RecommendationView>,
    pub feedback_url: String,
}

impl View<'_> {
    /// The parcel a text message is about.
    pub(super) fn focus(&self) -> Option<&ParcelView> {
        self.parcels.first()
    }

    /// The focus parcel's tracking page, in the text message's longer version.
    pub(super) fn sms_link(&self, link: bool) -> Option<&str> {
        self.focus().filter(|_| link).and_then(|parcel| parcel.tracking_url.as_deref())
    }

    pub(super) fn delay_expected_short(&self) -> Option<&str> {
        self.delay.as_ref().and_then(|delay| delay.expected_short.as_deref())
    }
}
