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
    #[error("cannot read: {0}; make it readable or exclude it")]
    Io(#[from] std::io::Error),
    #[error("not a regular file (a folder, pipe or device named like a Python file); exclude it")]
    NotAFile,
    #[error(
        "not UTF-8 (byte 0x{byte:02x} at line {line}, column {column}); djopt reads only UTF-8: convert the file or exclude it"
    )]
    NotUtf8 {
        line: usize,
        column: usize,
        byte: u8,
    },
    #[error("looks binary (contains a NUL byte); exclude it")]
    Binary,
    #[error("too large ({0} bytes, limit {1}); exclude it")]
    TooLarge(u64, u64),
}

/// Largest file djopt reads (bytes). Larger files are reported and skipped.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// `path` opened for reading when it is a regular file, with its size; None for a folder, a
/// FIFO, a device. One lookup of the path instead of two (a `metadata` then an `open`: 16,000
/// lookups on the corpus), and a FIFO is opened without waiting for a writer.
pub fn open_regular(path: &Path) -> std::io::Result<Option<(std::fs::File, u64)>> {
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?
    };
    #[cfg(not(unix))]
    let file = {
        if !std::fs::metadata(path)?.is_file() {
            return Ok(None);
        }
        std::fs::File::open(path)?
    };
    let meta = file.metadata()?;
    Ok(meta.is_file().then_some((file, meta.len())))
}

/// The bytes of a file opened with [`open_regular`] (`len` its size then), at most `limit`.
pub fn read_at_most(file: std::fs::File, len: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(usize::try_from(len.min(limit)).unwrap_or(0));
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path as given or found by the walk (used in messages).
    pub path: PathBuf,
    /// Text without the BOM.
    pub text: String,
    pub bom: bool,
    pub line_ending: LineEnding,
    /// The exact bytes read, to detect changes on disk before writing ([`Self::original`]);
    /// None while they are the text itself (after the BOM, if any): no copy of every file read.
    original: Option<std::sync::Arc<[u8]>>,
    /// Where each line starts, computed on first use (most files read have no finding).
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

const BOM: &str = "\u{feff}";

impl SourceFile {
    pub fn read(path: &Path) -> Result<SourceFile, SourceError> {
        // A FIFO would block a read forever; a folder cannot be read.
        let Some((file, len)) = open_regular(path)? else {
            return Err(SourceError::NotAFile);
        };
        if len > MAX_FILE_SIZE {
            return Err(SourceError::TooLarge(len, MAX_FILE_SIZE));
        }
        let bytes = read_at_most(file, len, MAX_FILE_SIZE + 1)?;
        // It may have grown since the look at its size.
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(SourceError::TooLarge(bytes.len() as u64, MAX_FILE_SIZE));
        }
        SourceFile::from_bytes(path.to_path_buf(), bytes)
    }

    pub fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> Result<SourceFile, SourceError> {
        if memchr::memchr(0, &bytes).is_some() {
            return Err(SourceError::Binary);
        }
        let mut text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let valid_up_to = e.utf8_error().valid_up_to();
                return Err(not_utf8(e.as_bytes(), valid_up_to));
            }
        };
        let bom = text.starts_with(BOM);
        if bom {
            text.drain(..BOM.len());
        }
        Ok(SourceFile::with_original(path, text, bom, None))
    }

    pub fn new(path: PathBuf, text: String, bom: bool, original: Vec<u8>) -> SourceFile {
        SourceFile::with_original(path, text, bom, Some(original.into()))
    }

    fn with_original(
        path: PathBuf,
        text: String,
        bom: bool,
        original: Option<std::sync::Arc<[u8]>>,
    ) -> SourceFile {
        let line_ending = detect_line_ending(&text);
        SourceFile {
            path,
            text,
            bom,
            line_ending,
            original,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// The exact bytes read from disk.
    pub fn original(&self) -> std::borrow::Cow<'_, [u8]> {
        match &self.original {
            Some(bytes) => std::borrow::Cow::Borrowed(bytes),
            None if !self.bom => std::borrow::Cow::Borrowed(self.text.as_bytes()),
            None => std::borrow::Cow::Owned(self.to_bytes()),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// The same file with new text (BOM and original bytes kept).
    pub fn with_text(&self, text: String) -> SourceFile {
        let original = match &self.original {
            Some(bytes) => bytes.clone(),
            None => self.original().into_owned().into(),
        };
        SourceFile::with_original(self.path.clone(), text, self.bom, Some(original))
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

    /// 1-based line and 1-based column (in characters) of a byte offset (clamped to the text,
    /// and to the start of the character it falls in).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_starts = self.line_starts();
        let line = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = line_starts[line];
        let col = self.text[start..offset].chars().count();
        (line + 1, col + 1)
    }

    /// The text of a 1-based line without its line ending ("" past the last line).
    pub fn line_text(&self, line: usize) -> &str {
        let line_starts = self.line_starts();
        let Some(&start) = line.checked_sub(1).and_then(|i| line_starts.get(i)) else {
            return "";
        };
        let end = line_starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// Byte offset where the line holding `offset` starts.
    pub fn line_start(&self, offset: usize) -> usize {
        let (line, _) = self.line_col(offset);
        self.line_starts()[line - 1]
    }
}

/// Where the first invalid byte is, for the message.
fn not_utf8(bytes: &[u8], valid_up_to: usize) -> SourceError {
    let before = &bytes[..valid_up_to];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    // The bytes before it on its line are valid UTF-8.
    let column = std::str::from_utf8(&before[line_start..]).map_or(1, |s| s.chars().count() + 1);
    SourceError::NotUtf8 {
        line,
        column,
        byte: bytes.get(valid_up_to).copied().unwrap_or(0),
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
            Err(SourceError::NotUtf8 {
                line: 1,
                column: 2,
                byte: 0xff
            })
        ));
        let latin1 = b"x = 1\n# caf\xe9\n".to_vec();
        let message = SourceFile::from_bytes("a.py".into(), latin1)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("byte 0xe9 at line 2, column 6"),
            "{message}"
        );
        assert!(matches!(
            SourceFile::from_bytes("a.py".into(), vec![b'a', 0]),
            Err(SourceError::Binary)
        ));
    }
}

