//! Finding or building the postcode index the server uses.
//!
//! The source (a Code-Point zip or an ONSPD CSV) is imported once into a cache file named by
//! a fingerprint of what the import depends on: the *contents* of the source and of every data
//! file (SHA-256, read in parallel; about 0.1 s for the official files), the manifest, the
//! tolerance and the index format. Names, sizes and modification times are not trusted: an
//! edit that keeps all three still changes the key. Later starts read the cached index in
//! milliseconds. A prebuilt index file given directly is used as it is, after checking it was
//! built against the same boundaries.
//!
//! The cache is an optimisation, never a reason to stop: when it cannot be written (a
//! read-only or full directory, a directory where the file should be), the index built in
//! memory serves and a warning says why. Files are written to a temporary name in the same
//! directory and renamed into place, so no reader sees half a file and a failed write leaves
//! nothing behind; entries unused for [`STALE_AFTER`], beyond the [`KEEP`] most recently used,
//! and abandoned temporary files are pruned. The default directory is the user's cache
//! directory ([`default_cache_dir`]), never the working directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use super::file::{self, IndexFileError};
use super::import::{self, ImportError, SourceFile};
use super::index::PostcodeIndex;
use crate::locate::Locator;
use crate::model::{DataSource, Dataset};

#[derive(Debug, thiserror::Error)]
pub enum PostcodeLoadError {
    #[error(transparent)]
    File(#[from] IndexFileError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{path}: built against other boundaries ({detail}); rebuild it with `alliance-map import-postcodes`")]
    Mismatch { path: String, detail: String },
    /// The packed postcode index cannot serve: damaged, or resolved with another tolerance.
    #[error("{path}: {detail}")]
    Packed { path: String, detail: String },
    #[error("{path}: cannot write the postcode cache: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A stable fingerprint of what an import's result depends on: the contents of the source
/// and of every file the manifest names, the manifest itself and the import settings.
pub fn fingerprint(sources: &[SourceFile], data: &Dataset, locators: &[&Locator]) -> String {
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_deref().unwrap_or("-")).collect();
    let mut settings = format!(
        "format {} tolerance {} sources {}\n{}",
        file::FORMAT_VERSION,
        locators.first().map_or(0.0, |l| l.tolerance_m()),
        names.join("|"),
        toml::to_string(data.manifest.as_ref()).unwrap_or_default()
    );
    let mut inputs: Vec<PathBuf> = sources.iter().map(|s| s.path.clone()).collect();
    match &data.source {
        DataSource::Dir(dir) => inputs.extend(data.manifest.area_files().into_iter().map(|f| dir.join(f))),
        DataSource::Packed(pack) => settings += &format!("packed {}\n", pack.digest()),
    }
    fingerprint_of(&settings, &inputs)
}

/// The fingerprint of `settings` and the contents of `inputs`, in order. A file that cannot
/// be read counts as its error text (the key then differs from any readable version).
pub fn fingerprint_of(settings: &str, inputs: &[PathBuf]) -> String {
    use rayon::prelude::*;
    let digests: Vec<String> = inputs
        .par_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match content_digest(p) {
                Ok(d) => format!("{name} {d}\n"),
                Err(e) => format!("{name} unreadable: {}\n", e.kind()),
            }
        })
        .collect();
    let mut h = Sha256::new();
    h.update(settings.as_bytes());
    h.update(b"\n");
    for d in &digests {
        h.update(d.as_bytes());
    }
    hex(&h.finalize()[..12])
}

