//! The local key file: key-encryption keys on disk, readable by the owner only.
//!
//! Format (TOML, written by carepost, never edited by hand):
//! ```toml
//! format = "carepost-keys/1"
//! [[kek]]
//! version = 1
//! created_at = "2026-12-03T19:40:00Z"
//! key = "<32 bytes, standard base64>"
//! check = "<first 8 bytes of SHA-256 of the key, hex>"
//! ```
//! The `check` field makes a damaged or truncated key report itself as damaged
//! instead of decrypting nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::{CryptoError, LocalKeyProvider, random_bytes, sha256};

/// The environment variable that may hold the master key instead of a key file:
/// `BASE64` (version 1) or `VERSION:BASE64`, several separated by commas.
pub const MASTER_KEY_ENV: &str = "CAREPOST_MASTER_KEY";

const FORMAT: &str = "carepost-keys/1";

/// Why the key file or `CAREPOST_MASTER_KEY` could not be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file does not exist.
    #[error(
        "key file {0} does not exist; run `carepost init` to create one, or set CAREPOST_MASTER_KEY"
    )]
    Missing(PathBuf),
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file exists but is not a valid key file.
    #[error(
        "key file {path} is corrupted: {reason}; restore it from your backup (a new key cannot read existing data)"
    )]
    Corrupted {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it, never the key itself.
        reason: String,
    },
    /// `CAREPOST_MASTER_KEY` is set but malformed.
    #[error(
        "CAREPOST_MASTER_KEY is malformed: {0}; expected 32 bytes in base64, optionally prefixed by `VERSION:`"
    )]
    BadEnvironment(String),
    /// Creating a file that already exists.
    #[error(
        "key file {0} already exists; refusing to overwrite it (the data it protects would be lost)"
    )]
    AlreadyExists(PathBuf),
    /// A cryptographic failure (random generator).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    format: String,
    kek: Vec<KekEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KekEntry {
    version: u32,
    created_at: String,
    key: String,
    check: String,
}

/// Key-encryption keys loaded from a key file (or the environment).
pub struct KeyFile {
    path: Option<PathBuf>,
    keys: BTreeMap<u32, (String, Zeroizing<[u8; 32]>)>,
}

impl KeyFile {
    /// Creates a new key file with one fresh key (version 1), mode 0600. Refuses to
    /// overwrite an existing file.
    pub fn create(path: &Path) -> Result<Self, KeyFileError> {
        if path.exists() {
            return Err(KeyFileError::AlreadyExists(path.to_path_buf()));
        }
        let mut keys = BTreeMap::new();
        keys.insert(1, (now(), Zeroizing::new(random_bytes::<32>()?)));
        let file = Self {
            path: Some(path.to_path_buf()),
            keys,
        };
        match file.write(path, false) {
            Err(KeyFileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                return Err(KeyFileError::AlreadyExists(path.to_path_buf()));
            }
            other => other?,
        }
        Ok(file)
    }

