//! Class bodies as the framework rules and the analysis read them: a view's, an admin's or an
//! inline's attributes, methods and decorators, and the models an admin is registered for.

use super::FileContext;
use crate::index::ModelId;
use crate::index::frameworks::site_reads_method;
use crate::syntax::NodeKind;
use crate::syntax::{call_args, dotted_name, method_call, text, unparen};
use tree_sitter::Node;

/// A class body as the framework rules read it.
pub struct ClassView<'t> {
    pub node: Node<'t>,
    pub name: String,
    pub bases: Vec<String>,
    /// `name = value` at class level: (name, value, statement).
    pub attrs: Vec<(String, Node<'t>, Node<'t>)>,
    /// Methods: (name, function definition).
    pub methods: Vec<(String, Node<'t>)>,
    /// Decorators of the class (`@admin.register(Book)`).
    pub decorators: Vec<Node<'t>>,
    /// The text of each statement of its body but methods and comments.
    statements: Vec<&'t [u8]>,
}

impl<'t> ClassView<'t> {
    pub fn read(node: Node<'t>, src: &'t str) -> Option<ClassView<'t>> {
        if node.node_kind() != "class_definition" {
            return None;
        }
        let mut view = ClassView {
            node,
            name: text(node.child_by_field_id(crate::field!("name"))?, src).to_string(),
            bases: Vec::new(),
            attrs: Vec::new(),
            methods: Vec::new(),
            decorators: Vec::new(),
            statements: Vec::new(),
        };
        if let Some(supers) = node.child_by_field_id(crate::field!("superclasses")) {
            let mut cursor = supers.walk();
            for base in supers.named_children(&mut cursor) {
                if let Some(name) = crate::syntax::base_name(base, src) {
                    view.bases.push(name);
                }
            }
        }
        if let Some(parent) = node
            .parent()
            .filter(|p| p.node_kind() == "decorated_definition")
        {
            let mut cursor = parent.walk();
            for d in parent.named_children(&mut cursor) {
                if d.node_kind() == "decorator" {
                    view.decorators.push(d);
                }
            }
        }
        let body = node.child_by_field_id(crate::field!("body"))?;
        let mut cursor = body.walk();
        for stmt in body.named_children(&mut cursor) {
            let method = stmt.node_kind() == "function_definition"
                || stmt
                    .child_by_field_id(crate::field!("definition"))
                    .is_some_and(|d| d.node_kind() == "function_definition");
            if !method && stmt.node_kind() != "comment" {
                view.statements.push(&src.as_bytes()[stmt.byte_range()]);
            }
            match stmt.node_kind() {
                "expression_statement" => {
                    if let Some((left, right)) = crate::syntax::simple_assignment(stmt) {
                        view.attrs
                            .push((text(left, src).to_string(), unparen(right), stmt));
                    }
                }
                "function_definition" => {
                    if let Some(n) = stmt.child_by_field_id(crate::field!("name")) {
                        view.methods.push((text(n, src).to_string(), stmt));
                    }
                }
                "decorated_definition" => {
                    if let Some(def) = stmt
                        .child_by_field_id(crate::field!("definition"))
                        .filter(|d| d.node_kind() == "function_definition")
                        && let Some(n) = def.child_by_field_id(crate::field!("name"))
                    {
                        view.methods.push((text(n, src).to_string(), def));
                    }
                }
                _ => {}
            }
        }
        Some(view)
    }

    pub fn attr(&self, name: &str) -> Option<(Node<'t>, Node<'t>)> {
        self.attrs
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, s)| (*v, *s))
    }

    /// The method named `name` (the last one defined). Phase 2 may have parsed only the
    /// methods the framework rules read: each framework's `site_methods` and those the class's statements
    /// name; asking for another could miss it.
    pub fn method(&self, name: &str) -> Option<Node<'t>> {
        debug_assert!(
            site_reads_method(name.as_bytes(), self.statements.iter().copied()),
            "phase 2 may leave the method `{name}` out of `{}`: add it to its framework's site_methods",
            self.name
        );
        self.methods
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, f)| *f)
    }
}

/// The models an admin class is registered for: `@admin.register(Book)` on it, or
/// `admin.site.register(Book, BookAdmin)` in the same file.
pub fn registered_models(ctx: &FileContext, class: &ClassView) -> Vec<ModelId> {
    let src = ctx.src;
    let mut out = Vec::new();
    let add = |node: Node, out: &mut Vec<ModelId>| {
        let node = unparen(node);
        let items: Vec<Node> = if matches!(node.node_kind(), "list" | "tuple") {
            let mut c = node.walk();
            node.named_children(&mut c).collect()
        } else {
            vec![node]
        };
        for item in items {
            if let Some(name) = dotted_name(item, src)
                && let Some(r) = ctx.model_named(crate::syntax::last_segment(&name))
            {
                out.push(r.id());
            } else {
                out.push(usize::MAX); // something we cannot read: counts as another model
            }
        }
    };
    for d in &class.decorators {
        if let Some(call) = d.named_child(0).filter(|c| c.node_kind() == "call")
            && let Some(f) = call.child_by_field_id(crate::field!("function"))
            && dotted_name(f, src).is_some_and(|n| n.ends_with("register"))
        {
            for arg in call_args(call, src).positional {
                add(arg, &mut out);
            }
        }
    }
    crate::syntax::walk_named(ctx.tree.root_node(), |n| {
        if let Some((_, method)) = method_call(n, src)
            && method == "register"
        {
            let args = call_args(n, src);
            if args.positional.len() >= 2 && text(args.positional[1], src) == class.name {
                add(args.positional[0], &mut out);
            }
            return false;
        }
        !matches!(n.node_kind(), "function_definition")
    });
    if out.contains(&usize::MAX) {
        return vec![usize::MAX, usize::MAX];
    }
    out.sort();
    out.dedup();
    out
}

/// The strings of a list or tuple literal (`["a", "b"]`); None for anything else or an item
/// that is not a plain string.
pub fn string_items(value: Node, src: &str) -> Option<Vec<String>> {
    let value = unparen(value);
    if !matches!(value.node_kind(), "list" | "tuple") {
        return None;
    }
    let mut cursor = value.walk();
    value
        .named_children(&mut cursor)
        .filter(|n| n.node_kind() != "comment")
        .map(|n| crate::syntax::string_value(n, src))
        .collect()
}
