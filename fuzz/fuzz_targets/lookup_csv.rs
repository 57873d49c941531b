//! The relation table (CCG → STP → alliance lookup) loader: rows or a DataError, never a panic.
#![no_main]
use alliance_map::model::membership::{parse, TableShape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let shape = TableShape {
        sub_area: ("CCG17CD", "CCG17NM"),
        footprint: "STP17CD",
        alliance: "CALNCV17CD",
        prefixes: [vec!["E38"], vec!["E54"], vec!["E56", "E57"]],
    };
    let _ = parse(std::path::Path::new("fuzz.csv"), data, &shape);
});
