//! The ONS CCG → STP → Cancer Alliance lookup (April 2017), the authoritative relation
//! between the two layers. Boundaries say *where*; this file says *who belongs to whom*.

use std::collections::HashMap;
use std::path::Path;

use super::DataError;

pub const FILE: &str = "lookups/ccg17-stp17-calncv17-apr2017.csv";

/// One CCG row, with the codes it links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcgRow {
    pub ccg_code: String,
    pub ccg_name: String,
    pub stp_code: String,
    pub alliance_code: String,
}

/// Reads the lookup; checks the header and that every row carries well-formed codes.
pub fn load(dir: &Path) -> Result<Vec<CcgRow>, DataError> {
    let path = dir.join(FILE);
    let file = std::fs::File::open(&path).map_err(|e| DataError::io(&path, e))?;
    parse(&path, file)
}

pub fn parse(path: &Path, reader: impl std::io::Read) -> Result<Vec<CcgRow>, DataError> {
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
        column("CCG17CD")?,
        column("CCG17NM")?,
        column("STP17CD")?,
        column("CALNCV17CD")?,
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
        if !is_gss_code(&r.ccg_code, &["E38"]) {
            return Err(bad("CCG", &r.ccg_code));
        }
        if !is_gss_code(&r.stp_code, &["E54"]) {
            return Err(bad("STP", &r.stp_code));
        }
        if !is_gss_code(&r.alliance_code, &["E56", "E57"]) {
            return Err(bad("alliance", &r.alliance_code));
        }
        if let Some(first) = seen.insert(r.ccg_code.clone(), row) {
            return Err(DataError::Row {
                path: path.to_path_buf(),
                row,
                problem: format!("CCG {} already listed on row {first}", r.ccg_code),
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
        parse(Path::new("l.csv"), s.as_bytes())
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
        assert!(e.contains("row 2") && e.contains("STP code"), "{e}");
        let e = parse_str(&format!(
            "{head}E38000001,a,E54000005,E56000003\nE38000001,a,E54000005,E56000003\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 3") && e.contains("already listed on row 2"), "{e}");
        assert!(parse_str(head).unwrap_err().to_string().contains("no rows"));
    }
}
