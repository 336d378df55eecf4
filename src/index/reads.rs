//! What a function body reads from one of its names, before the index says which reads are
//! relations: `obj.author.publisher.name` → `author, publisher, name`. Two readers: the model
//! members' reads from `self` ([`self_reads`], with where on the paths each read happens) and
//! the frameworks' reads from any name ([`reads_from`], aliases and loops included).
//!
//! The same small vocabulary serves Python bodies (serializer methods, admin columns, model
//! `__str__` and properties) and templates:
//! - `name`: an attribute;
//! - `name()`: a method called on the object;
//! - `*`: each row of a related manager (`.all()`, iterating it, `{% for t in b.tags.all %}`);
//! - `__str__()`: the object is turned into text (`str(x)`, `f"{x}"`, `{{ x }}`).

use crate::syntax::NodeKind;
use crate::syntax::{call_args, string_value, text, unparen};
use std::collections::HashMap;
use tree_sitter::Node;

pub const ROWS: &str = "*";

/// What a write in a method body writes to, as far as its text says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteTarget {
    /// An object reached from `self` by attributes: `self.save()` ([]), `self.editor.save()`
    /// (`["editor"]`), `self.pings.filter(…).delete()` (`["pings"]`).
    SelfPath(Vec<String>),
    /// A chain that starts from a capitalized name: `Ping.objects.filter(…).delete()`.
    Class(String),
    /// Anything else (a local object, a function's result).
    Unknown,
}

