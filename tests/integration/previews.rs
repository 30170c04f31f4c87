//! Every customer e-mail in every language, rendered by the previews command, opened in headless
//! Chromium at a 375 px wide viewport: nothing may stick out sideways (German's long words
//! included). Screenshots stay in
//! `target/tmp/previews/` as artifacts.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

const VIEWPORT: u64 = 375;

/// Measures the page once it has loaded: the viewport, the document's width, and every element
/// whose right edge is past the viewport; tells the framing page.
const PROBE: &str = r#"<script>
window.addEventListener('load', function () {
  var width = document.documentElement.clientWidth;
  var over = Array.prototype.slice.call(document.querySelectorAll('body *'))
    .filter(function (e) { return e.getBoundingClientRect().right > width + 0.5; })
    .map(function (e) { return e.tagName + ': ' + (e.textContent || '').trim().slice(0, 60); });
  parent.postMessage(JSON.stringify({clientWidth: width, scrollWidth: document.documentElement.scrollWidth, over: over}), '*');
});
</script>"#;

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(path.exists(), "{} is missing: scripts/test installs Debian's chromium", path.display());
    path
}

/// Headless Chromium's windows are at least 500 px wide, so the message sits in a 375 px
/// iframe: its viewport is what a phone's would be.
fn frame(page: &Path) -> PathBuf {
    let name = page.file_stem().unwrap().to_string_lossy().into_owned();
    let probe = page.with_file_name(format!("{name}.probe.html"));
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("</body>"), "{}", page.display());
    std::fs::write(&probe, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let framing = page.with_file_name(format!("{name}.frame.html"));
    std::fs::write(
        &framing,
        format!(
            r#"<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe src="{name}.probe.html" style="width:{VIEWPORT}px;height:2400px;border:0;display:block"></iframe>
<script>window.addEventListener('message', function (e) {{
  var report = document.createElement('pre'); report.id = 'overflow-report'; report.textContent = e.data;
  document.body.appendChild(report); }});</script></body></html>"#
        ),
    )
    .unwrap();
    framing
}

fn run_chromium(arguments: &[String]) -> String {
    let profile = std::env::temp_dir().join(format!("orderflow-chromium-{}", std::process::id()));
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(arguments)
        .output()
        .expect("chromium starts");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The probe's report on `page` at 375 px.
fn measure(page: &Path) -> Value {
    let framing = frame(page);
    let dom = run_chromium(&[
        "--window-size=500,2400".to_owned(),
        "--virtual-time-budget=5000".to_owned(),
        "--dump-dom".to_owned(),
        format!("file://{}", framing.display()),
    ]);
    let start = dom.find("<pre id=\"overflow-report\">").unwrap_or_else(|| panic!("no report for {}", page.display()));
    let report = &dom[start + "<pre id=\"overflow-report\">".len()..];
    let report = &report[..report.find("</pre>").unwrap()];
    let report = report.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    serde_json::from_str(&report).unwrap()
}

#[test]
fn every_message_fits_a_375_px_phone_screen_in_chromium() {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("previews");
    let _ = std::fs::remove_dir_all(&folder);
    let pages = local::observe::previews::write(&folder).unwrap();
    assert_eq!(pages.len(), shared::notification::Notice::ALL.len() * shared::notification::Sample::LOCALES.len());

    // The check can fail: a page wider than the phone is caught.
    let wide = folder.join("too-wide.html");
    std::fs::write(&wide, r#"<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width"></head><body><table style="width:480px"><tr><td>wide</td></tr></table></body></html>"#).unwrap();
    let caught = measure(&wide);
    assert_eq!(caught["clientWidth"], VIEWPORT);
    assert!(caught["scrollWidth"].as_u64().unwrap() > VIEWPORT && !caught["over"].as_array().unwrap().is_empty());

    let mut overflowing = Vec::new();
    for page in &pages {
        let report = measure(page);
        assert_eq!(report["clientWidth"], VIEWPORT, "{}: the viewport", page.display());
        if report["scrollWidth"].as_u64().unwrap() > VIEWPORT || !report["over"].as_array().unwrap().is_empty() {
            overflowing.push(format!("{}: {report}", page.display()));
        }
        let name = page.file_stem().unwrap().to_string_lossy().into_owned();
        let screenshot = page.with_file_name(format!("{name}.png"));
        run_chromium(&[
            "--window-size=500,1800".to_owned(),
            "--virtual-time-budget=2000".to_owned(),
            format!("--screenshot={}", screenshot.display()),
            format!("file://{}", page.with_file_name(format!("{name}.frame.html")).display()),
        ]);
        assert!(std::fs::metadata(&screenshot).map(|meta| meta.len() > 1_000).unwrap_or(false), "{name}.png");
    }
    assert!(overflowing.is_empty(), "wider than {VIEWPORT} px:\n{}", overflowing.join("\n"));
}