    /// Loads and checks a key file.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyFileError::Missing(path.to_path_buf()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(corrupted(path, "it is not UTF-8 text"));
            }
            Err(source) => {
                return Err(KeyFileError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Self::parse(&text, path)
    }

    /// Parses the text of a key file read from `path` (named in errors only).
    pub fn parse(text: &str, path: &Path) -> Result<Self, KeyFileError> {
        let form: FileForm = toml::from_str(text)
            .map_err(|e| corrupted(path, &format!("not a carepost key file ({})", e.message())))?;
        if form.format != FORMAT {
            return Err(corrupted(
                path,
                &format!("unknown format '{}'", form.format),
            ));
        }
        if form.kek.is_empty() {
            return Err(corrupted(path, "it holds no key"));
        }
        let mut keys = BTreeMap::new();
        for entry in form.kek {
            let key = decode_key(&entry.key)
                .map_err(|r| corrupted(path, &format!("key version {}: {r}", entry.version)))?;
            if hex::encode(&sha256(key.as_ref())[..8]) != entry.check {
                return Err(corrupted(
                    path,
                    &format!("key version {} fails its checksum", entry.version),
                ));
            }
            if keys
                .insert(entry.version, (entry.created_at, key))
                .is_some()
            {
                return Err(corrupted(
                    path,
                    &format!("key version {} appears twice", entry.version),
                ));
            }
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            keys,
        })
    }

    /// Loads `path` if it exists, or creates it. Returns the keys and whether they are new.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), KeyFileError> {
        match Self::load(path) {
            Ok(k) => Ok((k, false)),
            Err(KeyFileError::Missing(_)) => Ok((Self::create(path)?, true)),
            Err(e) => Err(e),
        }
    }

    /// Parses `CAREPOST_MASTER_KEY`'s value.
    pub fn from_env_value(value: &str) -> Result<Self, KeyFileError> {
        let mut keys = BTreeMap::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (version, b64) = match part.split_once(':') {
                Some((v, k)) => {
                    let v = v.parse::<u32>().map_err(|_| {
                        KeyFileError::BadEnvironment(format!("version '{v}' is not a number"))
                    })?;
                    (v, k)
                }
                None => (1, part),
            };
            let key = decode_key(b64).map_err(KeyFileError::BadEnvironment)?;
            keys.insert(version, (now(), key));
        }
        if keys.is_empty() {
            return Err(KeyFileError::BadEnvironment("it is empty".into()));
        }
        Ok(Self { path: None, keys })
    }

    /// Adds a new key version (one above the highest) and saves the file atomically.
    /// The older versions stay, so that data keys wrapped by them still unwrap.
    pub fn add_version(&mut self) -> Result<u32, KeyFileError> {
        let path = self.path.clone().ok_or_else(|| {
            KeyFileError::BadEnvironment("a key from the environment cannot be rotated by carepost; set a new `VERSION:KEY` entry yourself".into())
        })?;
        let version = self.keys.keys().next_back().map_or(1, |v| v + 1);
        self.keys
            .insert(version, (now(), Zeroizing::new(random_bytes::<32>()?)));
        self.write(&path, true)?;
        Ok(version)
    }

    /// Removes a key version and saves the file. The caller must have checked that no
    /// data key is still wrapped by it.
    pub fn remove_version(&mut self, version: u32) -> Result<(), KeyFileError> {
        let path = self.path.clone().ok_or_else(|| {
            KeyFileError::BadEnvironment(
                "keys from the environment are managed outside carepost".into(),
            )
        })?;
        if self.keys.len() == 1 {
            return Err(corrupted(&path, "refusing to remove the only key"));
        }
        self.keys.remove(&version);
        self.write(&path, true)
    }

    /// The versions held.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// A provider over these keys.
    pub fn provider(&self) -> Result<LocalKeyProvider, CryptoError> {
        let source = match &self.path {
            Some(p) => format!("key file {}", p.display()),
            None => format!("environment variable {MASTER_KEY_ENV}"),
        };
        let keys = self
            .keys
            .iter()
            .map(|(v, (_, k))| (*v, k.clone()))
            .collect();
        LocalKeyProvider::new(source, keys)
    }

    fn write(&self, path: &Path, replace: bool) -> Result<(), KeyFileError> {
        let form = FileForm {
            format: FORMAT.to_owned(),
            kek: self
                .keys
                .iter()
                .map(|(v, (created, k))| KekEntry {
                    version: *v,
                    created_at: created.clone(),
                    key: B64.encode(k.as_ref()),
                    check: hex::encode(&sha256(k.as_ref())[..8]),
                })
                .collect(),
        };
        let body =
            Zeroizing::new(toml::to_string(&form).map_err(|e| corrupted(path, &e.to_string()))?);
        let text = format!(
            "# carepost key-encryption keys. Keep this file secret (mode 0600) and back it up\n\
             # apart from the database: without it nothing encrypted there can be read.\n{}",
            body.as_str()
        );
        write_private(path, text.as_bytes(), replace).map_err(|source| KeyFileError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Writes `bytes` to a fresh temporary file beside `path` (mode 0600, created
/// exclusively, never following a link), flushed to disk. Returns its path.
fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<std::path::PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let nonce = hex::encode(random_bytes::<6>().map_err(std::io::Error::other)?);
    let tmp = path.with_extension(format!("tmp-{nonce}"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(tmp)
}

/// Puts `bytes` at `path` atomically. With `replace`, an existing file is replaced;
/// without, the call fails if `path` exists, even if another process creates it at the
/// same moment (so two first starts can never leave two different keys). The directory
/// is flushed so that the new file survives a crash.
fn write_private(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    let placed = if replace {
        std::fs::rename(&tmp, path)
    } else {
        std::fs::hard_link(&tmp, path)
    };
    let _ = std::fs::remove_file(&tmp);
    placed?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}

fn decode_key(b64: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    let raw = Zeroizing::new(
        B64.decode(b64.trim())
            .map_err(|_| "the key is not valid base64".to_owned())?,
    );
    let arr: [u8; 32] = raw
        .as_slice()
        .try_into()
        .map_err(|_| format!("the key is {} bytes long, not 32", raw.len()))?;
    Ok(Zeroizing::new(arr))
}

fn corrupted(path: &Path, reason: &str) -> KeyFileError {
    KeyFileError::Corrupted {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::KeyProvider;

    #[test]
    fn creates_a_key_file_readable_by_the_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/keys.toml");
        KeyFile::create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(KeyFile::load(&path).unwrap().versions(), vec![1]);
    }

    #[test]
    fn refuses_to_overwrite_an_existing_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        KeyFile::create(&path).unwrap();
        assert!(matches!(
            KeyFile::create(&path),
            Err(KeyFileError::AlreadyExists(_))
        ));
    }

    #[test]
    fn reports_a_damaged_key_as_corrupted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        KeyFile::create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text.lines().find(|l| l.starts_with("key = ")).unwrap();
        let mut chars: Vec<char> = line.chars().collect();
        chars[8] = if chars[8] == 'A' { 'B' } else { 'A' };
        let damaged = text.replace(line, &chars.iter().collect::<String>());
        std::fs::write(&path, damaged).unwrap();
        let err = KeyFile::load(&path).err().unwrap();
        assert!(err.to_string().contains("fails its checksum"), "{err}");

        std::fs::write(&path, "garbage\x01").unwrap();
        assert!(matches!(
            KeyFile::load(&path),
            Err(KeyFileError::Corrupted { .. })
        ));
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(
            KeyFile::load(&path),
            Err(KeyFileError::Corrupted { .. })
        ));
    }

    #[test]
    fn two_simultaneous_creations_leave_exactly_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| KeyFile::create(&path).is_ok()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
        assert!(KeyFile::load(&path).is_ok());
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "temporary files are cleaned up");
    }

    #[test]
    fn added_versions_keep_the_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let mut kf = KeyFile::create(&path).unwrap();
        assert_eq!(kf.add_version().unwrap(), 2);
        let loaded = KeyFile::load(&path).unwrap();
        assert_eq!(loaded.versions(), vec![1, 2]);
        assert_eq!(loaded.provider().unwrap().active_version(), 2);
    }

    #[test]
    fn reads_the_master_key_from_the_environment_form() {
        let key = B64.encode([9u8; 32]);
        let kf = KeyFile::from_env_value(&format!("1:{key},3:{key}")).unwrap();
        assert_eq!(kf.versions(), vec![1, 3]);
        assert!(KeyFile::from_env_value(&key).is_ok());
        let err = KeyFile::from_env_value("c2hvcnQ=").err().unwrap();
        assert!(err.to_string().contains("not 32"), "{err}");
        assert!(KeyFile::from_env_value("").is_err());
        assert!(KeyFile::from_env_value("x:abc").is_err());
    }
}
