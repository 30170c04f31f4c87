//! Every customer message rendered with sample data, in every language, into a folder a
//! designer, a translator (or a browser test) can open: `{locale}/{notice}.html` per e-mail,
//! `{locale}/{notice}.txt` with its plain-text part and text message, and `index.html` linking
//! them.

use std::path::{Path, PathBuf};

use shared::notification::{Notice, Sample, render};

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("no sample order for {0}")]
    NoSample(&'static str),
    #[error(transparent)]
    Render(#[from] shared::notification::RenderError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes the previews into `folder`; the HTML files written, one per notice and language.
pub fn write(folder: &Path) -> Result<Vec<PathBuf>, PreviewError> {
    let save = |path: PathBuf, content: &str| {
        std::fs::write(&path, content).map(|()| path.clone()).map_err(|source| PreviewError::Write { path, source })
    };
    let create = |folder: &Path| {
        std::fs::create_dir_all(folder).map_err(|source| PreviewError::Write { path: folder.to_path_buf(), source })
    };
    create(folder)?;
    let policy = Sample::policy();
    let mut pages = Vec::new();
    let mut index = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Orderflow messages</title></head>\n<body><h1>Customer messages</h1>\n",
    );
    for locale in Sample::LOCALES {
        create(&folder.join(locale))?;
        index.push_str(&format!("<h2 lang=\"{locale}\">{locale}</h2><ul>\n"));
        for notice in Notice::ALL {
            let order = Sample::order_in(notice, locale).ok_or(PreviewError::NoSample(notice.name()))?;
            let rendered = render(notice, &order, &policy, &Sample::recommendations())?;
            let name = format!("{locale}/{}", notice.name());
            pages.push(save(folder.join(format!("{name}.html")), &rendered.email.html)?);
            let mut text = format!("Subject: {}\n\n{}", rendered.email.subject, rendered.email.text);
            if let Some(sms) = &rendered.sms {
                text.push_str(&format!("\n--- SMS ({:?}, {} segment(s))\n{}\n", sms.encoding, sms.segments, sms.text));
            }
            save(folder.join(format!("{name}.txt")), &text)?;
            index.push_str(&format!(
                "<li><a href=\"{name}.html\">{}</a> (<a href=\"{name}.txt\">text</a>): {}</li>\n",
                notice.name(),
                rendered.email.subject
            ));
        }
        index.push_str("</ul>\n");
    }
    index.push_str("</body></html>\n");
    save(folder.join("index.html"), &index)?;
    Ok(pages)
}
