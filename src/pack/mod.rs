//! The packed data: the official source files in a compact, deterministic form that is
//! compiled into the binary, so that the program needs nothing beside itself.
//!
//! `alliance-map pack-data --from DIR --out data/packed` writes it ([`write`]); loading reads
//! it through [`crate::model::DataSource::Packed`] exactly as it reads the source files, so
//! every validation runs on it too. What it holds:
//! - every GeoJSON file the manifest names, as one shared topology ([`topology`]): integer
//!   coordinates, each border stored once however many layers and editions share it;
//! - every table (CSV) the manifest names, as text, and the manifest itself;
//! - the postcode index built from the manifest's postcode sources ([`postcodes`]), with every
//!   edition resolved, so no import runs at start-up.

pub mod codec;
pub mod container;
pub mod embedded;
pub mod grids;
pub mod postcodes;
pub mod topology;
pub mod write;

pub use container::Pack;
