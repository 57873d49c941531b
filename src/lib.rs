//! alliance-map: which NHS Cancer Alliance and STP (England, 2017) covers a point.
//!
//! Data flows one way: [`data`] loads and validates the ONS files, [`spatial`] and
//! [`locate`] index them, [`service`] holds one loaded generation, and [`api`] serves it.

pub mod api;
pub mod data;
pub mod locate;
pub mod maplayers;
pub mod postcode;
pub mod server;
pub mod service;
pub mod spatial;
pub mod views;