/// The object a write method is called on, as a [`WriteTarget`].
pub fn write_target(object: Node, src: &str) -> WriteTarget {
    let mut node = unparen(object);
    let mut names: Vec<String> = Vec::new();
    loop {
        match node.node_kind() {
            "attribute" => {
                let Some(attr) = node.child_by_field_id(crate::field!("attribute")) else {
                    return WriteTarget::Unknown;
                };
                names.push(text(attr, src).to_string());
                let Some(inner) = node.child_by_field_id(crate::field!("object")) else {
                    return WriteTarget::Unknown;
                };
                node = unparen(inner);
            }
            "call" => {
                // A queryset call in the chain (`.filter(…)`): the rows of what it is called on.
                let Some(function) = node.child_by_field_id(crate::field!("function")) else {
                    return WriteTarget::Unknown;
                };
                let chained = function.node_kind() == "attribute"
                    && function
                        .child_by_field_id(crate::field!("attribute"))
                        .is_some_and(|a| crate::django::CHAIN_METHODS.contains(&text(a, src)));
                if !chained {
                    return WriteTarget::Unknown;
                }
                names.clear();
                let Some(inner) = function.child_by_field_id(crate::field!("object")) else {
                    return WriteTarget::Unknown;
                };
                node = unparen(inner);
            }
            "subscript" => {
                names.clear();
                let Some(inner) = node.child_by_field_id(crate::field!("value")) else {
                    return WriteTarget::Unknown;
                };
                node = unparen(inner);
            }
            "identifier" => {
                let name = text(node, src);
                names.reverse();
                return if name == "self" {
                    WriteTarget::SelfPath(names)
                } else if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    WriteTarget::Class(name.to_string())
                } else {
                    WriteTarget::Unknown
                };
            }
            _ => return WriteTarget::Unknown,
        }
    }
}
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
            crate::syntax::target_reads(left, &mut |part| self.walk(part));
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
    parameters(function, src)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The parameters of a function, with whether each may be passed by position (not after `*`
/// or `*args`); `*args` and `**kwargs` themselves are left out.
pub fn parameters(def: Node, src: &str) -> Vec<(String, bool)> {
    let Some(params) = def.child_by_field_id(crate::field!("parameters")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut positional = true;
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        let name = match p.node_kind() {
            "identifier" => Some(p),
            "default_parameter" | "typed_parameter" | "typed_default_parameter" => p
                .child_by_field_id(crate::field!("name"))
                .or_else(|| p.named_child(0))
                .filter(|n| n.node_kind() == "identifier"),
            "list_splat_pattern" | "keyword_separator" => {
                positional = false;
                None
            }
            _ => None,
        };
        if let Some(n) = name {
            out.push((text(n, src).to_string(), positional));
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfRead {
    pub names: Vec<String>,
    pub called: bool,
    /// Read only on some paths through the method (under an `if`, a `try`, a loop, one side of
    /// `and`/`or` or of a conditional expression).
    pub conditional: bool,
    /// Read only when `self` has no attribute of this name: the method returns earlier when
    /// `hasattr(self, "body_length")` (an annotation or `to_attr` the queryset may provide).
    pub unless: Option<String>,
    /// The member looks into `_prefetched_objects_cache`: what it returns depends on whether
    /// the relation is prefetched (a prefetch added for it changes the result).
    pub prefetch_aware: bool,
}

impl SelfRead {
    fn new(names: Vec<String>, called: bool, flags: ReadFlags) -> SelfRead {
        SelfRead {
            names,
            called,
            conditional: flags.conditional,
            unless: flags.unless.map(str::to_string),
            prefetch_aware: false,
        }
    }
}

/// Where in a method a read happens (see [`SelfRead`]).
#[derive(Clone, Copy, Debug)]
struct ReadFlags<'s> {
    /// The name reads start from: `self` in a method, a parameter in a helper function.
    root: &'s str,
    /// Local names bound to a creation test (`is_new = not bool(self.pk)`), with its value.
    created: [Option<(&'s str, bool)>; 2],
    /// Local names bound to a cache read (`acl = cache.get(key)`): `if acl is None:` runs on
    /// a miss only, and a cache is there to be warm.
    cached: [Option<&'s str>; 2],
    conditional: bool,
    unless: Option<&'s str>,
}

impl<'s> ReadFlags<'s> {
    fn conditional(self) -> ReadFlags<'s> {
        ReadFlags {
            conditional: true,
            ..self
        }
    }

    fn unless(self, name: &'s str) -> ReadFlags<'s> {
        ReadFlags {
            unless: self.unless.or(Some(name)),
            ..self
        }
    }
}

/// Attribute chains read from `self` in a method body (not looking into nested functions),
/// each with where it happens: on every path or some, and past a `hasattr(self, …)` guard.
pub fn self_reads(body: Node, src: &str) -> Vec<SelfRead> {
    root_reads(body, "self", src)
}

/// [`self_reads`] from another name: what a helper function reads from its parameter `root`
/// (`def tax_class(method): return method.tax_class.name`).
pub fn root_reads(body: Node, root: &str, src: &str) -> Vec<SelfRead> {
    let mut reads = Vec::new();
    let mut flags = ReadFlags {
        root,
        created: [None; 2],
        cached: [None; 2],
        conditional: false,
        unless: None,
    };
    // `is_new = not bool(self.pk)` (or `self._state.adding`) at the top level of the body,
    // bound once: `if is_new:` is a creation test too.
    let mut cursor = body.walk();
    let mut k = 0;
    let mut c = 0;
    for stmt in body.named_children(&mut cursor) {
        let assigned = crate::syntax::simple_assignment(stmt);
        if let Some((left, right)) = assigned
            && crate::syntax::is_cache_read(right, src)
            && c < flags.cached.len()
        {
            flags.cached[c] = Some(text(left, src));
            c += 1;
        }
        if let Some((left, right)) = assigned
            && let Some(value) = crate::syntax::creation_test(right, root, src)
            && k < flags.created.len()
        {
            let name = text(left, src);
            if crate::syntax::count_bindings(body, name, src) == 1 {
                flags.created[k] = Some((name, value));
                k += 1;
            }
        }
    }
    block_reads(body, src, flags, &mut reads);
    // A body that looks into `_prefetched_objects_cache` behaves differently when its rows are
    // prefetched: a prefetch added for it changes what it computes.
    if crate::syntax::checks_prefetch_cache(&src.as_bytes()[body.byte_range()]) {
        for read in &mut reads {
            read.prefetch_aware = true;
        }
    }
    reads
}

/// The reads of a block's statements in order: after `if hasattr(self, "x"): return …`, the
/// rest of the block runs only when `self` has no `x`.
fn block_reads<'s>(block: Node, src: &'s str, flags: ReadFlags<'s>, reads: &mut Vec<SelfRead>) {
    let mut flags = flags;
    let mut cursor = block.walk();
    for stmt in block.named_children(&mut cursor) {
        statement_reads(stmt, src, flags, reads);
        if stmt.node_kind() == "if_statement"
            && let Some(name) = stmt
                .child_by_field_id(crate::field!("condition"))
                .and_then(|c| hasattr_self(c, flags.root, src))
            && stmt
                .child_by_field_id(crate::field!("alternative"))
                .is_none()
            && stmt
                .child_by_field_id(crate::field!("consequence"))
                .is_some_and(crate::syntax::ends_by_leaving)
        {
            flags = flags.unless(name);
        }
    }
}

/// One statement's reads. Compound statements read their header on the paths that reach them
/// and their blocks on some paths only.
fn statement_reads<'s>(stmt: Node, src: &'s str, flags: ReadFlags<'s>, reads: &mut Vec<SelfRead>) {
    match stmt.node_kind() {
        "function_definition" | "class_definition" | "decorated_definition" => {}
        "if_statement" => {
            let condition = stmt.child_by_field_id(crate::field!("condition"));
            let known: Vec<(&str, bool)> = flags.created.iter().flatten().copied().collect();
            let creation = condition
                .and_then(|c| crate::syntax::creation_test_with(c, flags.root, &known, src));
            // `if is_new and not self.platform:`: past the creation test, the condition reads
            // for new rows only too.
            let cached: Vec<&str> = flags.cached.iter().flatten().copied().collect();
            // `if acl is None:` after `acl = cache.get(key)`: a cache miss, not the common path.
            let miss = condition.is_some_and(|c| crate::syntax::cache_miss_test(c, &cached, src));
            if let Some(c) = condition
                && creation != Some(true)
            {
                collect_self_reads(c, src, flags, reads);
            }
            // `if not hasattr(self, "x"): …`: the block runs only without `x`.
            let inner = match condition.and_then(|c| not_hasattr_self(c, flags.root, src)) {
                Some(name) => flags.conditional().unless(name),
                None => flags.conditional(),
            };
            // `if self.pk is None:` / `if self._state.adding:`: a block that runs only for a row
            // not saved yet, never for one loaded from the database; `if self.pk: … else: …`,
            // the other way round.
            if let Some(b) = stmt.child_by_field_id(crate::field!("consequence"))
                && creation != Some(true)
                && !miss
            {
                block_reads(b, src, inner, reads);
            }
            if creation == Some(false) {
                return;
            }
            let positive = condition.and_then(|c| hasattr_self(c, flags.root, src));
            let mut cursor = stmt.walk();
            for clause in stmt.children_by_field_name("alternative", &mut cursor) {
                // `if hasattr(self, "x"): … else: <reads>`: the else runs only without `x`.
                let flags = match (positive, clause.node_kind()) {
                    (Some(name), "else_clause") => flags.conditional().unless(name),
                    _ => flags.conditional(),
                };
                clause_reads(clause, src, flags, reads);
            }
        }
        "for_statement" | "while_statement" => {
            let mut cursor = stmt.walk();
            for child in stmt.named_children(&mut cursor) {
                match child.node_kind() {
                    "block" | "else_clause" => clause_reads(child, src, flags.conditional(), reads),
                    // The iterable or the condition: read whenever the statement runs.
                    _ => collect_self_reads(child, src, flags, reads),
                }
            }
        }
        "try_statement" => {
            let mut cursor = stmt.walk();
            for child in stmt.named_children(&mut cursor) {
                match child.node_kind() {
                    // The body runs (up to the first exception); the handlers on some paths.
                    "block" => block_reads(child, src, flags, reads),
                    "finally_clause" => clause_reads(child, src, flags, reads),
                    _ => clause_reads(child, src, flags.conditional(), reads),
                }
            }
        }
        "with_statement" => {
            let mut cursor = stmt.walk();
            for child in stmt.named_children(&mut cursor) {
                match child.node_kind() {
                    "block" => block_reads(child, src, flags, reads),
                    _ => collect_self_reads(child, src, flags, reads),
                }
            }
        }
        "match_statement" => {
            let mut cursor = stmt.walk();
            for child in stmt.named_children(&mut cursor) {
                match child.node_kind() {
                    "block" => clause_reads(child, src, flags.conditional(), reads),
                    _ => collect_self_reads(child, src, flags, reads),
                }
            }
        }
        _ => collect_self_reads(stmt, src, flags, reads),
    }
}

/// An `elif`/`else`/`except`/`finally`/`case` clause or a block: its condition or pattern,
/// then its block.
fn clause_reads<'s>(clause: Node, src: &'s str, flags: ReadFlags<'s>, reads: &mut Vec<SelfRead>) {
    if clause.node_kind() == "block" {
        block_reads(clause, src, flags, reads);
        return;
    }
    let mut cursor = clause.walk();
    for child in clause.named_children(&mut cursor) {
        match child.node_kind() {
            "block" => block_reads(child, src, flags, reads),
            "case_clause" => clause_reads(child, src, flags, reads),
            _ => collect_self_reads(child, src, flags, reads),
        }
    }
}

/// `hasattr(self, "x")` → `x`.
fn hasattr_self<'s>(condition: Node, root: &str, src: &'s str) -> Option<&'s str> {
    let condition = unparen(condition);
    let function = condition.child_by_field_id(crate::field!("function"))?;
    if condition.node_kind() != "call" || text(function, src) != "hasattr" {
        return None;
    }
    let args = call_args(condition, src);
    match args.positional.as_slice() {
        [object, name] if text(*object, src) == root => {
            let name = *name;
            let value = string_value(name, src)?;
            // The name's text without its quotes, borrowed from the source.
            let at = text(name, src).find(value.as_str())?;
            Some(&text(name, src)[at..at + value.len()])
        }
        _ => None,
    }
}

/// `not hasattr(self, "x")` → `x`.
fn not_hasattr_self<'s>(condition: Node, root: &str, src: &'s str) -> Option<&'s str> {
    let condition = unparen(condition);
    if condition.node_kind() != "not_operator" {
        return None;
    }
    hasattr_self(
        condition.child_by_field_id(crate::field!("argument"))?,
        root,
        src,
    )
}

