//! Methods of a project class that phase 1 does not parse: most model methods are read only
//! when a loop, serializer, admin or template follows a row into them, and most never are.
//! Phase 1 keeps such a method's text with its class header; what it reads from `self` and
//! whether it writes are read the first time a rule asks (parsed as phase 1 would have), then
//! kept. The text is a copy: `fix` may rewrite the file meanwhile, and the index describes the
//! project as phase 1 read it.
//!
//! A method is left for later only when nothing phase 1 builds needs it (see
//! `prefilter::lazy_methods`): not `get_queryset` or another `get_…` method (serializer
//! hooks), not `to_representation`, no `return self…`/`return super…` (a queryset method), and
//! the only method of its name in the class.

use super::reads::{RawRead, SelfRead};
use crate::syntax::NodeKind;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Methods left unparsed by phase 1, and those read since (for `DJOPT_TIMINGS`).
static LEFT: AtomicUsize = AtomicUsize::new(0);
static READ: AtomicUsize = AtomicUsize::new(0);

/// (methods phase 1 left unparsed, methods read since) in this run.
pub fn counts() -> (usize, usize) {
    (LEFT.load(Ordering::Relaxed), READ.load(Ordering::Relaxed))
}

#[derive(Debug)]
pub struct LazyMethod {
    pub name: String,
    /// The class header (decorators to the first body statement) followed by the method
    /// (decorators included): the parts phase 1 would have parsed.
    text: Box<str>,
    facts: OnceLock<LazyFacts>,
    /// Reads the facts from the method's definition (the index's extractors: see
    /// `index::lazy_facts`), given by whoever leaves the method for later.
    reader: Reader,
}

/// What reads a method's facts from its definition in its text.
pub type Reader = fn(tree_sitter::Node, &str) -> LazyFacts;

/// What the index reads of a method.
#[derive(Debug, Default)]
pub struct LazyFacts {
    /// Attribute chains read from `self` (the index's member reads).
    pub reads: Vec<SelfRead>,
    /// It writes to the database.
    pub writes: bool,
    /// What its writes are called on (see `reads::WriteTarget`).
    pub write_targets: Vec<super::reads::WriteTarget>,
    /// What the framework rules read from `self` through it.
    pub framework_reads: Vec<RawRead>,
}

impl LazyMethod {
    /// The method `name` at `method` of `src`, in the class whose header is at `header`.
    pub fn new(
        name: String,
        src: &str,
        header: Range<usize>,
        method: Range<usize>,
        reader: Reader,
    ) -> Arc<LazyMethod> {
        LEFT.fetch_add(1, Ordering::Relaxed);
        let text = [&src[header], &src[method]].concat().into_boxed_str();
        Arc::new(LazyMethod {
            name,
            text,
            facts: OnceLock::new(),
            reader,
        })
    }

    /// The method's facts, read on first use. Text that does not parse as its class and the
    /// method (it always should) gives a method that reads nothing and may write (no fix
    /// counts on it).
    pub fn facts(&self) -> &LazyFacts {
        self.facts.get_or_init(|| {
            READ.fetch_add(1, Ordering::Relaxed);
            self.read().unwrap_or(LazyFacts {
                writes: true,
                write_targets: vec![super::reads::WriteTarget::Unknown],
                ..LazyFacts::default()
            })
        })
    }

    fn read(&self) -> Option<LazyFacts> {
        let src: &str = &self.text;
        let tree = crate::syntax::parse::parse(src)?;
        let root = tree.root_node();
        if root.has_error() {
            return None;
        }
        let class = last_definition(root, "class_definition")?;
        let body = class.child_by_field_id(crate::field!("body"))?;
        let def = last_definition(body, "function_definition")?;
        if def.node_kind() != "function_definition"
            || def
                .child_by_field_id(crate::field!("name"))
                .is_none_or(|n| crate::syntax::text(n, src) != self.name)
        {
            return None;
        }
        Some((self.reader)(def, src))
    }
}

/// The last definition of `kind` among a node's named children (comments are children too),
/// looking through decorators.
fn last_definition<'t>(node: tree_sitter::Node<'t>, kind: &str) -> Option<tree_sitter::Node<'t>> {
    let mut cursor = node.walk();
    let found = node
        .named_children(&mut cursor)
        .filter(|n| n.node_kind() == kind || n.node_kind() == "decorated_definition")
        .last()?;
    if found.node_kind() == "decorated_definition" {
        found.child_by_field_id(crate::field!("definition"))
    } else {
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_read_when_asked() {
        let src = "@register\nclass Book(models.Model):\n    title = 1\n\n    @property\n    def label(self):  # the author's\n        return self.author.name\n\n    def touch(self):\n        self.save()\n";
        let header = 0..src.find("    title").unwrap();
        let at = |needle: &str| src.find(needle).unwrap();
        let label = LazyMethod::new(
            "label".into(),
            src,
            header.clone(),
            at("    @property")..at("    def touch"),
            crate::index::lazy_facts,
        );
        let facts = label.facts();
        assert_eq!(facts.reads.len(), 1);
        assert_eq!(facts.reads[0].names, ["author", "name"]);
        assert!(!facts.writes);
        assert!(!facts.framework_reads.is_empty());
        let touch = LazyMethod::new(
            "touch".into(),
            src,
            header.clone(),
            at("    def touch")..src.len(),
            crate::index::lazy_facts,
        );
        assert!(touch.facts().writes);
        // Not the method it names: nothing is read, and the method may write.
        let wrong = LazyMethod::new(
            "other".into(),
            src,
            header,
            at("    def touch")..src.len(),
            crate::index::lazy_facts,
        );
        assert!(wrong.facts().reads.is_empty() && wrong.facts().writes);
    }
}
