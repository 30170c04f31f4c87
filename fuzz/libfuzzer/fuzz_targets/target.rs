//! The fuzz target named by `ORDERFLOW_FUZZ_TARGET`, under libFuzzer.
#![no_main]

use std::sync::OnceLock;

fn target() -> &'static str {
    static TARGET: OnceLock<String> = OnceLock::new();
    TARGET.get_or_init(|| std::env::var("ORDERFLOW_FUZZ_TARGET").expect("ORDERFLOW_FUZZ_TARGET names a target"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| orderflow_fuzz::check(target(), data));
