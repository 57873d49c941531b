//! The GeoJSON layer loader: features or a DataError, never a panic.
#![no_main]
use alliance_map::model::boundaries::{parse_layer, FileShape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let shape = FileShape {
        file: "fuzz.geojson",
        code_property: "stp17cd",
        name_property: "stp17nm",
        expected_count: Some(44),
        code_prefixes: &["E54"],
    };
    let text = String::from_utf8_lossy(data);
    let _ = parse_layer(std::path::Path::new("fuzz.geojson"), &text, &shape);
});
