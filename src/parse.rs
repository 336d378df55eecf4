//! One tree-sitter parser per thread.

use std::cell::RefCell;
use tree_sitter::{Language, Node, Parser, Tree};

pub fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parse Python source. Returns None only if tree-sitter gives up (it should not).
pub fn parse(text: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = slot.get_or_insert_with(|| {
            let mut parser = Parser::new();
            parser
                .set_language(&language())
                .expect("tree-sitter-python is ABI-compatible with tree-sitter (tested)");
            parser
        });
        parser.parse(text, None)
    })
}

/// The first ERROR or MISSING node, if the tree has any.
pub fn first_error(tree: &Tree) -> Option<Node<'_>> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            return Some(node);
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

/// Number of ERROR and MISSING nodes in the tree.
pub fn error_count(tree: &Tree) -> usize {
    let root = tree.root_node();
    if !root.has_error() {
        return 0;
    }
    let mut count = 0;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return count;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_loads_into_this_tree_sitter() {
        let mut parser = Parser::new();
        parser.set_language(&language()).unwrap();
        let tree = parser.parse("x = 1\n", None).unwrap();
        assert_eq!(tree.root_node().kind(), "module");
    }

    #[test]
    fn counts_errors() {
        let tree = parse("def f(:\n  pass\n").unwrap();
        assert!(error_count(&tree) > 0);
        assert!(first_error(&tree).is_some());
        let tree = parse("def f():\n  pass\n").unwrap();
        assert_eq!(error_count(&tree), 0);
    }
}
