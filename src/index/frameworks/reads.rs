//! What a function body reads from one of its names, before the index says which reads are
//! relations: `obj.author.publisher.name` → `author, publisher, name`.
//!
//! The same small vocabulary serves Python bodies (serializer methods, admin columns, model
//! `__str__` and properties) and templates:
//! - `name`: an attribute;
//! - `name()`: a method called on the object;
//! - `*`: each row of a related manager (`.all()`, iterating it, `{% for t in b.tags.all %}`);
//! - `__str__()`: the object is turned into text (`str(x)`, `f"{x}"`, `{{ x }}`).

use crate::syntax::NodeKind;
use crate::syntax::{call_args, text, unparen};
use std::collections::HashMap;
use tree_sitter::Node;

pub const ROWS: &str = "*";
pub const STR: &str = "__str__()";

/// One chain of attribute reads from a root object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRead {
    pub names: Vec<String>,
    /// 1-based line of the read in its file (Python or template).
    pub line: usize,
    /// The expression as written, shortened, for messages.
    pub text: String,
}

/// Builtins that turn their argument into text.
const STRINGIFY: &[&str] = &["str", "format", "repr"];

/// Every chain read from `root` (a parameter name) in `body`, aliases and loops included.
pub fn reads_from(body: Node, root: &str, src: &str) -> Vec<RawRead> {
    // Every read starts from `root` by name: no walk for a body that does not mention it.
    if memchr::memmem::find(
        &src.as_bytes()[body.start_byte()..body.end_byte()],
        root.as_bytes(),
    )
    .is_none()
    {
        return Vec::new();
    }
    let mut reader = Reader {
        src,
        env: HashMap::from([(root.to_string(), Vec::new())]),
        out: Vec::new(),
    };
    reader.walk(body);
    reader.out
}

struct Reader<'s> {
    src: &'s str,
    /// Names that hold the root or something reached from it, with the path that reaches it.
    env: HashMap<String, Vec<String>>,
    out: Vec<RawRead>,
}

