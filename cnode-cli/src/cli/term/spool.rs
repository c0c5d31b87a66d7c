//! Where streaming `encode` keeps the encoded elements of a large list or
//! tuple until it is closed and its count, which the header needs, is known.
//!
//! The first [`Spool::MEMORY`] bytes stay in memory; past that everything
//! goes to an anonymous temporary file (deleted by the system when closed),
//! so a container larger than memory costs disk, not RSS.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

/// Encoded bytes waiting for their container's header.
#[derive(Debug, Default)]
pub(super) struct Spool {
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
}

impl Spool {
    /// How many bytes one spool holds in memory before moving to a file.
    pub(super) const MEMORY: usize = 4 << 20;

    /// Appends `bytes`.
    pub(super) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            return file.write_all(bytes);
        }
        if self.memory.len() + bytes.len() <= Self::MEMORY {
            self.memory.extend_from_slice(bytes);
            return Ok(());
        }
        let mut file = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
        file.write_all(&self.memory)?;
        file.write_all(bytes)?;
        self.memory = Vec::new();
        self.file = Some(file);
        Ok(())
    }

    /// Copies everything written, in order, to `out`.
    pub(super) fn copy_to(self, out: &mut impl Write) -> io::Result<()> {
        match self.file {
            None => out.write_all(&self.memory),
            Some(file) => {
                let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.seek(SeekFrom::Start(0))?;
                let mut chunk = vec![0; 1 << 20];
                loop {
                    let n = match file.read(&mut chunk) {
                        Ok(0) => return Ok(()),
                        Ok(n) => n,
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                        Err(err) => return Err(err),
                    };
                    out.write_all(&chunk[..n])?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_across_the_move_to_a_file() {
        let mut spool = Spool::default();
        let block: Vec<u8> = (0..=255).cycle().take(Spool::MEMORY / 3 + 7).collect();
        let mut expected = Vec::new();
        for _ in 0..5 {
            spool.write(&block).unwrap();
            expected.extend_from_slice(&block);
        }
        assert!(spool.file.is_some());
        let mut out = Vec::new();
        spool.copy_to(&mut out).unwrap();
        assert_eq!(out, expected);
    }
}
