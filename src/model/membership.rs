//! Relation tables: the authoritative links between layers. Boundaries say *where*; these say
//! *who belongs to whom*. An ONS lookup puts each sub-area in one footprint and one alliance;
//! an area overlay lists every footprint × alliance pair sharing area. Which columns to read,
//! and which code prefixes they hold, come from the manifest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::manifest::{Kind, Manifest, RelationSpec};
use super::source::DataSource;
use super::DataError;

/// A relation table as read: for each row, one code per linked kind (in [`Relation::kinds`]
/// order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub path: PathBuf,
    /// The kinds linked, with the edition of each.
    pub kinds: Vec<(Kind, String)>,
    pub rows: Vec<Vec<String>>,
}

impl Relation {
    /// The distinct `(a code, b code)` links between two kinds, if the table links both.
    pub fn pairs(&self, a: Kind, b: Kind) -> Option<Vec<(&str, &str)>> {
        let ia = self.kinds.iter().position(|(k, _)| *k == a)?;
        let ib = self.kinds.iter().position(|(k, _)| *k == b)?;
        let mut pairs: Vec<(&str, &str)> = self.rows.iter().map(|r| (r[ia].as_str(), r[ib].as_str())).collect();
        pairs.sort_unstable();
        pairs.dedup();
        Some(pairs)
    }
}

/// The columns to read, with the code prefixes each must carry.
pub struct TableShape<'a> {
    pub columns: Vec<(Kind, &'a str, Vec<&'a str>)>,
}

impl<'a> TableShape<'a> {
    pub fn new(relation: &'a RelationSpec, manifest: &'a Manifest) -> Self {
        let columns = relation
            .columns()
            .map(|(kind, cols)| {
                let prefixes = manifest
                    .layer(&cols.edition)
                    .map(|l| l.code_prefixes.iter().map(String::as_str).collect())
                    .unwrap_or_default();
                (kind, cols.code.as_str(), prefixes)
            })
            .collect();
        TableShape { columns }
    }
}

/// Reads a relation table; checks the header and that every row carries well-formed codes.
pub fn load(source: &DataSource, relation: &RelationSpec, manifest: &Manifest) -> Result<Relation, DataError> {
    let path = source.path(&relation.file);
    let text = source.text(&relation.file)?;
    let mut table = parse(&path, text.as_bytes(), &TableShape::new(relation, manifest))?;
    table.kinds = relation.columns().map(|(k, c)| (k, c.edition.clone())).collect();
    Ok(table)
}