impl Reader<'_> {
    fn walk(&mut self, node: Node) {
        match node.node_kind() {
            "function_definition" | "class_definition" | "lambda" => return,
            "assignment" => return self.assignment(node),
            "for_statement" => return self.for_statement(node),
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => return self.comprehension(node),
            "interpolation" => {
                if let Some(expr) = node.child_by_field_id(crate::field!("expression"))
                    && self.emit_stringified(expr)
                {
                    return;
                }
            }
            "call" => {
                if let Some(function) = node.child_by_field_id(crate::field!("function"))
                    && function.node_kind() == "identifier"
                    && STRINGIFY.contains(&text(function, self.src))
                    && let Some(arg) = call_args(node, self.src).positional.first()
                    && self.emit_stringified(*arg)
                {
                    return;
                }
                if self.emit_chain(node) {
                    return;
                }
            }
            "attribute" | "subscript" if self.emit_chain(node) => return,
            _ => {}
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            self.walk(child);
        }
    }

    /// `str(x.author)` / `f"{x.author}"`: the read, then the object's `__str__`.
    fn emit_stringified(&mut self, expr: Node) -> bool {
        let expr = unparen(expr);
        let Some(mut names) = self.chain(expr) else {
            return false;
        };
        names.push(STR.to_string());
        self.push(names, expr);
        self.walk_arguments(expr);
        true
    }

    /// A chain rooted at a tracked name: record it and visit only the arguments inside it.
    fn emit_chain(&mut self, node: Node) -> bool {
        let Some(names) = self.chain(node) else {
            return false;
        };
        if !names.is_empty() {
            self.push(names, node);
        }
        self.walk_arguments(node);
        true
    }

    fn push(&mut self, names: Vec<String>, node: Node) {
        let collapsed: String = text(node, self.src).split_whitespace().collect();
        let shown = if collapsed.chars().count() > 60 {
            format!("{}...", collapsed.chars().take(57).collect::<String>())
        } else {
            collapsed
        };
        self.out.push(RawRead {
            names,
            line: node.start_position().row + 1,
            text: shown,
        });
    }

    /// Visit the arguments and subscripts of the calls that make up a chain.
    fn walk_arguments(&mut self, node: Node) {
        let mut current = unparen(node);
        loop {
            match current.node_kind() {
                "call" => {
                    if let Some(args) = current.child_by_field_id(crate::field!("arguments")) {
                        self.walk(args);
                    }
                    match current.child_by_field_id(crate::field!("function")) {
                        Some(f) if f.node_kind() == "attribute" => current = f,
                        _ => {
                            // list(x.tags.all()): the argument is the chain.
                            return;
                        }
                    }
                }
                "attribute" => match current.child_by_field_id(crate::field!("object")) {
                    Some(o) => current = unparen(o),
                    None => return,
                },
                "subscript" => {
                    if let Some(s) = current.child_by_field_id(crate::field!("subscript")) {
                        self.walk(s);
                    }
                    match current.child_by_field_id(crate::field!("value")) {
                        Some(v) => current = unparen(v),
                        None => return,
                    }
                }
                _ => return,
            }
        }
    }

    /// The path an expression reaches from the root, if it is a chain over a tracked name.
    fn chain(&self, node: Node) -> Option<Vec<String>> {
        let node = unparen(node);
        let src = self.src;
        match node.node_kind() {
            "identifier" => self.env.get(text(node, src)).cloned(),
            "attribute" => {
                let mut names = self.chain(node.child_by_field_id(crate::field!("object"))?)?;
                names.push(
                    text(node.child_by_field_id(crate::field!("attribute"))?, src).to_string(),
                );
                Some(names)
            }
            "call" => {
                let function = node.child_by_field_id(crate::field!("function"))?;
                match function.node_kind() {
                    "attribute" => {
                        let mut names =
                            self.chain(function.child_by_field_id(crate::field!("object"))?)?;
                        let method =
                            text(function.child_by_field_id(crate::field!("attribute"))?, src);
                        names.push(if method == "all" {
                            ROWS.to_string()
                        } else {
                            format!("{method}()")
                        });
                        Some(names)
                    }
                    "identifier" if crate::django::EVALUATORS.contains(&text(function, src)) => {
                        let first = *call_args(node, src).positional.first()?;
                        let names = self.chain(first)?;
                        (names.last().map(String::as_str) == Some(ROWS)).then_some(names)
                    }
                    _ => None,
                }
            }
            "subscript" => {
                // `x.tags.all()[0]`: one of the rows.
                let names = self.chain(node.child_by_field_id(crate::field!("value"))?)?;
                (names.last().map(String::as_str) == Some(ROWS)).then_some(names)
            }
            _ => None,
        }
    }

    fn assignment(&mut self, node: Node) {
        let (Some(left), Some(right)) = (
            node.child_by_field_id(crate::field!("left")),
            node.child_by_field_id(crate::field!("right")),
        ) else {
            return;
        };
        self.walk(right);
        if left.node_kind() != "identifier" {
            self.walk(left);
            return;
        }
        let name = text(left, self.src).to_string();
        match self.chain(right) {
            Some(names) => {
                self.env.insert(name, names);
            }
            None => {
                self.env.remove(&name);
            }
        }
    }

    /// `for t in x.tags.all()`: `t` is each row of the relation.
    fn bind_rows(&mut self, target: Node, iterable: Node) -> Option<(String, Option<Vec<String>>)> {
        let target = unparen(target);
        if target.node_kind() != "identifier" {
            return None;
        }
        let name = text(target, self.src).to_string();
        let rows = self
            .chain(iterable)
            .filter(|names| names.last().map(String::as_str) == Some(ROWS));
        let saved = self.env.remove(&name);
        if let Some(rows) = rows {
            self.env.insert(name.clone(), rows);
        }
        Some((name, saved))
    }

    fn restore(&mut self, bound: Option<(String, Option<Vec<String>>)>) {
        if let Some((name, saved)) = bound {
            self.env.remove(&name);
            if let Some(saved) = saved {
                self.env.insert(name, saved);
            }
        }
    }

    fn for_statement(&mut self, node: Node) {
        let (Some(left), Some(right)) = (
            node.child_by_field_id(crate::field!("left")),
            node.child_by_field_id(crate::field!("right")),
        ) else {
            return;
        };
        self.walk(right);
        let bound = self.bind_rows(left, right);
        if bound.is_none() {
            self.unbind_targets(left);
        }
        if let Some(body) = node.child_by_field_id(crate::field!("body")) {
            self.walk(body);
        }
        self.restore(bound);
        if let Some(alt) = node.child_by_field_id(crate::field!("alternative")) {
            self.walk(alt);
        }
    }

    fn comprehension(&mut self, node: Node) {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        let mut bound = Vec::new();
        for clause in &children {
            if clause.node_kind() == "for_in_clause"
                && let (Some(left), Some(right)) = (
                    clause.child_by_field_id(crate::field!("left")),
                    clause.child_by_field_id(crate::field!("right")),
                )
            {
                self.walk(right);
                match self.bind_rows(left, right) {
                    Some(b) => bound.push(b),
                    None => self.unbind_targets(left),
                }
            }
        }
        for child in &children {
            if child.node_kind() != "for_in_clause" {
                self.walk(*child);
            }
        }
        for b in bound.into_iter().rev() {
            self.restore(Some(b));
        }
    }

    /// Loop targets we cannot follow hide whatever they name.
    fn unbind_targets(&mut self, target: Node) {
        let src = self.src;
        let mut names = Vec::new();
        crate::syntax::walk_named(target, |n| {
            if n.node_kind() == "identifier" {
                names.push(text(n, src).to_string());
            }
            true
        });
        for n in names {
            self.env.remove(&n);
        }
    }
}

/// The names of a function's parameters, in order (`self` included).
pub fn parameter_names(function: Node, src: &str) -> Vec<String> {
    let Some(params) = function.child_by_field_id(crate::field!("parameters")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        let name = match p.node_kind() {
            "identifier" => Some(p),
            "default_parameter" | "typed_parameter" | "typed_default_parameter" => p
                .child_by_field_id(crate::field!("name"))
                .or_else(|| p.named_child(0))
                .filter(|n| n.node_kind() == "identifier"),
            _ => None,
        };
        if let Some(n) = name {
            out.push(text(n, src).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(code: &str, root: &str) -> Vec<String> {
        let tree = crate::syntax::parse::parse(code).unwrap();
        reads_from(tree.root_node(), root, code)
            .into_iter()
            .map(|r| r.names.join("."))
            .collect()
    }

    #[test]
    fn chains_aliases_loops_and_text() {
        let code = "a = obj.author\nx = a.publisher.name\nfor t in obj.tags.all():\n    print(t.name)\ny = f\"{obj.editor}\"\nz = str(obj)\nn = obj.books.count()\n";
        assert_eq!(
            reads(code, "obj"),
            vec![
                "author",
                "author.publisher.name",
                "tags.*",
                "tags.*.name",
                "editor.__str__()",
                "__str__()",
                "books.count()",
            ]
        );
    }

    #[test]
    fn comprehension_over_rows() {
        let code = "', '.join(t.name for t in obj.tags.all())";
        assert_eq!(reads(code, "obj"), vec!["tags.*", "tags.*.name"]);
    }
}
