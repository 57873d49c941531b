//! The postcode index reader: a corrupt or foreign file is an error, never a panic or UB;
//! an accepted index answers lookups without panicking.
#![no_main]
use alliance_map::postcode::{file::decode, Postcode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = decode("fuzz.amp", data) {
        for pc in ["LS1 1AZ", "S40 1LL", "A1 1AA"] {
            let _ = index.get(&Postcode::parse(pc).unwrap());
        }
        let _ = index.nearest(-1.5, 53.8, 2000.0, 10);
    }
});