/// Parses a relation table. A table with sub-area codes lists each sub-area once (a lookup);
/// any other lists each combination once (an overlay).
pub fn parse(path: &Path, reader: impl std::io::Read, shape: &TableShape) -> Result<Relation, DataError> {
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| DataError::file(path, format!("cannot read CSV header: {e}")))?
        .clone();
    let column = |name: &str| -> Result<usize, DataError> {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
            .ok_or_else(|| DataError::file(path, format!("CSV header has no {name} column")))
    };
    let at: Vec<usize> = shape
        .columns
        .iter()
        .map(|(_, name, _)| column(name))
        .collect::<Result<_, _>>()?;
    // The sub-area column, if any, is the table's key; else the whole row.
    let key = shape.columns.iter().position(|(k, _, _)| *k == Kind::SubArea);

    let mut rows = Vec::new();
    let mut seen: HashMap<Vec<String>, u64> = HashMap::new();
    for (i, record) in csv.records().enumerate() {
        let row = i as u64 + 2; // 1-based, after the header
        let record = record.map_err(|e| DataError::Row {
            path: path.to_path_buf(),
            row,
            problem: e.to_string(),
        })?;
        let codes: Vec<String> = at.iter().map(|&c| record.get(c).unwrap_or("").to_string()).collect();
        use super::boundaries::is_gss_code;
        for ((kind, _, prefixes), code) in shape.columns.iter().zip(&codes) {
            if !is_gss_code(code, prefixes) {
                return Err(DataError::Row {
                    path: path.to_path_buf(),
                    row,
                    problem: format!("{} code {code:?} is not well formed", kind.label()),
                });
            }
        }
        let k = match key {
            Some(k) => vec![codes[k].clone()],
            None => codes.clone(),
        };
        if let Some(first) = seen.insert(k, row) {
            let what = match key {
                Some(k) => format!("sub-area {}", codes[k]),
                None => format!("the link {}", codes.join(" – ")),
            };
            return Err(DataError::Row {
                path: path.to_path_buf(),
                row,
                problem: format!("{what} already listed on row {first}"),
            });
        }
        rows.push(codes);
    }
    if rows.is_empty() {
        return Err(DataError::file(path, "has no rows"));
    }
    Ok(Relation {
        path: path.to_path_buf(),
        kinds: shape.columns.iter().map(|(k, _, _)| (*k, String::new())).collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_shape() -> TableShape<'static> {
        TableShape {
            columns: vec![
                (Kind::SubArea, "CCG17CD", vec!["E38"]),
                (Kind::Footprint, "STP17CD", vec!["E54"]),
                (Kind::Alliance, "CALNCV17CD", vec!["E56", "E57"]),
            ],
        }
    }

    fn parse_str(s: &str) -> Result<Relation, DataError> {
        parse(Path::new("l.csv"), s.as_bytes(), &lookup_shape())
    }

    #[test]
    fn parses_quoted_fields_and_gives_pairs() {
        let t = parse_str(
            "CCG17CD,CCG17CDH,CCG17NM,STP17CD,STP17NM,CALNCV17CD,CALNCV17NM,FID\n\
             E38000001,02N,\"NHS Airedale, Wharfedale and Craven CCG\",E54000005,West Yorkshire,E56000003,West Yorkshire,1\n\
             E38000002,02N,x,E54000005,West Yorkshire,E56000003,West Yorkshire,2\n",
        )
        .unwrap();
        assert_eq!(t.rows[0], ["E38000001", "E54000005", "E56000003"]);
        let pairs = t.pairs(Kind::Footprint, Kind::Alliance).unwrap();
        assert_eq!(pairs, [("E54000005", "E56000003")], "distinct links");
        assert!(t.pairs(Kind::Footprint, Kind::Country).is_none());
    }

    #[test]
    fn an_overlay_may_repeat_a_footprint_but_not_a_pair() {
        let shape = TableShape {
            columns: vec![
                (Kind::Footprint, "STP19CD", vec!["E54"]),
                (Kind::Alliance, "CAL19CD", vec!["E56"]),
            ],
        };
        let head = "STP19CD,CAL19CD,PCT\n";
        let ok = format!("{head}E54000034,E56000013,58\nE54000034,E56000012,42\n");
        let t = parse(Path::new("o.csv"), ok.as_bytes(), &shape).unwrap();
        assert_eq!(t.rows.len(), 2);
        let twice = format!("{head}E54000034,E56000013,58\nE54000034,E56000013,42\n");
        let e = parse(Path::new("o.csv"), twice.as_bytes(), &shape)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 3") && e.contains("already listed on row 2"), "{e}");
    }

    #[test]
    fn rejects_missing_columns_bad_codes_and_duplicates() {
        let head = "CCG17CD,CCG17NM,STP17CD,CALNCV17CD\n";
        let e = parse_str("CCG17CD,STP17CD\nE38000001,E54000005\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no CALNCV17CD column"), "{e}");
        let e = parse_str(&format!("{head}E38000001,a,E5400005,E56000003\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 2") && e.contains("footprint code"), "{e}");
        let e = parse_str(&format!(
            "{head}E38000001,a,E54000005,E56000003\nE38000001,a,E54000005,E56000003\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 3") && e.contains("already listed on row 2"), "{e}");
        assert!(parse_str(head).unwrap_err().to_string().contains("no rows"));
    }
}
