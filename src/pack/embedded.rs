//! The packed data compiled into the binary (`data/packed/`, written by `pack-data`): what the
//! program serves when no `--data DIR` or `ALLIANCE_MAP_DATA` names official files.

use std::borrow::Cow;

use super::Pack;

static BOUNDARIES: &[u8] = include_bytes!("../../data/packed/boundaries.bin");
static TABLES: &[u8] = include_bytes!("../../data/packed/tables.bin");
static POSTCODES: &[u8] = include_bytes!("../../data/packed/postcodes.bin");
static GRIDS: &[u8] = include_bytes!("../../data/packed/grids.bin");

/// How the embedded data is named in logs and messages.
pub const LABEL: &str = "embedded data";

/// Opens the embedded data (decompresses the boundaries and tables; the postcodes stay
/// compressed until asked for).
pub fn open() -> Result<Pack, String> {
    Pack::open(LABEL, BOUNDARIES, TABLES, Some(Cow::Borrowed(POSTCODES)))?.with_grids(GRIDS)
}
