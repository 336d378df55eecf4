//! The Python grammar: its language, field ids and node kinds, each looked up once.

use tree_sitter::Language;

pub fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

/// The id of a field of the Python grammar (0, which no child has, for an unknown name).
/// Use [`crate::field!`]: `Node::child_by_field_name` looks the name up among the grammar's
/// field names by string comparison on every call.
pub fn field_id(name: &str) -> u16 {
    language().field_id_for_name(name).map_or(0, |id| id.get())
}

/// `node.child_by_field_id(field!("body"))`: the field's id, looked up once per call site.
#[macro_export]
macro_rules! field {
    ($name:literal) => {{
        static ID: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
        *ID.get_or_init(|| $crate::syntax::field_id($name))
    }};
}

/// `node.node_kind()` from a table made once: tree-sitter's `Node::kind` measures the name's C string
/// and checks it is UTF-8 on every call (1.7% of a corpus run, over a million calls).
pub trait NodeKind {
    /// The node's type, as `Node::kind` names it.
    fn node_kind(&self) -> &'static str;
}

impl NodeKind for tree_sitter::Node<'_> {
    #[inline]
    fn node_kind(&self) -> &'static str {
        static KINDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
            let language = language();
            (0..language.node_kind_count())
                .map(|id| {
                    u16::try_from(id)
                        .ok()
                        .and_then(|id| language.node_kind_for_id(id))
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        });
        // Only ERROR's id (u16::MAX) lies past the grammar's kinds.
        KINDS
            .get(usize::from(self.kind_id()))
            .map_or("ERROR", String::as_str)
    }
}
