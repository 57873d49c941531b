//! Geometry indexes: which polygons cover a point, and which is nearest.
//!
//! - [`part`]: one polygon prepared for exact covers tests and short distances;
//! - [`layer`]: an R-tree over the parts of one layer (alliances, STPs or countries);
//! - [`metric`]: metres around a point.

pub mod grid;
pub mod layer;
pub mod metric;
pub mod part;

pub use layer::{AreaSet, LayerIndex};
