//! Small readers over tree-sitter-python nodes, shared by the index and the analysis.

mod kind;
pub mod parse;

pub use kind::{NodeKind, field_id, language};
use tree_sitter::Node;

pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    &src[node.byte_range()]
}

/// `a`, `a.b.c` as a dotted string; None for anything else.
pub fn dotted_name(node: Node, src: &str) -> Option<String> {
    match node.node_kind() {
        "identifier" => Some(text(node, src).to_string()),
        "attribute" => {
            let object = node.child_by_field_id(crate::field!("object"))?;
            let attr = node.child_by_field_id(crate::field!("attribute"))?;
            Some(format!("{}.{}", dotted_name(object, src)?, text(attr, src)))
        }
        _ => None,
    }
}

/// A class base as a dotted name: `models.Model`, and the generic `models.Manager["Profile"]`
/// or `ModelAdmin[Book]` (django-stubs style) as the class subscripted.
pub fn base_name(node: Node, src: &str) -> Option<String> {
    if node.node_kind() == "subscript" {
        return dotted_name(node.child_by_field_id(crate::field!("value"))?, src);
    }
    dotted_name(node, src)
}

/// The last segment of a dotted name (`models.ForeignKey` → `ForeignKey`).
pub fn last_segment(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

/// The value of a plain string literal (no f-string, no concatenation, no escapes we cannot read).
pub fn string_value(node: Node, src: &str) -> Option<String> {
    if node.node_kind() != "string" {
        return None;
    }
    let mut value = String::new();
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        match child.node_kind() {
            "string_start" => {
                let prefix = text(child, src).to_ascii_lowercase();
                if prefix.contains('f') || prefix.contains('b') {
                    return None;
                }
            }
            "string_content" => value.push_str(text(child, src)),
            "string_end" => {}
            "escape_sequence" | "interpolation" => return None,
            _ => return None,
        }
    }
    Some(value)
}

/// The quote character a string literal uses.
pub fn string_quote(node: Node, src: &str) -> Option<char> {
    let start = node.child(0)?;
    text(start, src).chars().find(|c| *c == '"' || *c == '\'')
}

/// Positional and keyword arguments of a call.
pub struct CallArgs<'t> {
    pub positional: Vec<Node<'t>>,
    pub keywords: Vec<(String, Node<'t>)>,
    /// `*args` or `**kwargs` present: the argument list is not fully known.
    pub splat: bool,
}

impl<'t> CallArgs<'t> {
    pub fn keyword(&self, name: &str) -> Option<Node<'t>> {
        self.keywords
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// The string literal passed as keyword `name` (`source="author.name"`).
    pub fn keyword_string(&self, name: &str, src: &str) -> Option<String> {
        self.keyword(name)
            .and_then(|n| string_value(unparen(n), src))
    }
}

pub fn call_args<'t>(call: Node<'t>, src: &str) -> CallArgs<'t> {
    let mut args = CallArgs {
        positional: Vec::new(),
        keywords: Vec::new(),
        splat: false,
    };
    let Some(list) = call.child_by_field_id(crate::field!("arguments")) else {
        return args;
    };
    let mut cursor = list.walk();
    for child in list.named_children(&mut cursor) {
        match child.node_kind() {
            "keyword_argument" => {
                if let (Some(name), Some(value)) = (
                    child.child_by_field_id(crate::field!("name")),
                    child.child_by_field_id(crate::field!("value")),
                ) {
                    args.keywords.push((text(name, src).to_string(), value));
                }
            }
            "list_splat" | "dictionary_splat" => args.splat = true,
            "comment" => {}
            _ => args.positional.push(child),
        }
    }
    args
}

/// For `obj.method(args)`: (obj, method name).
pub fn method_call<'t>(call: Node<'t>, src: &str) -> Option<(Node<'t>, String)> {
    if call.node_kind() != "call" {
        return None;
    }
    let function = call.child_by_field_id(crate::field!("function"))?;
    if function.node_kind() != "attribute" {
        return None;
    }
    let object = function.child_by_field_id(crate::field!("object"))?;
    let attr = function.child_by_field_id(crate::field!("attribute"))?;
    Some((object, text(attr, src).to_string()))
}

/// Is `value` a literal `True`?
pub fn is_true(node: Node) -> bool {
    node.node_kind() == "true"
}

/// The nearest enclosing function definition (or None for module level).
pub fn enclosing_function(node: Node) -> Option<Node> {
    let mut current = node.parent();
    while let Some(n) = current {
        if n.node_kind() == "function_definition" {
            return Some(n);
        }
        current = n.parent();
    }
    None
}

/// Strip grouping parentheses.
pub fn unparen(mut node: Node) -> Node {
    while node.node_kind() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(inner) if inner.node_kind() != "comment" => node = inner,
            _ => break,
        }
    }
    node
}

