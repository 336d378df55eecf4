//! A file as djopt sees it: its text without BOM, how lines end, and a line index.

use std::path::{Path, PathBuf};

/// How the file ends its lines; new text that spans lines uses the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
}

impl LineEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// Why a file could not be read as Python source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not UTF-8 (byte offset {0}); convert it to UTF-8 or exclude it")]
    NotUtf8(usize),
    #[error("looks binary (contains a NUL byte); exclude it")]
    Binary,
    #[error("too large ({0} bytes, limit {1}); exclude it or raise `max-file-size`")]
    TooLarge(u64, u64),
}

/// Largest file djopt reads (bytes). Larger files are reported and skipped.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path as given or found by the walk (used in messages).
    pub path: PathBuf,
    /// Text without the BOM.
    pub text: String,
    pub bom: bool,
    pub line_ending: LineEnding,
    /// The exact bytes read, to detect changes on disk before writing.
    pub original: Vec<u8>,
    line_starts: Vec<usize>,
}

const BOM: &str = "\u{feff}";

impl SourceFile {
    pub fn read(path: &Path) -> Result<SourceFile, SourceError> {
        let meta = std::fs::metadata(path)?;
        if meta.len() > MAX_FILE_SIZE {
            return Err(SourceError::TooLarge(meta.len(), MAX_FILE_SIZE));
        }
        let bytes = std::fs::read(path)?;
        SourceFile::from_bytes(path.to_path_buf(), bytes)
    }

    pub fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> Result<SourceFile, SourceError> {
        if memchr::memchr(0, &bytes).is_some() {
            return Err(SourceError::Binary);
        }
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t.to_string(),
            Err(e) => return Err(SourceError::NotUtf8(e.valid_up_to())),
        };
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest.to_string()),
            None => (false, text),
        };
        Ok(SourceFile::new(path, text, bom, bytes))
    }

    pub fn new(path: PathBuf, text: String, bom: bool, original: Vec<u8>) -> SourceFile {
        let line_ending = detect_line_ending(&text);
        let line_starts = line_starts(&text);
        SourceFile {
            path,
            text,
            bom,
            line_ending,
            original,
            line_starts,
        }
    }

    /// The same file with new text (BOM and original bytes kept).
    pub fn with_text(&self, text: String) -> SourceFile {
        SourceFile::new(self.path.clone(), text, self.bom, self.original.clone())
    }

    /// The bytes to write for the current text: BOM restored.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 3);
        if self.bom {
            out.extend_from_slice(BOM.as_bytes());
        }
        out.extend_from_slice(self.text.as_bytes());
        out
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self.text[start..offset].chars().count();
        (line + 1, col + 1)
    }

    /// The text of a 1-based line without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where the line holding `offset` starts.
    pub fn line_start(&self, offset: usize) -> usize {
        let (line, _) = self.line_col(offset);
        self.line_starts[line - 1]
    }
}

fn detect_line_ending(text: &str) -> LineEnding {
    match memchr::memchr(b'\n', text.as_bytes()) {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => LineEnding::CrLf,
        _ => LineEnding::Lf,
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_crlf_round_trip() {
        let bytes = b"\xef\xbb\xbfx = 1\r\ny = 2\r\n".to_vec();
        let file = SourceFile::from_bytes("a.py".into(), bytes.clone()).unwrap();
        assert!(file.bom);
        assert_eq!(file.line_ending, LineEnding::CrLf);
        assert_eq!(file.text, "x = 1\r\ny = 2\r\n");
        assert_eq!(file.to_bytes(), bytes);
        assert_eq!(file.line_text(2), "y = 2");
    }

    #[test]
    fn line_col_counts_characters() {
        let file = SourceFile::new("a.py".into(), "é = 1\nab".into(), false, vec![]);
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (1, 3));
        assert_eq!(file.line_col(8), (2, 2));
    }

    #[test]
    fn rejects_non_utf8_and_binary() {
        assert!(matches!(
            SourceFile::from_bytes("a.py".into(), vec![b'a', 0xff]),
            Err(SourceError::NotUtf8(1))
        ));
        assert!(matches!(
            SourceFile::from_bytes("a.py".into(), vec![b'a', 0]),
            Err(SourceError::Binary)
        ));
    }
}
