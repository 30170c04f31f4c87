//! The operators' API's answers as people read them: one line an order, the facts that matter
//! first. `--output json` gives the answers as they are.

use serde_json::Value;

fn field<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name].as_str().unwrap_or("-")
}

/// `12.34 EUR` from the API's `{"minor_units", "currency"}`, with the currency's own decimals.
fn money(value: &Value) -> String {
    let (Some(minor), Some(code)) = (value["minor_units"].as_i64(), value["currency"].as_str()) else {
        return "-".to_owned();
    };
    match shared::domain::Currency::parse(code) {
        Ok(currency) => shared::domain::Money::new(minor, currency).to_string(),
        Err(_) => format!("{minor} {code}"),
    }
}

/// An order summary as one line: id, status, total, placed, and what the desk should know.
fn summary(order: &Value) -> String {
    let mut line = format!(
        "{}  {:<18}  {:>12}  {}  {}",
        field(order, "id"),
        field(order, "status"),
        money(&order["total"]),
        field(order, "created_at"),
        field(order, "storefront")
    );
    if let Some(waiting) = order["waiting_minutes"].as_i64() {
        let overdue = if order["overdue"] == true { " OVERDUE" } else { "" };
        line.push_str(&format!("  waiting {waiting} of {} min{overdue}", order["sla_minutes"]));
    }
    if let Some(by) = order["claim"]["by"].as_str().or(order["review_claim"]["by"].as_str()) {
        line.push_str(&format!("  claimed by {by}"));
    }
    if order["failed_contacts"].as_u64().is_some_and(|failed| failed > 0) {
        line.push_str(&format!("  {} failed calls", order["failed_contacts"]));
    }
    if order["disputes"].as_u64().is_some_and(|disputes| disputes > 0) {
        line.push_str(&format!("  {} disputes", order["disputes"]));
    }
    line
}

/// A page of summaries, and the cursor of the next page.
pub fn page(page: &Value) -> String {
    let mut lines: Vec<String> = page["orders"].as_array().into_iter().flatten().map(summary).collect();
    if lines.is_empty() {
        lines.push("no orders".to_owned());
    }
    if let Some(next) = page["next_cursor"].as_str() {
        lines.push(format!("next: --cursor {next}"));
    }
    lines.join("\n")
}

/// A customer's history: what stands out, then their orders.
pub fn history(history: &Value) -> String {
    let by_status: Vec<String> = history["by_status"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, count)| format!("{count} {status}"))
        .collect();
    format!(
        "{}; {} returns, {} disputes ({} lost)\n{}",
        if by_status.is_empty() { "no orders".to_owned() } else { by_status.join(", ") },
        history["returns"],
        history["disputes"],
        history["disputes_lost"],
        page(history)
    )
}

/// An order: its state, the customer, the lines, then its timeline with who did what.
pub fn order(order: &Value) -> String {
    let mut lines = vec![
        format!("{}  {}  version {}", field(order, "id"), field(order, "status"), order["version"]),
        format!(
            "customer  {} <{}> {}",
            field(&order["customer"], "name"),
            field(&order["customer"], "email"),
            field(&order["customer"], "phone")
        ),
        format!("total     {}", money(&order["totals"]["total"])),
    ];
    if let Some(kind) = order["status_reason"]["kind"].as_str() {
        lines.push(format!("why       {kind}"));
    }
    for line in order["lines"].as_array().into_iter().flatten() {
        lines.push(format!("  {} x {}  {}", line["quantity"], field(line, "sku"), money(&line["unit_price"])));
    }
    lines.push("timeline".to_owned());
    for entry in order["timeline"].as_array().into_iter().flatten() {
        let decision = &entry["reason"]["decision"];
        let requested = &entry["reason"]["requested_by"];
        let by = decision["operator"].as_str().or(requested["operator"].as_str()).or(entry["by"]["operator"].as_str());
        let by = by.map(|operator| format!("  by {operator}")).unwrap_or_default();
        lines.push(format!("  {}  {}{by}", field(entry, "at"), field(entry, "type")));
    }
    if let Some(desk) = order["desk"].as_array() {
        lines.push("desk".to_owned());
        for entry in desk {
            let work = &entry["work"];
            let what = match work["kind"].as_str() {
                Some("contacted") => format!("called: {}", field(work, "outcome")),
                _ => format!("claimed until {}", field(work, "until")),
            };
            lines.push(format!("  {}  {what}  by {}", field(entry, "at"), field(&entry["by"], "operator")));
        }
    }
    lines.join("\n")
}

/// A claim: whose, until when.
pub fn claim(claim: &Value) -> String {
    format!(
        "{} claimed by {} until {}",
        field(claim, "order_id"),
        field(&claim["claim"], "by"),
        field(&claim["claim"], "until")
    )
}

/// A dispute as the provider holds it after the evidence was submitted.
pub fn dispute(dispute: &Value) -> String {
    format!("{} {}", field(dispute, "id"), field(dispute, "status"))
}

/// A plain answer (a sentence, or JSON that has no shorter form).
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// A list as JSON lines, one item a line.
pub fn json_lines(value: &Value) -> String {
    value.as_array().into_iter().flatten().map(Value::to_string).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_queue_page_reads_one_order_a_line_with_its_wait_and_claim() {
        let queue = json!({"orders": [{"id": "ord_1", "status": "ON_HOLD", "storefront": "shop-a",
            "total": {"minor_units": 4634, "currency": "EUR"}, "created_at": "2026-12-07T09:00:00Z",
            "waiting_minutes": 75, "sla_minutes": 60, "overdue": true, "claim": {"by": "ana"}, "failed_contacts": 1}],
            "next_cursor": "abc"});
        let text = page(&queue);
        assert!(text.contains("ord_1  ON_HOLD") && text.contains("46.34 EUR"), "{text}");
        assert!(text.contains("waiting 75 of 60 min OVERDUE") && text.contains("claimed by ana"), "{text}");
        assert!(text.ends_with("next: --cursor abc"), "{text}");
        assert_eq!(page(&json!({"orders": []})), "no orders");
    }
}
