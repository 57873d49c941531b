//! The postcode parser: never panics; a parsed postcode's canonical form parses to itself.
#![no_main]
use alliance_map::postcode::parse::parse_outward;
use alliance_map::postcode::Postcode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = Postcode::parse(&text) {
        assert_eq!(Postcode::parse(&p.to_string()), Ok(p));
        assert_eq!(Postcode::from_parts(p.outward_bytes(), p.inward_key()), p);
    }
    let _ = parse_outward(&text);
});
