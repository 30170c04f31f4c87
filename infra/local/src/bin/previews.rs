//! `previews [DIR]`: renders every customer message with sample data into DIR (default
//! `target/previews`) as HTML and text files, to open in a browser.

// This binary's job is to tell the developer where the files went.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let folder = std::env::args().nth(1).map_or_else(|| PathBuf::from("target/previews"), PathBuf::from);
    let pages = local::observe::previews::write(&folder)?;
    println!("{} messages rendered; open {}", pages.len(), folder.join("index.html").display());
    Ok(())
}
