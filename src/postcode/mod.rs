//! Postcodes: parsing ([`parse`]), the compact index ([`index`]) and its file ([`file`]),
//! importing OS/ONS files ([`import`]) and the build-once cache ([`cache`]).

pub mod cache;
pub mod file;
pub mod import;
pub mod index;
pub mod parse;

pub use index::PostcodeIndex;
pub use parse::{Postcode, PostcodeError};