/// Records a read, merged with an earlier read of the same chain: conditional only if both
/// are, guarded only by a guard both share.
fn push_read(reads: &mut Vec<SelfRead>, read: SelfRead) {
    match reads
        .iter_mut()
        .find(|r| r.names == read.names && r.called == read.called)
    {
        Some(seen) => {
            seen.conditional &= read.conditional;
            if seen.unless != read.unless {
                seen.unless = None;
            }
        }
        None => reads.push(read),
    }
}

/// [`self_reads`] of an expression (or a simple statement). An attribute chain is read from its
/// outermost attribute down (a call's function first, to know the chain is called), without
/// asking tree-sitter for parents, which it finds from the root. The right side of `and`/`or`
/// and the branches of a conditional expression are read on some paths only.
fn collect_self_reads<'s>(
    node: Node,
    src: &'s str,
    flags: ReadFlags<'s>,
    reads: &mut Vec<SelfRead>,
) {
    crate::syntax::walk_named(node, |n| match n.node_kind() {
        "function_definition" | "class_definition" | "lambda" => false,
        "call" => match n.child_by_field_id(crate::field!("function")) {
            Some(function) if function.node_kind() == "attribute" => {
                self_chain(function, true, src, flags, reads);
                if let Some(arguments) = n.child_by_field_id(crate::field!("arguments")) {
                    collect_self_reads(arguments, src, flags, reads);
                }
                false
            }
            _ => true,
        },
        "attribute" => {
            self_chain(n, false, src, flags, reads);
            false
        }
        "assignment" => {
            // `self.site = site` stores: it reads `self`, not `self.site`.
            if let Some(right) = n.child_by_field_id(crate::field!("right")) {
                collect_self_reads(right, src, flags, reads);
            }
            if let Some(left) = n.child_by_field_id(crate::field!("left")) {
                crate::syntax::target_reads(left, &mut |part| {
                    collect_self_reads(part, src, flags, reads)
                });
            }
            false
        }
        "boolean_operator" => {
            if let Some(left) = n.child_by_field_id(crate::field!("left")) {
                collect_self_reads(left, src, flags, reads);
            }
            if let Some(right) = n.child_by_field_id(crate::field!("right")) {
                collect_self_reads(right, src, flags.conditional(), reads);
            }
            false
        }
        "conditional_expression" => {
            // `a if cond else b`: the condition always, each value on some paths.
            let mut cursor = n.walk();
            for (k, child) in n.named_children(&mut cursor).enumerate() {
                let flags = if k == 1 { flags } else { flags.conditional() };
                collect_self_reads(child, src, flags, reads);
            }
            false
        }
        "list_comprehension"
        | "set_comprehension"
        | "dictionary_comprehension"
        | "generator_expression" => {
            // The element and the conditions run once per item: maybe never.
            let mut cursor = n.walk();
            for child in n.named_children(&mut cursor) {
                let flags = if child.node_kind() == "for_in_clause" {
                    flags
                } else {
                    flags.conditional()
                };
                collect_self_reads(child, src, flags, reads);
            }
            false
        }
        _ => true,
    });
}

