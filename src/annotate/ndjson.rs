//! NDJSON annotation: one JSON object a line in, the same objects out, in order, each with
//! the added fields and the status field appended (`null` where a row has no area).
//!
//! The output line is the input line's own text with the fields spliced in before its closing
//! brace, so keys, their order, number formatting and anything else in the object pass through
//! untouched. The first object is read and checked before any output ([`NdjsonAnnotator::open`]):
//! it must have the column(s) looked up by. Blank lines are not records and are skipped. A
//! line that is not a JSON object (or is longer than [`MAX_LINE_BYTES`]) is kept as
//! `{"input": "<the line>", …, "annotate_status": "not_an_object"}`: never dropped, never
//! merged into its neighbours.

use std::io::{BufRead, Write};

use serde_json::{Map, Value};

use super::{AnnotateError, AnnotateStats, By, Columns, Found, InputError, Resolver, Unmatched, STATUS_COLUMN};
use crate::model::Dataset;

/// Longest line read; a longer one is reported, not buffered (memory stays bounded).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// An NDJSON input whose first object has been read and checked.
pub struct NdjsonAnnotator<'a, R> {
    input: R,
    resolver: Resolver<'a>,
    /// The first record's line, read by the check, written first.
    first: Option<(u64, Line)>,
    line_no: u64,
}

/// One line of input.
enum Line {
    Text(Vec<u8>),
    /// Longer than [`MAX_LINE_BYTES`]: its first bytes only.
    TooLong(Vec<u8>),
}

impl<'a, R: BufRead> NdjsonAnnotator<'a, R> {
    /// Reads up to the first record and checks it has the columns `by` names.
    pub fn open(mut input: R, by: By<'a>, data: &'a Dataset, columns: Columns) -> Result<Self, AnnotateError> {
        let resolver = Resolver::new(by, data, columns);
        let mut line_no = 0;
        let first = loop {
            let Some(line) = read_line(&mut input).map_err(AnnotateError::input)? else {
                break None;
            };
            line_no += 1;
            if let Line::Text(text) = &line {
                if is_blank(text) {
                    continue;
                }
                let object = serde_json::from_slice::<Map<String, Value>>(text).map_err(|e| {
                    AnnotateError::Input(InputError {
                        message: format!("not NDJSON: line {line_no} is not a JSON object ({e})"),
                        io: None,
                    })
                })?;
                for column in resolver.by.column_names() {
                    if field(&object, column).is_none() {
                        let mut available: Vec<&str> = object.keys().map(String::as_str).collect();
                        available.sort_unstable();
                        return Err(AnnotateError::MissingColumn {
                            column: column.to_string(),
                            available: available.join(", "),
                        });
                    }
                }
            }
            break Some((line_no, line));
        };
        Ok(NdjsonAnnotator {
            input,
            resolver,
            first,
            line_no,
        })
    }

    /// Writes the annotated lines to `output`.
    pub fn write_to(
        mut self,
        mut output: impl Write,
        mut report: impl FnMut(u64, &str, Unmatched),
    ) -> Result<AnnotateStats, AnnotateError> {
        let names: Vec<String> = self
            .resolver
            .added_headers()
            .into_iter()
            .chain([STATUS_COLUMN.to_string()])
            .map(|n| Value::String(n).to_string())
            .collect();
        let mut stats = AnnotateStats::default();
        let mut out = Vec::with_capacity(4096);
        let mut next = self.first.take();
        loop {
            let (line_no, line) = match next.take() {
                Some(first) => first,
                None => match read_line(&mut self.input).map_err(AnnotateError::input)? {
                    None => break,
                    Some(line) => {
                        self.line_no += 1;
                        (self.line_no, line)
                    }
                },
            };
            let text = match line {
                Line::Text(text) if is_blank(&text) => continue,
                Line::Text(text) => text,
                Line::TooLong(start) => {
                    stats.count(Err(Unmatched::Ragged));
                    report(line_no, "(a line longer than 1 MiB)", Unmatched::Ragged);
                    not_an_object(&mut out, &start, &names, self.resolver.width());
                    output.write_all(&out).map_err(AnnotateError::Output)?;
                    continue;
                }
            };
            out.clear();
            let object = serde_json::from_slice::<Map<String, Value>>(&text);
            let Ok(object) = object else {
                stats.count(Err(Unmatched::Ragged));
                report(line_no, &String::from_utf8_lossy(&text), Unmatched::Ragged);
                not_an_object(&mut out, &text, &names, self.resolver.width());
                output.write_all(&out).map_err(AnnotateError::Output)?;
                continue;
            };
            let (shown, found) = self.lookup(&object);
            stats.count(found.as_ref().map(|_| ()).map_err(|why| *why));
            // The object's own text, less its closing brace (it parsed: the last non-space
            // byte is `}`), then the added fields.
            let body = trim_end(&text);
            out.extend_from_slice(&body[..body.len().saturating_sub(1)]);
            let mut names = names.iter();
            let mut first = object.is_empty();
            let mut put = |out: &mut Vec<u8>, value: Option<&str>| {
                if !first {
                    out.push(b',');
                }
                first = false;
                if let Some(name) = names.next() {
                    out.extend_from_slice(name.as_bytes());
                }
                out.push(b':');
                match value {
                    Some(v) => json_string(out, v),
                    None => out.extend_from_slice(b"null"),
                }
            };
            match &found {
                Ok(areas) => {
                    self.resolver
                        .values(areas, |v| put(&mut out, (!v.is_empty()).then_some(v)));
                    put(&mut out, Some("matched"));
                }
                Err(why) => {
                    report(line_no, &shown, *why);
                    for _ in 0..self.resolver.width() {
                        put(&mut out, None);
                    }
                    put(&mut out, Some(why.status()));
                }
            }
            out.extend_from_slice(b"}\n");
            output.write_all(&out).map_err(AnnotateError::Output)?;
        }
        output.flush().map_err(AnnotateError::Output)?;
        Ok(stats)
    }

