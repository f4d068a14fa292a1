//! Files cruddur writes (env files, docker's config.json, `init`'s project files):
//! written to a new temporary file in the same folder with the final mode, synced,
//! then renamed over the target, so a reader sees the old file or the new one and
//! an interrupted write leaves the old one whole. A symbolic link at the target is
//! refused: writing through it would put a secret wherever the link points.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{io_error, Error, Result};

/// Replaces `path` with `contents`, mode `mode`.
pub fn write(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::usage(
            format!("{} is a symbolic link: cruddur does not write through one", path.display()),
            "remove the link (or write to another path) and run the command again; nothing was written",
        ));
    }
    let temp = temporary(path);
    let result = (|| {
        let mut file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&temp).map_err(io_error(path))?;
        // The umask may have narrowed the mode: set it as asked. Errors name the target.
        file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(io_error(path))?;
        file.write_all(contents).map_err(io_error(path))?;
        file.sync_all().map_err(io_error(path))?;
        std::fs::rename(&temp, path).map_err(io_error(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result?;
    // The rename is durable once the folder is synced (best effort: not every
    // filesystem lets a folder be opened for it).
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// `.<name>.<pid>-<random>.tmp` beside the target.
fn temporary(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let unique = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    path.with_file_name(format!(".{name}.{unique}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replaces_the_file_with_its_final_mode_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backend-flask.env");
        std::fs::write(&path, "OLD=1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"NEW=2\n", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "NEW=2\n");
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [std::ffi::OsString::from("backend-flask.env")]);
    }

    #[test]
    fn a_symbolic_link_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("backend-flask.env");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write(&link, b"SECRET=x\n", 0o600).unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