/// One attribute chain (`n` its outermost attribute): a read when it starts at `self`,
/// otherwise what the expression it starts from reads (arguments may read self).
fn self_chain<'s>(
    n: Node,
    called: bool,
    src: &'s str,
    flags: ReadFlags<'s>,
    reads: &mut Vec<SelfRead>,
) {
    let mut names = Vec::new();
    let mut current = n;
    while current.node_kind() == "attribute" {
        let (Some(attribute), Some(object)) = (
            current.child_by_field_id(crate::field!("attribute")),
            current.child_by_field_id(crate::field!("object")),
        ) else {
            // Not a whole chain (a syntax error): look inside it.
            let mut cursor = current.walk();
            for child in current.named_children(&mut cursor) {
                collect_self_reads(child, src, flags, reads);
            }
            return;
        };
        names.push(text(attribute, src).to_string());
        current = unparen(object);
    }
    if current.node_kind() != "identifier" || text(current, src) != flags.root {
        collect_self_reads(current, src, flags, reads);
        return;
    }
    names.reverse();
    push_read(reads, SelfRead::new(names, called, flags));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_creation_only_branches_are_not_reads() {
        let src = "def save(self):\n    self.site = self.rack.site\n    self.a.b = 1\n    self.c, self.d = 1, 2\n    if self.pk is None:\n        self.new_only.x\n    elif self.kept:\n        pass\n    if not self.id:\n        self.new_too\n    if self._state.adding and self.e:\n        self.new_three\n    if self.pk is not None:\n        self.existing\n    else:\n        self.new_four\n    if self.pk == self.other_pk:\n        self.compared\n";
        let tree = crate::syntax::parse::parse(src).unwrap();
        let function = tree.root_node().named_child(0).unwrap();
        let reads = self_reads(
            function.child_by_field_id(crate::field!("body")).unwrap(),
            src,
        );
        let got: Vec<String> = reads.iter().map(|r| r.names.join(".")).collect();
        assert_eq!(
            got,
            [
                // A creation test's own reads are columns (or for new rows only: `e`).
                "rack.site",
                "a",
                "kept",
                "pk",
                "existing",
                "other_pk",
                "compared"
            ],
            "{reads:?}"
        );
    }

    #[test]
    fn reads_from_self() {
        let src = "def m(self):\n    a = self.author.name\n    self.save()\n    foo(self.d).e\n    self.items[0].title\n    (self.x).y\n    f = lambda: self.hidden\n    def inner():\n        return self.also_hidden\n    return self.a.b(self.c)\n";
        let tree = crate::syntax::parse::parse(src).unwrap();
        let function = tree.root_node().named_child(0).unwrap();
        let reads = self_reads(
            function.child_by_field_id(crate::field!("body")).unwrap(),
            src,
        );
        let got: Vec<(String, bool)> = reads
            .iter()
            .map(|r| (r.names.join("."), r.called))
            .collect();
        let want = [
            ("author.name", false),
            ("save", true),
            ("d", false),
            ("items", false),
            ("x.y", false),
            ("a.b", true),
            ("c", false),
        ];
        assert_eq!(
            got,
            want.map(|(n, c)| (n.to_string(), c)).to_vec(),
            "{reads:?}"
        );
    }

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
