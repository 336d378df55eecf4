//! Searches for fixed byte strings with searchers built once. `memchr::memmem::find` builds a
//! searcher on every call, which costs more than the search itself on the short texts the
//! prefilters read (a statement, a line): 1.6% of a corpus run went to building them.

/// The [`memchr::memmem::Finder`] of a constant needle, built on first use and kept (one per
/// place it is written): `finder!(b"import").find(text)`.
#[macro_export]
macro_rules! finder {
    ($needle:expr) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        &*FINDER
    }};
}

/// The finders of constant needles, built on first use and kept.
pub struct Finders(std::sync::LazyLock<Vec<memchr::memmem::Finder<'static>>>);

impl Finders {
    pub const fn new(build: fn() -> Vec<memchr::memmem::Finder<'static>>) -> Finders {
        Finders(std::sync::LazyLock::new(build))
    }

    /// Does any needle occur in `text`?
    pub fn any_in(&self, text: &[u8]) -> bool {
        self.0.iter().any(|f| f.find(text).is_some())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finders_find_what_memmem_finds() {
        let text = b"for b in Book.objects.all(): print(b)";
        assert_eq!(crate::finder!(b"objects").find(text), Some(14));
        assert_eq!(crate::finder!(b"print(b)").find(text), Some(29));
        assert_eq!(crate::finder!(b"absent").find(text), None);
        // Each place keeps its own finder.
        let twice: Vec<Option<usize>> = [0, 1]
            .iter()
            .map(|_| crate::finder!(b"all").find(text))
            .collect();
        assert_eq!(twice, [Some(22), Some(22)]);
        let finders = super::Finders::new(|| {
            [&b"absent"[..], b"Book"]
                .iter()
                .map(|n| memchr::memmem::Finder::new(*n))
                .collect()
        });
        assert!(finders.any_in(text));
        assert!(!finders.any_in(b"nothing here"));
    }
}
