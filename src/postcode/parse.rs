//! UK postcode normalisation and validation.
//!
//! A postcode is an outward code (area + district: `A9`, `A99`, `AA9`, `AA99`, `A9A`, `AA9A`)
//! and an inward code (sector digit + unit: `9AA`). Case and spaces are ignored on input;
//! output is the canonical `OUTWARD INWARD` form. `GIR 0AA` (Girobank) is also accepted.

use std::fmt;

/// A syntactically valid postcode, stored compactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Postcode {
    /// Outward code, upper-case ASCII, left-aligned, padded with spaces.
    outward: [u8; 4],
    /// Inward code, upper-case ASCII.
    inward: [u8; 3],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    #[error("postcode is empty")]
    Empty,
    #[error("postcode has {0} letters and digits; a UK postcode has 5 to 7")]
    Length(usize),
    #[error("postcode may only contain letters, digits and spaces; found {0:?}")]
    Character(char),
    #[error("the inward code (last three characters) must be a digit and two letters, like 1AA; got {0:?}")]
    Inward(String),
    #[error("the inward code may not use the letters C, I, K, M, O or V; got {0:?}")]
    InwardLetter(String),
    #[error("the outward code must look like A9, A99, AA9, AA99, A9A or AA9A; got {0:?}")]
    Outward(String),
}

/// Letters never used in the two final letters of an inward code.
const INWARD_EXCLUDED: &[u8] = b"CIKMOV";

impl Postcode {
    pub fn parse(input: &str) -> Result<Self, PostcodeError> {
        let mut buf = [0u8; 7];
        let mut n = 0;
        let mut count = 0usize;
        for c in input.chars() {
            if c.is_whitespace() {
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return Err(PostcodeError::Character(c));
            }
            if n < 7 {
                buf[n] = c.to_ascii_uppercase() as u8;
                n += 1;
            }
            count += 1;
        }
        match count {
            0 => return Err(PostcodeError::Empty),
            5..=7 => {}
            other => return Err(PostcodeError::Length(other)),
        }
        let (out, inw) = buf[..n].split_at(n - 3);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if !(inw[0].is_ascii_digit() && inw[1].is_ascii_alphabetic() && inw[2].is_ascii_alphabetic()) {
            return Err(PostcodeError::Inward(text(inw)));
        }
        let girobank = out == b"GIR" && inw == b"0AA";
        if !girobank && (INWARD_EXCLUDED.contains(&inw[1]) || INWARD_EXCLUDED.contains(&inw[2])) {
            return Err(PostcodeError::InwardLetter(text(inw)));
        }
        if !girobank && !valid_outward(out) {
            return Err(PostcodeError::Outward(text(out)));
        }
        let mut outward = [b' '; 4];
        outward[..out.len()].copy_from_slice(out);
        Ok(Postcode {
            outward,
            inward: [inw[0], inw[1], inw[2]],
        })
    }

    /// The outward code (`LS1`).
    pub fn outward(&self) -> &str {
        let len = self.outward.iter().position(|&b| b == b' ').unwrap_or(4);
        // Only ASCII alphanumerics are ever stored.
        std::str::from_utf8(&self.outward[..len]).unwrap_or("")
    }

    pub fn outward_bytes(&self) -> [u8; 4] {
        self.outward
    }

    pub fn inward(&self) -> &str {
        std::str::from_utf8(&self.inward).unwrap_or("")
    }

    /// The inward code packed as `digit * 676 + letter * 26 + letter` (< 6760).
    pub fn inward_key(&self) -> u16 {
        let [d, a, b] = self.inward;
        (d - b'0') as u16 * 676 + (a - b'A') as u16 * 26 + (b - b'A') as u16
    }

    pub fn from_parts(outward: [u8; 4], inward_key: u16) -> Self {
        let d = (inward_key / 676) as u8;
        let a = (inward_key / 26 % 26) as u8;
        let b = (inward_key % 26) as u8;
        Postcode {
            outward,
            inward: [b'0' + d, b'A' + a, b'A' + b],
        }
    }

    /// The postcode area: the leading letters of the outward code (`LS`, `S`, `BT`).
    pub fn area(&self) -> &str {
        let out = self.outward();
        let len = out.bytes().take_while(u8::is_ascii_alphabetic).count();
        &out[..len]
    }

    /// Areas outside Great Britain, which OS Code-Point Open does not cover.
    pub fn outside_great_britain(&self) -> Option<&'static str> {
        area_outside_great_britain(self.area())
    }
}

/// The place a postcode area (`BT`, the letters of an outward code) names, if it is outside
/// Great Britain.
pub fn area_outside_great_britain(area: &str) -> Option<&'static str> {
    match area {
        "BT" => Some("Northern Ireland"),
        "GY" => Some("Guernsey"),
        "JE" => Some("Jersey"),
        "IM" => Some("the Isle of Man"),
        _ => None,
    }
}

