//! The boundary loader: any text is a layer or a DataError, never a panic.
#![no_main]
use alliance_map::data::{boundaries::parse_layer, STPS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_layer(std::path::Path::new("fuzz.geojson"), &text, &STPS);
});
