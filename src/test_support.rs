//! Helpers shared by unit tests across modules.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

/// A new, empty directory under the system temp dir, unique to this process
/// and moment: `<prefix>-<pid>-<nanoseconds>`.
pub(crate) fn fresh_temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
