//! SES's bounce and complaint events, in its words (`bounceType`, `complainedRecipients`), read
//! into the suppression list's: which addresses to stop writing to, and why.

use serde::Deserialize;

use crate::{
    domain::EmailAddress,
    notification::{MailFeedback, SuppressionReason},
};

/// Configuration sets name the event in `eventType`, identity notifications in
/// `notificationType`; the `bounce` or `complaint` object is what both always carry, so that
/// decides.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesEvent {
    #[serde(default)]
    bounce: Option<SesBounce>,
    #[serde(default)]
    complaint: Option<SesComplaint>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesBounce {
    bounce_type: String,
    bounced_recipients: Vec<SesRecipient>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesComplaint {
    complained_recipients: Vec<SesRecipient>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesRecipient {
    email_address: String,
}

/// An SES bounce or complaint as its configuration set's event destination (or an identity's
/// notification topic) publishes it, as the addresses to stop writing to; `Ok(None)` for events
/// that suppress nothing: deliveries, opens, and transient bounces (a full mailbox may take mail
/// tomorrow).
pub fn mail_feedback(body: &str) -> Result<Option<MailFeedback>, serde_json::Error> {
    let event: SesEvent = serde_json::from_str(body)?;
    let (reason, recipients) = match (event.bounce, event.complaint) {
        (Some(bounce), _) if bounce.bounce_type == "Permanent" => {
            (SuppressionReason::Bounce, bounce.bounced_recipients)
        }
        (None, Some(complaint)) => (SuppressionReason::Complaint, complaint.complained_recipients),
        _ => return Ok(None),
    };
    // SES may give `"Name" <address>`; the address is what we suppress.
    let recipients = recipients
        .iter()
        .filter_map(|recipient| {
            let raw = recipient.email_address.trim();
            let bare = raw.rsplit_once('<').map_or(raw, |(_, rest)| rest.trim_end_matches('>'));
            EmailAddress::parse(bare).ok()
        })
        .collect();
    Ok(Some(MailFeedback { reason, recipients }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_bounces_and_complaints_suppress_transient_bounces_and_deliveries_do_not() {
        let bounce = r#"{"eventType": "Bounce", "bounce": {"bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "Grace <Grace@Example.com>"}, {"emailAddress": "not an address"}]}}"#;
        let feedback = mail_feedback(bounce).unwrap().unwrap();
        assert_eq!(feedback.reason, SuppressionReason::Bounce);
        assert_eq!(feedback.recipients, vec![EmailAddress::parse("Grace@example.com").unwrap()]);
        let complaint = r#"{"notificationType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "a@b.example"}]}}"#;
        assert_eq!(mail_feedback(complaint).unwrap().unwrap().reason, SuppressionReason::Complaint);
        let transient = r#"{"eventType": "Bounce", "bounce": {"bounceType": "Transient", "bouncedRecipients": []}}"#;
        assert_eq!(mail_feedback(transient).unwrap(), None);
        assert_eq!(mail_feedback(r#"{"eventType": "Delivery", "delivery": {}}"#).unwrap(), None);
        assert!(mail_feedback("not json").is_err());
    }
}
