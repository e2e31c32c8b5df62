//! Reading a file whose size the server does not control (a kernel file
//! that grows with the host, a page an operator may swap) up to a cap, so
//! no read can take memory without bound.

use std::io::{self, Read};
use std::path::Path;

/// At most `max` bytes of `path` as text (invalid UTF-8 is an error, as
/// with `std::fs::read_to_string`); past the cap the rest is not read.
pub fn read_prefix(path: impl AsRef<Path>, max: u64) -> io::Result<String> {
    let mut out = String::new();
    std::fs::File::open(path)?
        .take(max)
        .read_to_string(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_file_is_read_up_to_the_cap_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long");
        std::fs::write(&path, "x".repeat(10_000)).unwrap();
        assert_eq!(read_prefix(&path, 100).unwrap().len(), 100);
        assert_eq!(read_prefix(&path, 1 << 20).unwrap().len(), 10_000);
        assert!(read_prefix(dir.path().join("absent"), 10).is_err());
    }
}
