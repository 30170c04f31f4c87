//! The fuzz targets on stable, as CI runs them: each target's seeds, a few thousand seeded
//! mutants of them, and every input kept in `fuzz/regressions/<target>/` (where `scripts/fuzz`
//! puts what libFuzzer finds). A broken property panics, naming the target and the input.

// A failed expectation is a failed test, and should read like one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{panic, path::Path};

use orderflow_fuzz::{Mutator, TARGETS, check, seeds};

/// Mutants per target; `FUZZ_SMOKE_INPUTS` runs more.
const MUTANTS: usize = 3_000;

fn run(target: &str, input: &[u8]) {
    let outcome = panic::catch_unwind(|| check(target, input));
    if let Err(cause) = outcome {
        let cause =
            cause.downcast_ref::<String>().cloned().or_else(|| cause.downcast_ref::<&str>().map(|s| (*s).to_owned()));
        panic!("{target}: {} on input {:?}", cause.unwrap_or_default(), String::from_utf8_lossy(input));
    }
}

#[test]
fn every_target_keeps_its_properties_on_its_seeds_and_their_mutants() {
    let mutants = std::env::var("FUZZ_SMOKE_INPUTS").ok().and_then(|n| n.parse().ok()).unwrap_or(MUTANTS);
    for (index, target) in TARGETS.iter().enumerate() {
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for seed in &seeds {
            run(target, seed);
        }
        let mut mutator = Mutator::new(0x5eed_0000 + index as u64);
        for _ in 0..mutants {
            run(target, &mutator.mutant(&seeds));
        }
    }
}

#[test]
fn the_seeds_are_accepted_so_mutants_start_from_the_accepting_paths() {
    for target in ["order", "amendment", "return", "review", "refund", "cancel"] {
        for seed in seeds(target) {
            let parsed = match target {
                "order" => shared::api::parse_new_order(&seed).map(drop),
                "amendment" => shared::api::parse_edit(&seed).map(drop),
                "return" => shared::api::parse_return(&seed).map(drop),
                "review" => shared::api::parse_review(&seed).map(drop),
                "refund" => shared::api::parse_refund(&seed).map(drop),
                _ => shared::api::parse_note(&seed, "reason").map(drop),
            };
            assert!(parsed.is_ok(), "{target}: {parsed:?}");
        }
    }
}

#[test]
fn inputs_libfuzzer_found_stay_fixed() {
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    for target in TARGETS {
        let Ok(entries) = std::fs::read_dir(kept.join(target)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            run(target, &std::fs::read(&path).unwrap());
        }
    }
}
