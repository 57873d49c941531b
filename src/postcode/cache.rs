//! Finding or building the postcode index the server uses.
//!
//! The source (a Code-Point zip or an ONSPD CSV) is imported once into a git-ignored cache
//! file named by a fingerprint of the source, the boundary files and the import settings;
//! later starts read the cached index in milliseconds. A prebuilt index file given directly
//! is used as it is, after checking it was built against the same boundaries.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::file::{self, IndexFileError};
use super::import::{self, ImportError};
use super::index::PostcodeIndex;
use crate::locate::Locator;
use crate::model::Dataset;

#[derive(Debug, thiserror::Error)]
pub enum PostcodeLoadError {
    #[error(transparent)]
    File(#[from] IndexFileError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{path}: built against other boundaries ({detail}); rebuild it with `alliance-map import-postcodes`")]
    Mismatch { path: String, detail: String },
    #[error("{path}: cannot write the postcode cache: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A stable fingerprint of what an import's result depends on: the source, every file the
/// manifest names, the manifest itself and the import settings.
pub fn fingerprint(source: &Path, data: &Dataset, locators: &[Locator]) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "format {} tolerance {}\n",
        file::FORMAT_VERSION,
        locators.first().map_or(0.0, Locator::tolerance_m)
    ));
    h.update(toml::to_string(data.manifest.as_ref()).unwrap_or_default());
    let dir = &data.dir;
    let inputs = std::iter::once(source.to_path_buf()).chain(data.manifest.files().into_iter().map(|f| dir.join(f)));
    for p in inputs {
        let meta = std::fs::metadata(&p).ok();
        let size = meta.as_ref().map_or(0, |m| m.len());
        let mtime = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        h.update(format!("{name} {size} {mtime}\n"));
    }
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Checks an index was built for the same periods and editions (by their sizes; the
/// fingerprint in its name covers their content).
pub fn check_matches(index: &PostcodeIndex, data: &Dataset, path: &Path) -> Result<(), PostcodeLoadError> {
    if index.meta.period_sizes != data.period_sizes() {
        return Err(PostcodeLoadError::Mismatch {
            path: path.display().to_string(),
            detail: "its periods or editions differ from the loaded boundaries".into(),
        });
    }
    Ok(())
}

/// Reads `source` if it is an index file; otherwise returns the cached import of it from
/// `cache_dir`, importing (and caching) it first if needed.
pub fn load_or_build(
    source: &Path,
    data: &Dataset,
    locators: &[Locator],
    cache_dir: &Path,
) -> Result<PostcodeIndex, PostcodeLoadError> {
    let started = Instant::now();
    if is_index_file(source) {
        let index = file::read(source)?;
        check_matches(&index, data, source)?;
        tracing::info!(path = %source.display(), postcodes = index.len(), ms = started.elapsed().as_millis() as u64, "postcode index loaded");
        return Ok(index);
    }
    let fp = fingerprint(source, data, locators);
    let cached = cache_path(cache_dir, &fp);
    if cached.is_file() {
        match file::read(&cached) {
            Ok(index) if index.meta.fingerprint == fp && check_matches(&index, data, &cached).is_ok() => {
                tracing::info!(path = %cached.display(), postcodes = index.len(), ms = started.elapsed().as_millis() as u64, "postcode index loaded from cache");
                return Ok(index);
            }
            Ok(_) => tracing::warn!(path = %cached.display(), "cached postcode index is stale; rebuilding"),
            Err(e) => tracing::warn!(error = %e, "cached postcode index unusable; rebuilding"),
        }
    }
    tracing::info!(source = %source.display(), cache = %cached.display(), "building the postcode index (first start; later starts read the cache)");
    let (index, summary) = import::import(source, data, locators, fp)?;
    file::write(&index, &cached).map_err(|source| PostcodeLoadError::Write {
        path: cached.display().to_string(),
        source,
    })?;
    tracing::info!(
        postcodes = summary.imported,
        rows = summary.rows_read,
        ms = started.elapsed().as_millis() as u64,
        "postcode index built and cached"
    );
    Ok(index)
}

pub fn cache_path(cache_dir: &Path, fingerprint: &str) -> PathBuf {
    cache_dir.join(format!("postcodes-{fingerprint}.amp"))
}

fn is_index_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|_| &magic == file::MAGIC)
}
