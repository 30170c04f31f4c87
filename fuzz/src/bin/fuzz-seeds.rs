//! Writes each target's seeds (`DIR/<target>/seed-N`) and the mutation dictionary in
//! libFuzzer's format (`DIR/dictionary`), for `scripts/fuzz`. Usage: fuzz-seeds DIR

use std::{fmt::Write as _, path::PathBuf};

use orderflow_fuzz::{DICTIONARY, TARGETS, seeds};

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/fuzz-seeds".to_owned()));
    for target in TARGETS {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        for (index, seed) in seeds(target).iter().enumerate() {
            std::fs::write(folder.join(format!("seed-{index}")), seed)?;
        }
    }
    let mut dictionary = String::new();
    for token in DICTIONARY {
        let escaped = token.bytes().fold(String::new(), |mut out, byte| {
            match byte {
                b'"' | b'\\' => write!(out, "\\{}", char::from(byte)),
                0x20..=0x7e => write!(out, "{}", char::from(byte)),
                _ => write!(out, "\\x{byte:02X}"),
            }
            .map(|()| out)
            .unwrap_or_default()
        });
        writeln!(dictionary, "\"{escaped}\"").unwrap_or_default();
    }
    std::fs::write(dir.join("dictionary"), dictionary)
}