/// The round trip over arbitrary bytes: what djopt reads is what it writes back, BOM and line
/// endings included, and positions agree between the LF and CRLF copies of a text.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Python-ish text with every kind of line ending, tabs and multi-byte characters.
    fn text() -> impl Strategy<Value = String> {
        "[a-z =:().\t\u{e9}\u{1F600}\u{feff}\r\n]{0,60}"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any bytes: either refused, or read and written back unchanged.
        #[test]
        fn bytes_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(file) = SourceFile::from_bytes("a.py".into(), bytes.clone()) {
                prop_assert_eq!(file.to_bytes(), bytes);
            }
        }

        /// Text, with or without a BOM, with any line endings: written back unchanged, the BOM
        /// kept apart from the text, and an edit-free `with_text` changes nothing.
        #[test]
        fn text_round_trip(text in text(), bom in any::<bool>()) {
            let mut bytes = if bom { BOM.as_bytes().to_vec() } else { Vec::new() };
            bytes.extend_from_slice(text.as_bytes());
            let file = SourceFile::from_bytes("a.py".into(), bytes.clone()).unwrap();
            let all = String::from_utf8(bytes.clone()).unwrap();
            prop_assert_eq!(file.bom, all.starts_with(BOM));
            prop_assert_eq!(&file.text, all.strip_prefix(BOM).unwrap_or(&all));
            prop_assert_eq!(file.to_bytes(), bytes.clone());
            prop_assert_eq!(file.with_text(file.text.clone()).to_bytes(), bytes);
        }

        /// The CRLF copy of an LF text: detected as CRLF, and every line and column the same.
        #[test]
        fn crlf_copy_has_the_same_positions(text in "[a-z =\u{e9}\n]{0,60}") {
            let lf = SourceFile::from_bytes("a.py".into(), text.clone().into_bytes()).unwrap();
            let crlf_text = text.replace('\n', "\r\n");
            let crlf = SourceFile::from_bytes("a.py".into(), crlf_text.clone().into_bytes()).unwrap();
            prop_assert_eq!(crlf.line_ending, if text.contains('\n') { LineEnding::CrLf } else { LineEnding::Lf });
            prop_assert_eq!(lf.line_count(), crlf.line_count());
            for line in 1..=lf.line_count() {
                prop_assert_eq!(lf.line_text(line), crlf.line_text(line));
            }
            let mut crlf_offset = 0;
            for (offset, c) in text.char_indices() {
                prop_assert_eq!(lf.line_col(offset), crlf.line_col(crlf_offset));
                crlf_offset += if c == '\n' { 2 } else { c.len_utf8() };
            }
        }

        /// Positions never panic, whatever offset or line a caller asks for.
        #[test]
        fn positions_are_total(text in text(), offset in 0usize..200, line in 0usize..40) {
            let file = SourceFile::from_bytes("a.py".into(), text.into_bytes()).unwrap();
            let (l, c) = file.line_col(offset);
            prop_assert!(l >= 1 && l <= file.line_count() && c >= 1);
            let _ = file.line_text(line);
            let _ = file.line_start(offset);
        }
    }
}
