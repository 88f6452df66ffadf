//! File writes that never leave a half-written file behind, for files the AWS
//! CLI and SDKs read at any moment (`~/.aws/config`, `~/.aws/credentials`,
//! the caches), and advisory locks so tobira processes take turns.
//!
//! - [`write_atomic`]: temp file in the target's directory, fsync, rename over
//!   the target. Writes *through* symlinks (dotfile managers link
//!   `~/.aws/config`), keeps an existing file's mode, and creates new files and
//!   directories private (0600 / 0700).
//! - [`Lock`]: an exclusive lock on a sidecar lock file, held until dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Mode for files tobira creates that may hold secrets.
pub const PRIVATE_FILE: u32 = 0o600;
/// Mode for directories tobira creates.
pub const PRIVATE_DIR: u32 = 0o700;

/// The file a path finally refers to, following symlinks even when the
/// final target does not exist yet (at most 40 hops, like the kernel).
pub fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = if target.is_absolute() {
                    target
                } else {
                    current.parent().unwrap_or_else(|| Path::new("")).join(target)
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!("too many levels of symbolic links at {}", path.display())))
}

/// Creates `dir` and missing parents with mode 0700 (existing ones keep
/// their mode).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR);
    }
    builder.create(dir)
}

/// Replaces the file at `path` with `contents` atomically: readers see the
/// old file or the new one, never a mix. An existing file keeps its mode; a
/// new file gets `new_mode`. Missing parent directories are created 0700.
pub fn write_atomic(path: &Path, contents: &[u8], new_mode: u32) -> io::Result<()> {
    let real = resolve_symlinks(path)?;
    let dir = match real.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir)?;
    let mode = match fs::metadata(&real) {
        Ok(meta) => mode_of(&meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => new_mode,
        Err(e) => return Err(e),
    };
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut tmp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(&dir)?;
    set_mode(tmp.as_file(), mode)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&real).map_err(|e| e.error)?;
    sync_dir(&dir);
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_: &fs::Metadata) -> u32 {
    PRIVATE_FILE
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &File, _: u32) -> io::Result<()> {
    Ok(())
}

/// Makes the rename durable. Best effort: not every platform can open a
/// directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// An exclusive advisory lock on `<dir>/.<name>.lock`, released on drop.
/// Read-modify-write cycles on shared files happen while holding it, so two
/// tobira processes never interleave their edits.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    /// Blocks until the lock for `target` is held.
    pub fn acquire(target: &Path) -> io::Result<Lock> {
        let (file, path) = open_lock_file(target)?;
        file.lock()?;
        Ok(Lock { file, path })
    }

    /// The lock for `target` if nobody holds it, else `Ok(None)` at once.
    pub fn try_acquire(target: &Path) -> io::Result<Option<Lock>> {
        let (file, path) = open_lock_file(target)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock { file, path })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open_lock_file(target: &Path) -> io::Result<(File, PathBuf)> {
    let path = lock_path(target)?;
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(PRIVATE_FILE);
    }
    Ok((opts.open(&path)?, path))
}

fn lock_path(target: &Path) -> io::Result<PathBuf> {
    let real = resolve_symlinks(target)?;
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    Ok(real.with_file_name(format!(".{name}.lock")))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_file_is_private_in_private_dir() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a/b/credentials");
        write_atomic(&p, b"x", PRIVATE_FILE).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"x");
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(&t.path().join("a")), 0o700);
        assert_eq!(mode(&t.path().join("a/b")), 0o700);
    }

    #[test]
    fn existing_mode_is_kept_and_no_temp_left() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("config");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new", PRIVATE_FILE).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(mode(&p), 0o640);
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    }

    #[test]
    fn writes_through_symlinks() {
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("dotfiles/aws-config");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "old").unwrap();
        let link = t.path().join("config");
        symlink("dotfiles/aws-config", &link).unwrap();
        write_atomic(&link, b"new", PRIVATE_FILE).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        // A dangling link gets its target created.
        let dangling = t.path().join("dangling");
        symlink("made-later", &dangling).unwrap();
        write_atomic(&dangling, b"x", PRIVATE_FILE).unwrap();
        assert_eq!(fs::read_to_string(t.path().join("made-later")).unwrap(), "x");
    }

    #[test]
    fn lock_excludes_a_second_holder() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("config");
        let held = Lock::acquire(&target).unwrap();
        assert!(Lock::try_acquire(&target).unwrap().is_none());
        let other = File::options().write(true).open(held.path()).unwrap();
        assert!(matches!(other.try_lock(), Err(fs::TryLockError::WouldBlock)));
        drop(held);
        assert!(other.try_lock().is_ok());
    }

    #[test]
    fn concurrent_writers_never_leave_a_torn_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("cache.json");
        let a = vec![b'a'; 1 << 16];
        let b = vec![b'b'; 1 << 16];
        std::thread::scope(|s| {
            for data in [&a, &b] {
                let p = &p;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomic(p, data, PRIVATE_FILE).unwrap();
                    }
                });
            }
            s.spawn(|| {
                for _ in 0..200 {
                    if let Ok(bytes) = fs::read(&p) {
                        assert!(bytes == a || bytes == b, "torn read of {} bytes", bytes.len());
                    }
                }
            });
        });
    }
}
