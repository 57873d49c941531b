//! alliance-map: which NHS Cancer Alliance and STP covers a point or a postcode in England.
//!
//! Data flows one way: [`model`] reads the manifest and loads and validates the files,
//! [`spatial`] and [`locate`] index them, [`postcode`] resolves postcodes once at import,
//! [`atlas`] holds one loaded generation, [`api`] answers HTTP requests from it, [`server`]
//! runs the listeners around the API, and [`cli`] is each command of the binary.

pub mod annotate;
pub mod api;
pub mod atlas;
pub mod cli;
pub mod crosswalk;
pub mod locate;
pub mod maplayers;
pub mod metrics;
pub mod model;
pub mod pack;
pub mod postcode;
pub mod priority;
pub mod server;
pub mod spatial;
pub mod tiles;
pub mod views;
