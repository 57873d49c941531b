//! A relation table (for 2017, the ONS CCG → STP → Cancer Alliance lookup): the
//! authoritative link between the layers. Boundaries say *where*; this says *who belongs to
//! whom*. Which columns to read, and which code prefixes they hold, come from the manifest.

use std::collections::HashMap;
use std::path::Path;

use super::DataError;

use super::manifest::{InForce, RelationSpec};

/// One CCG row, with the codes it links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcgRow {
    pub ccg_code: String,
    pub ccg_name: String,
    pub stp_code: String,
    pub alliance_code: String,
}

/// The columns to read and the code prefixes each must carry.
pub struct TableShape<'a> {
    /// (code column, name column) of the sub-areas.
    pub sub_area: (&'a str, &'a str),
    pub footprint: &'a str,
    pub alliance: &'a str,
    pub prefixes: [Vec<&'a str>; 3],
}

impl<'a> TableShape<'a> {
    pub fn new(relation: &'a RelationSpec, editions: &InForce<'a>) -> Self {
        let prefixes = |l: &'a super::manifest::LayerSpec| l.code_prefixes.iter().map(String::as_str).collect();
        TableShape {
            sub_area: (
                &relation.sub_area.code,
                relation.sub_area.name.as_deref().unwrap_or_default(),
            ),
            footprint: &relation.footprint.code,
            alliance: &relation.alliance.code,
            prefixes: [
                prefixes(editions.sub_area),
                prefixes(editions.footprint),
                prefixes(editions.alliance),
            ],
        }
    }
}

/// Reads the relation table; checks the header and that every row carries well-formed codes.
pub fn load(dir: &Path, relation: &RelationSpec, editions: &InForce) -> Result<Vec<CcgRow>, DataError> {
    let path = dir.join(&relation.file);
    let text = super::boundaries::read_regular_file(&path)?;
    parse(&path, text.as_bytes(), &TableShape::new(relation, editions))
}

pub fn parse(path: &Path, reader: impl std::io::Read, shape: &TableShape) -> Result<Vec<CcgRow>, DataError> {
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
    let (ccg_cd, ccg_nm, stp_cd, al_cd) = (
        column(shape.sub_area.0)?,
        column(shape.sub_area.1)?,
        column(shape.footprint)?,
        column(shape.alliance)?,
    );

    let mut rows = Vec::new();
    let mut seen = HashMap::new();
    for (i, record) in csv.records().enumerate() {
        let row = i as u64 + 2; // 1-based, after the header
        let record = record.map_err(|e| DataError::Row {
            path: path.to_path_buf(),
            row,
            problem: e.to_string(),
        })?;
        let get = |c: usize| record.get(c).unwrap_or("").to_string();
        let r = CcgRow {
            ccg_code: get(ccg_cd),
            ccg_name: get(ccg_nm),
            stp_code: get(stp_cd),
            alliance_code: get(al_cd),
        };
        let bad = |what: &str, code: &str| DataError::Row {
            path: path.to_path_buf(),
            row,
            problem: format!("{what} code {code:?} is not well formed"),
        };
        use super::boundaries::is_gss_code;
        for ((what, code), prefixes) in [
            ("sub-area", &r.ccg_code),
            ("footprint", &r.stp_code),
            ("alliance", &r.alliance_code),
        ]
        .into_iter()
        .zip(&shape.prefixes)
        {
            if !is_gss_code(code, prefixes) {
                return Err(bad(what, code));
            }
        }
        if let Some(first) = seen.insert(r.ccg_code.clone(), row) {
            return Err(DataError::Row {
                path: path.to_path_buf(),
                row,
                problem: format!("sub-area {} already listed on row {first}", r.ccg_code),
            });
        }
        rows.push(r);
    }
    if rows.is_empty() {
        return Err(DataError::file(path, "has no rows"));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<CcgRow>, DataError> {
        let shape = TableShape {
            sub_area: ("CCG17CD", "CCG17NM"),
            footprint: "STP17CD",
            alliance: "CALNCV17CD",
            prefixes: [vec!["E38"], vec!["E54"], vec!["E56", "E57"]],
        };
        parse(Path::new("l.csv"), s.as_bytes(), &shape)
    }

    #[test]
    fn parses_quoted_names() {
        let rows = parse_str(
            "CCG17CD,CCG17CDH,CCG17NM,STP17CD,STP17NM,CALNCV17CD,CALNCV17NM,FID\n\
             E38000001,02N,\"NHS Airedale, Wharfedale and Craven CCG\",E54000005,West Yorkshire,E56000003,West Yorkshire,1\n",
        )
        .unwrap();
        assert_eq!(rows[0].ccg_name, "NHS Airedale, Wharfedale and Craven CCG");
        assert_eq!(rows[0].alliance_code, "E56000003");
    }

    #[test]
    fn rejects_missing_columns_bad_codes_and_duplicates() {
        let head = "CCG17CD,CCG17NM,STP17CD,CALNCV17CD\n";
        let e = parse_str("CCG17CD,STP17CD\nE38000001,E54000005\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no CCG17NM column"), "{e}");
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