/// Outward-code shapes: A9, A99, AA9, AA99, A9A, AA9A.
pub fn valid_outward(out: &[u8]) -> bool {
    let a = |i: usize| out.get(i).is_some_and(u8::is_ascii_alphabetic);
    let d = |i: usize| out.get(i).is_some_and(u8::is_ascii_digit);
    match out.len() {
        2 => a(0) && d(1),
        3 => a(0) && ((d(1) && d(2)) || (a(1) && d(2)) || (d(1) && a(2))),
        4 => a(0) && a(1) && d(2) && (d(3) || a(3)),
        _ => false,
    }
}

/// Parses an outward code alone (`S40`, `ec1a`), for district queries.
pub fn parse_outward(input: &str) -> Result<[u8; 4], PostcodeError> {
    let cleaned: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if cleaned.is_empty() {
        return Err(PostcodeError::Empty);
    }
    if let Some(c) = cleaned.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(PostcodeError::Character(c));
    }
    let upper = cleaned.to_ascii_uppercase();
    if !valid_outward(upper.as_bytes()) {
        return Err(PostcodeError::Outward(upper.chars().take(10).collect()));
    }
    let mut outward = [b' '; 4];
    outward[..upper.len()].copy_from_slice(upper.as_bytes());
    Ok(outward)
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.outward(), self.inward())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case_and_spaces() {
        for (input, canonical) in [
            ("ls1 1az", "LS1 1AZ"),
            ("LS11AZ", "LS1 1AZ"),
            (" LS1  1AZ ", "LS1 1AZ"),
            ("s40 1ll", "S40 1LL"),
            ("EC1A 1BB", "EC1A 1BB"),
            ("w1a0ax", "W1A 0AX"),
            ("M1 1AE", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("gir 0aa", "GIR 0AA"),
            ("BT1 1AA", "BT1 1AA"),
            ("L\t1 8JQ", "L1 8JQ"),
        ] {
            let p = Postcode::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.to_string(), canonical);
        }
    }

    #[test]
    fn rejects_malformed_postcodes_saying_why() {
        for (input, says) in [
            ("", "empty"),
            ("   ", "empty"),
            ("LS1", "5 to 7"),
            ("LS1 1AZZZ", "5 to 7"),
            ("LS1-1AZ", "'-'"),
            ("LS1 1AÉ", "'É'"),
            ("LS1 AAZ", "inward code"),
            ("LS1 11Z", "inward code"),
            ("LS1 1CA", "C, I, K, M, O or V"),
            ("1S1 1AZ", "outward code"),
            ("LSA 1AZ", "outward code"),
            ("LS1AB 1AZ", "5 to 7"),
            ("L 1AZ", "5 to 7"),
            ("LSS1 1AZ", "outward code"),
        ] {
            let e = Postcode::parse(input).unwrap_err().to_string();
            assert!(e.contains(says), "{input:?}: {e}");
        }
    }

    #[test]
    fn inward_key_round_trips() {
        let p = Postcode::parse("S40 9ZZ").unwrap();
        assert!(p.inward_key() < 6760);
        assert_eq!(Postcode::from_parts(p.outward_bytes(), p.inward_key()), p);
    }

    #[test]
    fn knows_areas_outside_great_britain() {
        assert_eq!(
            Postcode::parse("BT7 1NN").unwrap().outside_great_britain(),
            Some("Northern Ireland")
        );
        assert_eq!(
            Postcode::parse("JE2 3XP").unwrap().outside_great_britain(),
            Some("Jersey")
        );
        assert_eq!(Postcode::parse("GY1 1AA").unwrap().area(), "GY");
        assert_eq!(
            Postcode::parse("IM1 1AA").unwrap().outside_great_britain(),
            Some("the Isle of Man")
        );
        assert_eq!(Postcode::parse("B1 1AA").unwrap().outside_great_britain(), None);
    }

    #[test]
    fn outward_codes() {
        assert_eq!(&parse_outward(" s40 ").unwrap(), b"S40 ");
        assert!(parse_outward("S4000").is_err());
        assert!(parse_outward("").is_err());
        assert!(parse_outward("S4/").is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_canonical_form_is_stable(s in "\\PC{0,20}") {
            if let Ok(p) = Postcode::parse(&s) {
                let again = Postcode::parse(&p.to_string()).unwrap();
                prop_assert_eq!(again, p);
            }
        }

        #[test]
        fn every_generated_valid_postcode_parses(
            out in "[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]?",
            d in 0u8..10, a in "[ABD-HJLNP-UW-Z]", b in "[ABD-HJLNP-UW-Z]",
        ) {
            let text = format!("{out} {d}{a}{b}");
            if valid_outward(out.as_bytes()) {
                prop_assert_eq!(Postcode::parse(&text).unwrap().to_string(), text.clone());
                prop_assert_eq!(Postcode::parse(&text.to_lowercase().replace(' ', "")).unwrap().to_string(), text);
            }
        }
    }
}