/// SHA-256 of a file's bytes, streamed.
fn content_digest(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// Reads the source if it is a single index file; otherwise returns the cached import of
/// `sources` from `cache_dir`, importing (and caching) them first if needed.
pub fn load_or_build(
    sources: &[SourceFile],
    data: &Dataset,
    locators: &[&Locator],
    cache_dir: &Path,
) -> Result<PostcodeIndex, PostcodeLoadError> {
    let started = Instant::now();
    if let [only] = sources {
        if is_index_file(&only.path) {
            let index = file::read(&only.path)?;
            check_matches(&index, data, &only.path)?;
            tracing::info!(path = %only.path.display(), postcodes = index.len(), ms = started.elapsed().as_millis() as u64, "postcode index loaded");
            return Ok(index);
        }
    }
    let fp = fingerprint(sources, data, locators);
    let cached = cache_path(cache_dir, &fp);
    if cached.is_file() {
        match file::read(&cached) {
            Ok(index) if index.meta.fingerprint == fp && check_matches(&index, data, &cached).is_ok() => {
                tracing::info!(path = %cached.display(), postcodes = index.len(), ms = started.elapsed().as_millis() as u64, "postcode index loaded from cache");
                touch(&cached);
                prune(cache_dir, &cached);
                return Ok(index);
            }
            Ok(_) => tracing::warn!(path = %cached.display(), "cached postcode index is stale; rebuilding"),
            Err(e) => tracing::warn!(error = %e, "cached postcode index unusable; rebuilding"),
        }
    }
    let names: Vec<String> = sources.iter().map(|s| s.path.display().to_string()).collect();
    tracing::info!(sources = %names.join(", "), cache = %cached.display(), "building the postcode index (first start; later starts read the cache)");
    let (index, summary) = import::import(sources, data, locators, fp)?;
    match file::write(&index, &cached) {
        Ok(()) => {
            tracing::info!(
                postcodes = summary.imported,
                rows = summary.rows_read,
                ms = started.elapsed().as_millis() as u64,
                "postcode index built and cached"
            );
            prune(cache_dir, &cached);
        }
        // The index is built: serve it from memory; the next start imports again.
        Err(e) => tracing::warn!(
            path = %cached.display(),
            error = %e,
            postcodes = summary.imported,
            "postcode index built but not cached (serving it from memory; fix the cache directory or set --cache-dir)"
        ),
    }
    Ok(index)
}

/// Cache entries kept however recently used: the current one and this many others.
pub const KEEP: usize = 4;
/// Entries unused for longer than this are removed (beyond the current one).
pub const STALE_AFTER: Duration = Duration::from_secs(30 * 86_400);
/// Temporary files older than this were abandoned by a process that died mid-write.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Marks an entry as used now (its modification time orders entries for pruning).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Removes stale cache entries and abandoned temporary files from `cache_dir`, never
/// `current`. Failures are logged and ignored: pruning is housekeeping.
pub fn prune(cache_dir: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return;
    };
    let now = SystemTime::now();
    let age = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or_default()
    };
    let mut kept: Vec<(Duration, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || path == current {
            continue;
        }
        let remove = if name.starts_with(file::TEMP_PREFIX) {
            age(&meta) > ABANDONED_AFTER
        } else if name.starts_with("postcodes-") && name.ends_with(".amp") {
            if age(&meta) > STALE_AFTER {
                true
            } else {
                kept.push((age(&meta), path.clone()));
                false
            }
        } else {
            false
        };
        if remove {
            remove_logged(&path);
        }
    }
    kept.sort();
    for (_, path) in kept.iter().skip(KEEP) {
        remove_logged(path);
    }
}

fn remove_logged(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => tracing::info!(path = %path.display(), "removed a stale postcode cache file"),
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove a stale postcode cache file"),
    }
}

/// The default cache directory: `$XDG_CACHE_HOME/alliance-map`, else
/// `$HOME/.cache/alliance-map` (the XDG base directory convention), else a directory under
/// the system's temporary directory. Never relative to the working directory.
pub fn default_cache_dir() -> PathBuf {
    let absolute = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(xdg) = absolute(std::env::var_os("XDG_CACHE_HOME")) {
        return xdg.join("alliance-map");
    }
    if let Some(home) = absolute(std::env::var_os("HOME")) {
        return home.join(".cache").join("alliance-map");
    }
    std::env::temp_dir().join("alliance-map-cache")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_content_not_name_size_or_time() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("stps.geojson");
        std::fs::write(&a, b"{\"code\":\"E54000001\"}").unwrap();
        let mtime = std::fs::metadata(&a).unwrap().modified().unwrap();
        let inputs = vec![a.clone()];
        let before = fingerprint_of("s", &inputs);
        assert_eq!(before, fingerprint_of("s", &inputs), "stable");
        // Same size, same name, modification time restored: still a different key.
        std::fs::write(&a, b"{\"code\":\"E54000002\"}").unwrap();
        std::fs::File::options()
            .append(true)
            .open(&a)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_eq!(std::fs::metadata(&a).unwrap().modified().unwrap(), mtime);
        assert_ne!(before, fingerprint_of("s", &inputs));
        // Settings are part of the key.
        assert_ne!(fingerprint_of("s", &inputs), fingerprint_of("t", &inputs));
    }

    #[test]
    fn pruning_keeps_the_current_and_recent_entries_and_drops_stale_and_abandoned_files() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - STALE_AFTER - Duration::from_secs(60);
        let make = |name: &str, modified: SystemTime| {
            let p = dir.path().join(name);
            std::fs::write(&p, b"x").unwrap();
            std::fs::File::options()
                .append(true)
                .open(&p)
                .unwrap()
                .set_modified(modified)
                .unwrap();
            p
        };
        let current = make("postcodes-current.amp", old);
        let stale = make("postcodes-stale.amp", old);
        let abandoned = make(&format!("{}abc.tmp", file::TEMP_PREFIX), old);
        let fresh_temp = make(&format!("{}def.tmp", file::TEMP_PREFIX), SystemTime::now());
        let other = make("notes.txt", old);
        let recent: Vec<PathBuf> = (0..KEEP + 2)
            .map(|i| {
                make(
                    &format!("postcodes-r{i}.amp"),
                    SystemTime::now() - Duration::from_secs(i as u64 * 60),
                )
            })
            .collect();
        prune(dir.path(), &current);
        assert!(current.exists(), "the current entry stays, however old");
        assert!(!stale.exists() && !abandoned.exists());
        assert!(fresh_temp.exists(), "a write in progress is left alone");
        assert!(other.exists(), "files that are not the cache's are left alone");
        let left: Vec<bool> = recent.iter().map(|p| p.exists()).collect();
        assert_eq!(left.iter().filter(|x| **x).count(), KEEP, "{left:?}");
        assert!(
            left[..KEEP].iter().all(|x| *x),
            "the most recently used are kept: {left:?}"
        );
    }

    #[test]
    fn the_default_cache_dir_is_absolute() {
        assert!(default_cache_dir().is_absolute());
    }
}