    /// The object's value(s) as text (for reports), and its areas.
    fn lookup(&self, object: &Map<String, Value>) -> (String, Found) {
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match &self.resolver.by {
            By::Postcode { column, .. } => match text(field(object, column)) {
                Some(pc) => {
                    let found = self.resolver.postcode(&pc);
                    (pc, found)
                }
                None => (String::new(), Err(Unmatched::Malformed)),
            },
            By::Point { lon, lat, .. } => match (text(field(object, lon)), text(field(object, lat))) {
                (Some(lon), Some(lat)) => {
                    let found = self.resolver.point_text(&lon, &lat);
                    (format!("{lon},{lat}"), found)
                }
                _ => (String::new(), Err(Unmatched::Malformed)),
            },
        }
    }
}

/// The field named `column`: an exact match, else one ignoring ASCII case.
fn field<'m>(object: &'m Map<String, Value>, column: &str) -> Option<&'m Value> {
    object.get(column).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(column))
            .map(|(_, v)| v)
    })
}

/// `{"input": <line>, <added fields: null>, "annotate_status": "not_an_object"}`.
fn not_an_object(out: &mut Vec<u8>, line: &[u8], names: &[String], width: usize) {
    out.clear();
    out.extend_from_slice(b"{\"input\":");
    json_string(out, &String::from_utf8_lossy(trim_end(line)));
    for name in &names[..width] {
        out.push(b',');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b":null");
    }
    if let Some(status) = names.get(width) {
        out.push(b',');
        out.extend_from_slice(status.as_bytes());
        out.extend_from_slice(b":\"not_an_object\"");
    }
    out.extend_from_slice(b"}\n");
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

fn trim_end(line: &[u8]) -> &[u8] {
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &line[..end]
}

/// The next line (without its `\n`), at most [`MAX_LINE_BYTES`] of it kept; `None` at the end.
fn read_line(input: &mut impl BufRead) -> std::io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            let room = MAX_LINE_BYTES - line.len();
            if chunk.len() > room {
                line.extend_from_slice(&chunk[..room.min(256)]);
                too_long = true;
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    Ok(match (any, too_long) {
        (false, _) => None,
        (true, false) => Some(Line::Text(line)),
        (true, true) => Some(Line::TooLong(line)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_whole_and_long_ones_cut() {
        let mut input = std::io::Cursor::new(b"{\"a\":1}\n\n{\"b\":2}".to_vec());
        let mut lines = vec![];
        while let Some(l) = read_line(&mut input).unwrap() {
            lines.push(match l {
                Line::Text(t) => String::from_utf8(t).unwrap(),
                Line::TooLong(_) => "long".into(),
            });
        }
        assert_eq!(lines, ["{\"a\":1}", "", "{\"b\":2}"]);
        let mut long = vec![b'x'; MAX_LINE_BYTES + 10];
        long.extend_from_slice(b"\n{}\n");
        let mut input = std::io::Cursor::new(long);
        assert!(matches!(read_line(&mut input).unwrap(), Some(Line::TooLong(s)) if s.len() <= 256));
        assert!(matches!(read_line(&mut input).unwrap(), Some(Line::Text(t)) if t == b"{}"));
        assert!(read_line(&mut input).unwrap().is_none());
    }

    #[test]
    fn a_line_that_is_no_object_is_kept_whole() {
        let names: Vec<String> = ["\"a\"", "\"b\"", "\"annotate_status\""].map(String::from).to_vec();
        let mut out = vec![];
        not_an_object(&mut out, b"[1, \"x\"]  \r", &names, 2);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["input"], "[1, \"x\"]");
        assert_eq!(v["a"], Value::Null);
        assert_eq!(v["annotate_status"], "not_an_object");
    }
}
