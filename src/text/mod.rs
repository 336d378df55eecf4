//! Text before any parse: byte searches, identifiers and the outline of a file (statements,
//! classes, methods) read from its tokens. Knows nothing of Django.

pub mod needle;
pub mod outline;
pub mod trigger;

use std::ops::Range;

pub use outline::is_ident_byte;

/// Byte ranges of the identifiers (and numbers) in `text`.
pub fn identifiers(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() && !is_ident_byte(text[i]) {
            i += 1;
        }
        if i >= text.len() {
            return None;
        }
        let start = i;
        while i < text.len() && is_ident_byte(text[i]) {
            i += 1;
        }
        Some(start..i)
    })
}

/// Is `word` in `text` as a whole word (wherever: code, strings, comments)?
pub fn has_word(text: &[u8], word: &memchr::memmem::Finder) -> bool {
    let len = word.needle().len();
    word.find_iter(text).any(|at| {
        let starts = at == 0 || !is_ident_byte(text[at - 1]);
        starts && text.get(at + len).is_none_or(|&b| !is_ident_byte(b))
    })
}

/// Moves `i` past white space and line continuations; the byte there, if any.
pub fn next_byte_at(text: &[u8], i: &mut usize) -> Option<u8> {
    while *i < text.len() && matches!(text[*i], b' ' | b'\t' | b'\r' | b'\n' | b'\\') {
        *i += 1;
    }
    text.get(*i).copied()
}
