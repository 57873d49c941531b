//! The CCG → STP → alliance lookup CSV loader: rows or a DataError, never a panic.
#![no_main]
use alliance_map::data::membership::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(std::path::Path::new("fuzz.csv"), data);
});
