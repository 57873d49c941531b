//! Errors raised while loading and validating the reference data.
//!
//! Every variant names the file and, where there is one, the feature or row, so a
//! deployer can fix the data without reading code. `main` turns these into exit status 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not valid GeoJSON: {message}", path.display())]
    GeoJson { path: PathBuf, message: String },

    #[error("{}: feature {feature}: {problem}", path.display())]
    Feature {
        path: PathBuf,
        /// The feature's code when known, else its position (`#12`).
        feature: String,
        problem: String,
    },

    #[error("{}: {problem}", path.display())]
    File { path: PathBuf, problem: String },

    #[error("{}: row {row}: {problem}", path.display())]
    Row { path: PathBuf, row: u64, problem: String },
}

impl DataError {
    pub fn file(path: &std::path::Path, problem: impl Into<String>) -> Self {
        DataError::File {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }

    pub fn feature(path: &std::path::Path, feature: impl Into<String>, problem: impl Into<String>) -> Self {
        DataError::Feature {
            path: path.to_path_buf(),
            feature: feature.into(),
            problem: problem.into(),
        }
    }

    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