/// What a function body returns, not looking into nested functions, classes and lambdas.
#[derive(Default)]
pub struct Returns<'t> {
    /// The value of every `return <value>`, in order.
    pub values: Vec<Node<'t>>,
    /// Some `return` has no value.
    pub bare: bool,
    /// It yields (a generator).
    pub yields: bool,
}

impl<'t> Returns<'t> {
    /// The returned values when every way out returns one: no bare `return`, no `yield`, and
    /// at least one `return <value>`.
    pub fn only_values(self) -> Option<Vec<Node<'t>>> {
        (!self.bare && !self.yields && !self.values.is_empty()).then_some(self.values)
    }
}

pub fn returns(body: Node) -> Returns {
    let mut out = Returns::default();
    walk_named(body, |n| {
        match n.node_kind() {
            "function_definition" | "class_definition" | "lambda" => return false,
            "return_statement" => {
                match n.named_child(0) {
                    Some(value) => out.values.push(value),
                    None => out.bare = true,
                }
                return false;
            }
            "yield" => out.yields = true,
            _ => {}
        }
        true
    });
    out
}

/// Visit every named descendant of `node` (preorder), including `node` itself.
pub fn walk_named<'t>(node: Node<'t>, mut f: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = node.walk();
    let mut descend = f(node);
    loop {
        if descend && cursor.goto_first_child() {
            let n = cursor.node();
            descend = if n.is_named() { f(n) } else { true };
            continue;
        }
        loop {
            if cursor.node() == node {
                return;
            }
            if cursor.goto_next_sibling() {
                let n = cursor.node();
                descend = if n.is_named() { f(n) } else { true };
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// The class a statement defines, decorated or not.
pub fn defined_class(statement: Node) -> Option<Node> {
    match statement.node_kind() {
        "class_definition" => Some(statement),
        "decorated_definition" => statement
            .child_by_field_id(crate::field!("definition"))
            .filter(|d| d.node_kind() == "class_definition"),
        _ => None,
    }
}

/// Does a block always leave the function at its end (`return`, `raise`)?
pub fn ends_by_leaving(block: Node) -> bool {
    let mut cursor = block.walk();
    block
        .named_children(&mut cursor)
        .filter(|n| n.node_kind() != "comment")
        .last()
        .is_some_and(|last| matches!(last.node_kind(), "return_statement" | "raise_statement"))
}

/// What an assignment target reads before it stores: `row.site = x` reads `row` (and stores
/// `site`: no read of `row.site`), `row.rack.site = x` reads `row.rack`, `d[k] = x` reads `d`
/// and `k`; a tuple target reads what its items read. An identifier reads nothing.
pub fn target_reads<'t>(target: Node<'t>, f: &mut impl FnMut(Node<'t>)) {
    match target.node_kind() {
        "identifier" => {}
        "attribute" => {
            if let Some(object) = target.child_by_field_id(crate::field!("object")) {
                f(object);
            }
        }
        "pattern_list"
        | "tuple_pattern"
        | "list_pattern"
        | "parenthesized_expression"
        | "list_splat_pattern"
        | "tuple"
        | "list" => {
            let mut cursor = target.walk();
            let items: Vec<Node<'t>> = target.named_children(&mut cursor).collect();
            for item in items {
                target_reads(item, f);
            }
        }
        _ => f(target),
    }
}

/// Is `condition` true only for a row that is not saved yet (`self.pk is None`, `not self.id`,
/// `self._state.adding`), or only for one that is (`self.pk`, `self.pk is not None`, `not
/// self._state.adding`)? Some(true) / Some(false); None for anything else. Rows loaded from the
/// database are saved: a creation-only branch never runs for them.
pub fn creation_test(condition: Node, object: &str, src: &str) -> Option<bool> {
    creation_test_with(condition, object, &[], src)
}

/// [`creation_test`], knowing local names bound to one (`is_new = not bool(self.pk)`, then
/// `if is_new:`), with their value.
pub fn creation_test_with(
    condition: Node,
    object: &str,
    known: &[(&str, bool)],
    src: &str,
) -> Option<bool> {
    let mut condition = unparen(condition);
    // `bool(self.pk)` is `self.pk`.
    if condition.node_kind() == "call"
        && condition
            .child_by_field_id(crate::field!("function"))
            .is_some_and(|f| text(f, src) == "bool")
        && let [only] = call_args(condition, src).positional.as_slice()
    {
        condition = unparen(*only);
    }
    if condition.node_kind() == "identifier"
        && let Some((_, value)) = known.iter().find(|(n, _)| *n == text(condition, src))
    {
        return Some(*value);
    }
    let creation_test =
        |n: Node, object: &str, src: &str| creation_test_with(n, object, known, src);
    let is_key = |n: Node| {
        let t = text(unparen(n), src);
        t.strip_prefix(object)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|attr| matches!(attr, "pk" | "id"))
    };
    let is_adding = |n: Node| {
        let t = text(unparen(n), src);
        t.strip_prefix(object) == Some("._state.adding")
    };
    match condition.node_kind() {
        "not_operator" => {
            let arg = condition.child_by_field_id(crate::field!("argument"))?;
            if is_key(arg) {
                Some(true)
            } else {
                creation_test(arg, object, src).map(|adding| !adding)
            }
        }
        "comparison_operator" => {
            let mut cursor = condition.walk();
            let parts: Vec<Node> = condition.children(&mut cursor).collect();
            match parts.as_slice() {
                [left, op, right] if is_key(*left) && right.node_kind() == "none" => {
                    let op: Vec<&str> = text(*op, src).split_whitespace().collect();
                    match op.as_slice() {
                        ["is"] | ["=="] => Some(true),
                        ["is", "not"] | ["!="] => Some(false),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        "boolean_operator" => {
            // `self.pk is None and x`: creation-only when either side is (`and`).
            let op = condition.child_by_field_id(crate::field!("operator"))?;
            if text(op, src) != "and" {
                return None;
            }
            let left = condition.child_by_field_id(crate::field!("left"))?;
            let right = condition.child_by_field_id(crate::field!("right"))?;
            match (
                creation_test(left, object, src),
                creation_test(right, object, src),
            ) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                _ => None,
            }
        }
        _ if is_adding(condition) => Some(true),
        _ if is_key(condition) => Some(false),
        _ => None,
    }
}

/// How many times `name` is bound in `body` (assignments, `for` targets, walrus, `as` names),
/// not looking into nested functions and classes.
pub fn count_bindings(body: Node, name: &str, src: &str) -> usize {
    let mut count = 0;
    walk_named(body, |n| match n.node_kind() {
        "function_definition" | "class_definition" | "lambda" => false,
        "assignment"
        | "augmented_assignment"
        | "named_expression"
        | "for_statement"
        | "for_in_clause"
        | "as_pattern" => {
            let target = n
                .child_by_field_id(crate::field!("left"))
                .or_else(|| n.child_by_field_id(crate::field!("name")))
                .or_else(|| n.child_by_field_id(crate::field!("alias")));
            if let Some(t) = target {
                walk_named(t, |m| {
                    if m.node_kind() == "identifier" && text(m, src) == name {
                        count += 1;
                    }
                    true
                });
            }
            true
        }
        _ => true,
    });
    count
}

/// Is `value` a call that reads a cache (`cache.get(key)`, `get_acl_cache(user)`)?
pub fn is_cache_read(value: Node, src: &str) -> bool {
    let value = unparen(value);
    value.node_kind() == "call"
        && value
            .child_by_field_id(crate::field!("function"))
            .is_some_and(|f| text(f, src).to_ascii_lowercase().contains("cache"))
}

/// Is `condition` true only on a cache miss of one of `cached` (names bound to a cache read):
/// `not languages`, `user_acl is None`?
pub fn cache_miss_test(condition: Node, cached: &[&str], src: &str) -> bool {
    let condition = unparen(condition);
    let named = |n: Node| {
        let n = unparen(n);
        n.node_kind() == "identifier" && cached.contains(&text(n, src))
    };
    match condition.node_kind() {
        "not_operator" => condition
            .child_by_field_id(crate::field!("argument"))
            .is_some_and(named),
        "comparison_operator" => {
            let mut cursor = condition.walk();
            let parts: Vec<Node> = condition.children(&mut cursor).collect();
            matches!(parts.as_slice(), [left, op, right]
                if named(*left)
                    && right.node_kind() == "none"
                    && matches!(text(*op, src), "is" | "=="))
        }
        _ => false,
    }
}

/// Does code look into `_prefetched_objects_cache` (`"tags" in getattr(self,
/// "_prefetched_objects_cache", {})`), rather than only reset it (`obj._prefetched_objects_cache
/// = {}`)?
pub fn checks_prefetch_cache(bytes: &[u8]) -> bool {
    crate::finder!(b"_prefetched_objects_cache")
        .find_iter(bytes)
        .any(|at| {
            let rest = &bytes[at + b"_prefetched_objects_cache".len()..];
            let rest = rest
                .strip_prefix(b"\"")
                .or_else(|| rest.strip_prefix(b"'"))
                .unwrap_or(rest);
            let rest = rest.trim_ascii_start();
            !rest.starts_with(b"=") || rest.starts_with(b"==")
        })
}

/// `name = value` as a statement (one identifier target): the target and the value.
pub fn simple_assignment(stmt: Node) -> Option<(Node, Node)> {
    let assign = stmt
        .named_child(0)
        .filter(|a| a.node_kind() == "assignment")?;
    let left = assign.child_by_field_id(crate::field!("left"))?;
    let right = assign.child_by_field_id(crate::field!("right"))?;
    (left.node_kind() == "identifier").then_some((left, right))
}
