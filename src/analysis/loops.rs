//! Loops over querysets and the relation paths their bodies read from each row.

use super::FileContext;
use super::queryset::{Coverage, Queryset};
use super::resolve::{QuerysetResolver, chain_root, scope_of};
use crate::index::paths::Cursor;
use crate::index::reads::WriteTarget;
use crate::index::{FieldKind, ModelId};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, method_call, text, unparen};
use std::collections::HashMap;
use tree_sitter::Node;

/// Calls that write to the database (or change what a relation holds).
use crate::django::WRITE_METHODS as WRITES;

/// One relation path read from a row.
#[derive(Clone, Debug)]
pub struct Access<'t> {
    /// Lookup segments from the iterated model (`["author", "publisher"]`).
    pub path: Vec<String>,
    /// The path crosses a multi-valued relation (needs `prefetch_related`).
    pub multi: bool,
    /// Every hop is a forward FK/one-to-one that cannot be null (bare `select_related()` follows it).
    pub forward_non_null: bool,
    /// Every hop is a forward FK/one-to-one.
    pub forward: bool,
    /// For a related manager: the method called on it (`all`, `count`, `filter`…).
    pub manager_method: Option<String>,
    /// The expression that reads it (for the report).
    pub node: Node<'t>,
    /// A GenericForeignKey (`content_object`): only `prefetch_related` can load it.
    pub generic: bool,
    /// A column of the iterated model itself (for deferred-field checks), not a relation.
    pub column: bool,
    /// For a related manager: the call (`row.books.count()`), for rewriting it.
    pub call: Option<Node<'t>>,
    /// The model member the read hides in (`Book.__str__`), if any.
    pub via: Option<String>,
    /// Read on some paths only: under a condition in the loop body or in the member it hides in.
    pub conditional: bool,
    /// Attributes whose presence on the row skips the read (`if hasattr(self, "n"): return
    /// self.n` in the member before it): an annotation or `to_attr` of the queryset that
    /// provides one means the read never happens.
    pub unless: Vec<String>,
    /// Read by a member that looks into `_prefetched_objects_cache`: a prefetch for it would
    /// change what the member returns.
    pub prefetch_aware: Option<String>,
}

impl<'t> Access<'t> {
    fn related(var: &Cursor, node: Node<'t>) -> Access<'t> {
        Access {
            path: var.prefix.clone(),
            multi: var.multi,
            forward_non_null: var.forward_non_null,
            forward: var.forward,
            manager_method: None,
            node,
            generic: false,
            column: false,
            call: None,
            via: None,
            conditional: false,
            unless: Vec::new(),
            prefetch_aware: None,
        }
    }
}

impl Access<'_> {
    pub fn lookup(&self) -> String {
        self.path.join("__")
    }
}

/// The `manager_method` of a related manager called itself (`row.books(manager="other")`).
pub const MANAGER_CALL: &str = "()";

impl LoopFacts<'_> {
    /// A related manager on this path (or on a relation the path goes through) is called for
    /// another manager in the loop: a prefetch of the path would answer that call from the
    /// default manager's cache, with other rows and another queryset class.
    pub fn manager_called_on(&self, lookup: &str) -> Option<&Access<'_>> {
        self.accesses.iter().find(|a| {
            a.manager_method.as_deref() == Some(MANAGER_CALL) && {
                let called = a.lookup();
                lookup == called || lookup.starts_with(&format!("{called}__"))
            }
        })
    }
}

/// Rows of `model` a loop writes, and the path from the loop's row to the object written
/// when it is one (`b.editor.save()`: `["editor"]`; `b.save()`: `[]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub model: ModelId,
    pub via: Option<Vec<String>>,
}

pub struct LoopFacts<'t> {
    pub loop_node: Node<'t>,
    pub iterable: Node<'t>,
    pub var: String,
    pub queryset: Queryset<'t>,
    pub accesses: Vec<Access<'t>>,
    pub is_async: bool,
    /// The body writes to the database through something other than the row itself.
    pub writes_in_body: bool,
    /// The queryset is evaluated before the loop and something writes in between.
    pub writes_between: bool,
    /// Rows the loop writes (the row saved, a related object saved, a member's writes,
    /// `Model.objects….update()`): a relation leading to one of them, loaded before the loop,
    /// would hold copies taken before those writes.
    pub written: Vec<Written>,
    /// The queryset's name is also used where a change could clash (passed on, returned…).
    pub escapes: bool,
    /// The loop runs on some paths only (an `if` branch, a handler…) and the queryset is
    /// built outside it: a fix where it is built would change every path.
    pub branch_only: bool,
    /// ... and the fix goes on the loop's iterable instead (the name is used nowhere else).
    pub relocated: bool,
    /// The rows come from a parameter (the fix makes the loop a queryset of its own) that the
    /// function uses elsewhere too, where it would now query again.
    pub parameter_reused: bool,
}

/// Analyze a `for` statement or a comprehension whose first iterable is a queryset.
pub fn analyze_loop<'a: 't, 't>(
    ctx: &FileContext<'a>,
    loop_node: Node<'t>,
) -> Option<LoopFacts<'t>> {
    analyze_loop_depth(ctx, loop_node, 0)
}

fn analyze_loop_depth<'a: 't, 't>(
    ctx: &FileContext<'a>,
    loop_node: Node<'t>,
    depth: usize,
) -> Option<LoopFacts<'t>> {
    let src = ctx.src;
    let (left, right, clause) = match loop_node.node_kind() {
        "for_statement" => (
            loop_node.child_by_field_id(crate::field!("left"))?,
            loop_node.child_by_field_id(crate::field!("right"))?,
            None,
        ),
        "list_comprehension"
        | "set_comprehension"
        | "dictionary_comprehension"
        | "generator_expression" => {
            let mut cursor = loop_node.walk();
            let clause = loop_node
                .named_children(&mut cursor)
                .find(|c| c.node_kind() == "for_in_clause")?;
            (
                clause.child_by_field_id(crate::field!("left"))?,
                clause.child_by_field_id(crate::field!("right"))?,
                Some(clause),
            )
        }
        _ => return None,
    };
    let (var_node, iterable) = loop_target(left, right, src)?;
    // Code that looks into `_prefetched_objects_cache` decides itself what a prefetch serves
    // (`if "teams" in self._prefetched_objects_cache: for t in self.teams.all(): …`).
    if let Some(function) = crate::syntax::enclosing_function(loop_node)
        && crate::syntax::checks_prefetch_cache(&src.as_bytes()[function.byte_range()])
    {
        return None;
    }
    if on_cache_miss(loop_node, src) {
        return None;
    }
    let resolver = QuerysetResolver::new(ctx);
    let mut queryset = resolver.resolve(iterable, loop_node.start_byte())?;
    let branch_only = runs_on_some_paths(loop_node, queryset.built_at);
    let relocated = branch_only && relocate(ctx, &mut queryset, iterable, loop_node);
    let parameter_reused = queryset.from_parameter
        && queryset.names.first().is_some_and(|name| {
            !super::resolve::only_refined_and_iterated(
                scope_of(loop_node),
                name,
                iterable,
                src,
                &|_| false,
            )
        });
    let var = text(var_node, src).to_string();
    let model = queryset.model;
    let mut walker = Walker {
        ctx,
        loop_var: var.clone(),
        vars: HashMap::new(),
        collections: HashMap::new(),
        out: Vec::new(),
        writes: false,
        written: Vec::new(),
        conditions: 0,
        assigned: Vec::new(),
    };
    walker.vars.insert(var.clone(), Cursor::root(model, true));
    match clause {
        None => {
            if let Some(body) = loop_node.child_by_field_id(crate::field!("body")) {
                walker.walk(body);
            }
        }
        Some(first) => walker.walk_comprehension_rest(loop_node, first),
    }
    // `async for` as a statement or in a comprehension's first clause.
    let is_async = match clause {
        None => loop_node.child(0).is_some_and(|c| c.node_kind() == "async"),
        Some(first) => first.child(0).is_some_and(|c| c.node_kind() == "async"),
    };
    let writes_between = queryset.evaluated_at.is_some_and(|at| {
        writes_in_range(
            scope_of(loop_node),
            at.end_byte(),
            loop_node.start_byte(),
            src,
        )
    });
    // A read the member skips when the row has an attribute the queryset provides
    // (`if hasattr(self, "body_length"): return …` with `annotate(body_length=…)`) never runs.
    let provided = queryset.provided_attrs(src);
    let mut accesses = walker.out;
    let assigned = walker.assigned;
    accesses.retain(|a| {
        !assigned.iter().any(|(at, path)| {
            a.node.start_byte() >= *at
                && a.path.len() >= path.len()
                && a.path[..path.len()] == path[..]
        })
    });
    accesses.retain(|a| {
        a.unless.is_empty()
            || provided
                .as_ref()
                .is_some_and(|p| !a.unless.iter().any(|u| p.contains(u)))
    });
    // A queryset iterated again gives the same rows (its result cache): what an earlier loop
    // over the same name read on every row is loaded already.
    let already = read_by_earlier_loops(ctx, loop_node, iterable, &queryset, depth);
    accesses.retain(|a| {
        let lookup = a.lookup();
        !already
            .iter()
            .any(|l| *l == lookup || l.starts_with(&format!("{lookup}__")))
    });
    let scope = scope_of(loop_node);
    let escapes = queryset
        .names
        .iter()
        .any(|name| super::resolve::name_escapes(scope, name, iterable, src));
    Some(LoopFacts {
        escapes,
        branch_only,
        relocated,
        parameter_reused,
        loop_node,
        iterable,
        var,
        queryset,
        accesses,
        is_async,
        writes_in_body: walker.writes,
        written: walker.written,
        writes_between,
    })
}

/// The paths earlier loops over the same queryset name read on every row (`[ct.cable for ct in
/// terminations]` before `for ct in terminations: ct.cable…`): the queryset caches its rows when
/// first iterated, and the later loop gets the same instances with what was loaded on them.
/// Only loops that go over every row (comprehensions, `for` without `break`), after the name's
/// binding and with no other binding in between, in the same scope.
fn read_by_earlier_loops<'a: 't, 't>(
    ctx: &FileContext<'a>,
    loop_node: Node<'t>,
    iterable: Node<'t>,
    queryset: &Queryset<'t>,
    depth: usize,
) -> Vec<String> {
    let src = ctx.src;
    let iterable = unparen(iterable);
    if depth > 4
        || iterable.node_kind() != "identifier"
        || queryset.iterator.is_some()
        || queryset.names.is_empty()
    {
        return Vec::new();
    }
    let name = text(iterable, src);
    // No `in <name>` between the binding and the loop: no earlier loop over it.
    let before = &src[queryset.built_at.min(loop_node.start_byte())..loop_node.start_byte()];
    if !before.contains(&format!("in {name}")) {
        return Vec::new();
    }
    let scope = scope_of(loop_node);
    let mut earlier: Vec<Node<'t>> = Vec::new();
    let mut rebound = false;
    crate::syntax::walk_named(scope, |n| {
        if n.start_byte() >= loop_node.start_byte() {
            return false;
        }
        if n != scope
            && matches!(
                n.node_kind(),
                "function_definition" | "class_definition" | "lambda"
            )
        {
            return false;
        }
        if n.start_byte() <= queryset.built_at {
            return true;
        }
        match n.node_kind() {
            "assignment" | "augmented_assignment"
                if n.child_by_field_id(crate::field!("left"))
                    .is_some_and(|l| l.node_kind() == "identifier" && text(l, src) == name) =>
            {
                rebound = true;
            }
            "for_statement"
            | "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => {
                let target = match n.node_kind() {
                    "for_statement" => n.child_by_field_id(crate::field!("right")),
                    _ => {
                        let mut cursor = n.walk();
                        n.named_children(&mut cursor)
                            .find(|c| c.node_kind() == "for_in_clause")
                            .and_then(|c| c.child_by_field_id(crate::field!("right")))
                    }
                };
                let every_row = match n.node_kind() {
                    // A generator may be consumed in part (`any(…)`, `next(…)`).
                    "generator_expression" => false,
                    "for_statement" => !crate::syntax::text(n, src).contains("break"),
                    _ => true,
                };
                if every_row
                    && target.is_some_and(|t| {
                        let t = unparen(t);
                        t.node_kind() == "identifier" && text(t, src) == name
                    })
                {
                    earlier.push(n);
                }
            }
            _ => {}
        }
        true
    });
    if rebound {
        return Vec::new();
    }
    let mut out = Vec::new();
    for node in earlier {
        let Some(facts) = analyze_loop_depth(ctx, node, depth + 1) else {
            continue;
        };
        if facts.queryset.model != queryset.model || facts.queryset.built_at != queryset.built_at {
            continue;
        }
        out.extend(
            facts
                .accesses
                .iter()
                .filter(|a| !a.conditional && (!a.multi || a.generic) && a.manager_method.is_none())
                .map(|a| a.lookup()),
        );
    }
    out
}

/// Is the loop in the block of an `if` that runs on a cache miss only (`languages =
/// cache.get(key)` then `if not languages:`)? The rows are read once per cache timeout, not
/// per request: not worth a finding.
fn on_cache_miss(loop_node: Node, src: &str) -> bool {
    let function = crate::syntax::enclosing_function(loop_node).unwrap_or(loop_node);
    if crate::finder!(b"cache")
        .find(&src.as_bytes()[function.byte_range()])
        .is_none()
    {
        return false;
    }
    let mut at = loop_node;
    while let Some(parent) = at.parent() {
        if matches!(
            parent.node_kind(),
            "function_definition" | "class_definition"
        ) {
            return false;
        }
        if parent.node_kind() == "if_statement"
            && parent.child_by_field_id(crate::field!("consequence")) == Some(at)
            && let Some(condition) = parent.child_by_field_id(crate::field!("condition"))
        {
            // The names the condition tests, bound to a cache read before the `if`.
            let scope = scope_of(parent);
            let mut cached: Vec<&str> = Vec::new();
            crate::syntax::walk_named(scope, |n| {
                if n.start_byte() >= parent.start_byte() {
                    return false;
                }
                if n.node_kind() == "assignment"
                    && let (Some(left), Some(right)) = (
                        n.child_by_field_id(crate::field!("left")),
                        n.child_by_field_id(crate::field!("right")),
                    )
                    && left.node_kind() == "identifier"
                    && crate::syntax::is_cache_read(right, src)
                {
                    cached.push(text(left, src));
                }
                !matches!(n.node_kind(), "function_definition" | "class_definition") || n == scope
            });
            if crate::syntax::cache_miss_test(condition, &cached, src) {
                return true;
            }
        }
        at = parent;
    }
    false
}

/// Is the loop inside a branch (of an `if`, `try`, `match` or `while`) that the statement
/// building its queryset, at byte `built_at`, is not in?
fn runs_on_some_paths(loop_node: Node, built_at: usize) -> bool {
    branch_of(loop_node, built_at).is_some()
}

/// The outermost branch (the block or clause of an `if`, `try`, `match` or `while`) that holds
/// the loop and not the statement at `built_at`, with the compound statement it belongs to.
fn branch_of(loop_node: Node, built_at: usize) -> Option<(Node, Node)> {
    let mut node = loop_node;
    let mut found = None;
    while let Some(parent) = node.parent() {
        if parent.start_byte() <= built_at && built_at < parent.end_byte() {
            break; // from here up, the binding and the loop share every path
        }
        if matches!(
            parent.node_kind(),
            "if_statement"
                | "elif_clause"
                | "else_clause"
                | "except_clause"
                | "except_group_clause"
                | "while_statement"
                | "case_clause"
                | "conditional_expression"
                | "boolean_operator"
        ) {
            found = Some((node, parent));
        }
        node = parent;
    }
    found
}

/// Can code at `n` never run on a path through the loop's `branch` of `statement`? It is in
/// another branch of the same statement, or after it when the branch always leaves
/// (`return`, `raise`) at its end.
fn exclusive_with(n: Node, branch: Node, statement: Node) -> bool {
    let inside =
        |outer: Node| outer.start_byte() <= n.start_byte() && n.end_byte() <= outer.end_byte();
    if inside(branch) {
        return false;
    }
    if inside(statement) {
        // Another branch; not the condition, which runs before every branch.
        return statement
            .child_by_field_id(crate::field!("condition"))
            .is_none_or(|c| !inside(c))
            && statement.node_kind() != "while_statement";
    }
    let block = match branch.node_kind() {
        "block" => Some(branch),
        _ => {
            let mut cursor = branch.walk();
            branch
                .named_children(&mut cursor)
                .find(|c| c.node_kind() == "block")
        }
    };
    n.start_byte() >= statement.end_byte() && block.is_some_and(crate::syntax::ends_by_leaving)
}

/// A loop on some paths only over a name bound before the branch: the fix goes on the loop's
/// iterable (`for b in books.select_related("author")`) when nothing else uses the name, so
/// the other paths keep their queryset. Returns whether it could.
fn relocate<'t>(
    ctx: &FileContext,
    queryset: &mut Queryset<'t>,
    iterable: Node<'t>,
    loop_node: Node<'t>,
) -> bool {
    let src = ctx.src;
    let Some(root) = chain_root(iterable, src) else {
        return false;
    };
    let within =
        |n: Node| iterable.start_byte() <= n.start_byte() && n.end_byte() <= iterable.end_byte();
    if root.node_kind() != "identifier"
        || queryset.iterator.is_some_and(|n| !within(n))
        || queryset.evaluated_at.is_some_and(|n| !within(n))
        || queryset.insert_at.is_none()
    {
        return false;
    }
    // `books[:10]` or `list(books)` as the iterable: the call would go inside; not worth it.
    let mut node = unparen(iterable);
    while node != root {
        match method_call(node, src) {
            Some((object, _)) => node = unparen(object),
            None => return false,
        }
    }
    let name = text(root, src);
    let Some((branch, statement)) = branch_of(loop_node, queryset.built_at) else {
        return false;
    };
    let exclusive = |n: Node| exclusive_with(n, branch, statement);
    if !super::resolve::only_refined_and_iterated(
        scope_of(loop_node),
        name,
        iterable,
        src,
        &exclusive,
    ) {
        return false;
    }
    queryset.insert_at = Some(iterable.end_byte());
    queryset.merge_from = iterable.start_byte();
    true
}

/// `for b in qs` → (b, qs); `for i, b in enumerate(qs)` → (b, qs).
fn loop_target<'t>(left: Node<'t>, right: Node<'t>, src: &str) -> Option<(Node<'t>, Node<'t>)> {
    let left = unparen(left);
    if left.node_kind() == "identifier" {
        return Some((left, right));
    }
    if matches!(left.node_kind(), "pattern_list" | "tuple_pattern") {
        let right = unparen(right);
        let function = right.child_by_field_id(crate::field!("function"))?;
        if right.node_kind() == "call" && text(function, src) == "enumerate" {
            let mut cursor = left.walk();
            let names: Vec<Node> = left.named_children(&mut cursor).collect();
            if names.len() == 2 && names[1].node_kind() == "identifier" {
                let first = *call_args(right, src).positional.first()?;
                return Some((names[1], first));
            }
        }
    }
    None
}

fn writes_in_range(scope: Node, start: usize, end: usize, src: &str) -> bool {
    let mut found = false;
    crate::syntax::walk_named(scope, |n| {
        if n.end_byte() <= start || n.start_byte() >= end || found {
            return false;
        }
        if let Some((_, method)) = method_call(n, src)
            && WRITES.contains(&method.as_str())
            && n.start_byte() >= start
        {
            found = true;
        }
        true
    });
    found
}

struct Walker<'c, 'a, 't> {
    ctx: &'c FileContext<'a>,
    loop_var: String,
    vars: HashMap<String, Cursor>,
    /// Names bound to a related manager's rows (`books = a.books.all()`).
    collections: HashMap<String, Cursor>,
    out: Vec<Access<'t>>,
    writes: bool,
    /// See [`LoopFacts::written`].
    written: Vec<Written>,
    /// How many conditions the walk is under (an `if` in the loop body, one side of `and`…).
    conditions: usize,
    /// Relations the body sets on every path (`row.event = event`), with where the assignment
    /// ends: reading them afterwards reads the object assigned, no query.
    assigned: Vec<(usize, Vec<String>)>,
}

impl<'t> Walker<'_, '_, 't> {
    /// Walk `node` as code that runs on some paths only.
    fn walk_conditional(&mut self, node: Node<'t>) {
        self.conditions += 1;
        self.walk(node);
        self.conditions -= 1;
    }

    /// The children of a compound node: those `always` picks run whenever it does, the others
    /// on some paths only.
    fn walk_children(&mut self, node: Node<'t>, always: impl Fn(usize, Node<'t>) -> bool) {
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
        for (k, child) in children.into_iter().enumerate() {
            if always(k, child) {
                self.walk(child);
            } else {
                self.walk_conditional(child);
            }
        }
    }

    fn walk(&mut self, node: Node<'t>) {
        match node.node_kind() {
            "function_definition" | "class_definition" => return,
            "if_statement" | "while_statement" => {
                let condition = node.child_by_field_id(crate::field!("condition"));
                self.walk_children(node, |_, c| Some(c) == condition);
                return;
            }
            "try_statement" => {
                self.walk_children(node, |_, c| {
                    matches!(c.node_kind(), "block" | "finally_clause")
                });
                return;
            }
            "boolean_operator" => {
                let right = node.child_by_field_id(crate::field!("right"));
                self.walk_children(node, |_, c| Some(c) != right);
                return;
            }
            "conditional_expression" => {
                self.walk_children(node, |k, _| k == 1);
                return;
            }
            "match_statement" => {
                let subject = node.child_by_field_id(crate::field!("subject"));
                self.walk_children(node, |_, c| Some(c) == subject);
                return;
            }
            "attribute" if self.attribute_chain(node) => return,
            "call" => {
                self.note_write(node);
                self.string_conversion(node);
                self.helper_call(node);
            }
            "interpolation" | "binary_operator" => self.string_conversion(node),
            "for_statement" => {
                self.nested_for(node);
                return;
            }
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => {
                self.nested_comprehension(node);
                return;
            }
            "assignment" => {
                self.assignment(node);
                return;
            }
            _ => {}
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
        for child in children {
            self.walk(child);
        }
    }

    fn note_write(&mut self, call: Node<'t>) {
        let src = self.ctx.src;
        if let Some((object, method)) = method_call(call, src)
            && WRITES.contains(&method.as_str())
        {
            let on_row = object.node_kind() == "identifier" && text(object, src) == self.loop_var;
            if !on_row {
                self.writes = true;
            }
            // Whose rows it writes: a tracked row or related object, or a queryset's model.
            let tracked = match unparen(object) {
                o if o.node_kind() == "identifier" => self.vars.get(text(o, src)).cloned(),
                o => self.single_alias(o),
            };
            if let Some(cursor) = tracked {
                self.note_written(cursor.model, Some(cursor.prefix));
            } else if let Some(qs) =
                QuerysetResolver::new(self.ctx).resolve(object, call.start_byte())
            {
                self.note_written(qs.model, None);
            }
        }
    }

    fn note_written(&mut self, model: ModelId, via: Option<Vec<String>>) {
        let written = Written { model, via };
        if !self.written.contains(&written) {
            self.written.push(written);
        }
    }

    /// What a member of `var`'s model that writes writes to, by its write targets.
    fn note_member_writes(&mut self, var: &Cursor, targets: &[WriteTarget]) {
        let index = self.ctx.index;
        for target in targets {
            match target {
                WriteTarget::SelfPath(path) => {
                    let mut at = var.clone();
                    let reached = path.iter().all(|name| {
                        match index.field(at.model, name).and_then(|f| at.step(name, f)) {
                            Some(next) => {
                                at = next;
                                true
                            }
                            None => false,
                        }
                    });
                    if reached {
                        self.note_written(at.model, Some(at.prefix));
                    } else {
                        self.note_written(var.model, None);
                    }
                }
                WriteTarget::Class(name) => {
                    for &model in index.models_named(name) {
                        self.note_written(model, None);
                    }
                }
                // A local object, a function's result: perhaps a row of the member's model.
                WriteTarget::Unknown => self.note_written(var.model, None),
            }
        }
    }

    fn assignment(&mut self, node: Node<'t>) {
        let (Some(left), Some(right)) = (
            node.child_by_field_id(crate::field!("left")),
            node.child_by_field_id(crate::field!("right")),
        ) else {
            return;
        };
        self.walk(right);
        if left.node_kind() != "identifier" {
            // `row.site = site` stores the relation: no query (`row.rack.site = x` reads `rack`).
            crate::syntax::target_reads(left, &mut |part| self.walk(part));
            if self.conditions == 0 {
                self.note_assigned(left, node.end_byte());
            }
            return;
        }
        let name = text(left, self.ctx.src).to_string();
        self.vars.remove(&name);
        self.collections.remove(&name);
        if let Some(var) = self.single_alias(right) {
            self.vars.insert(name, var);
        } else if let Some(var) = self.related_rows(right) {
            self.collections.insert(name, var);
        }
    }

    /// `row.event = event` (also in a tuple target): later reads of `row.event` read it.
    fn note_assigned(&mut self, target: Node<'t>, at: usize) {
        match target.node_kind() {
            "attribute" => {
                let src = self.ctx.src;
                let (Some(object), Some(attr)) = (
                    target.child_by_field_id(crate::field!("object")),
                    target.child_by_field_id(crate::field!("attribute")),
                ) else {
                    return;
                };
                let object = unparen(object);
                let var = if object.node_kind() == "identifier" {
                    self.vars.get(text(object, src)).cloned()
                } else {
                    self.single_alias(object)
                };
                let name = text(attr, src);
                if let Some(var) = var
                    && let Some(field) = self.ctx.index.field(var.model, name)
                    && field.kind.is_single()
                    && let Some(next) = var.step(name, field)
                {
                    self.assigned.push((at, next.prefix));
                }
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" => {
                let mut cursor = target.walk();
                let items: Vec<Node<'t>> = target.named_children(&mut cursor).collect();
                for item in items {
                    self.note_assigned(item, at);
                }
            }
            _ => {}
        }
    }

    /// `b.author` / `b.author.publisher` → the object at the end of the path.
    fn single_alias(&self, expr: Node<'t>) -> Option<Cursor> {
        let expr = unparen(expr);
        let (root, names) = attribute_names(expr, self.ctx.src)?;
        let mut var = self.vars.get(root)?.clone();
        for name in names {
            let field = self.ctx.index.field(var.model, &name)?;
            if !field.kind.is_single() {
                return None;
            }
            var = var.step(&name, field)?;
        }
        Some(var)
    }

    /// `b.tags.all()` (optionally sliced, listed) → the rows of that relation.
    fn related_rows(&self, expr: Node<'t>) -> Option<Cursor> {
        let expr = unparen(expr);
        let src = self.ctx.src;
        let (object, method) = method_call(expr, src)?;
        if method != "all" {
            return None;
        }
        let object = unparen(object);
        if object.node_kind() == "identifier" {
            return None;
        }
        let (root, names) = attribute_names(object, src)?;
        let mut var = self.vars.get(root)?.clone();
        let last = names.len().checked_sub(1)?;
        for (i, name) in names.iter().enumerate() {
            let field = self.ctx.index.field(var.model, name)?;
            if i == last {
                if !field.kind.is_multi() {
                    return None;
                }
            } else if !field.kind.is_single() {
                return None;
            }
            var = var.step(name, field)?;
        }
        Some(var)
    }

    fn bind_loop_var(
        &mut self,
        left: Node<'t>,
        right: Node<'t>,
    ) -> Option<(String, Option<Cursor>)> {
        let src = self.ctx.src;
        let (var_node, iterable) = loop_target(left, right, src)?;
        let name = text(var_node, src).to_string();
        let iterable = unparen(iterable);
        let var = if iterable.node_kind() == "identifier" {
            self.collections.get(text(iterable, src)).cloned()
        } else {
            self.related_rows(iterable)
        };
        Some((name, var))
    }

    fn nested_for(&mut self, node: Node<'t>) {
        let (Some(left), Some(right)) = (
            node.child_by_field_id(crate::field!("left")),
            node.child_by_field_id(crate::field!("right")),
        ) else {
            return;
        };
        self.walk(right);
        let saved = self.vars.clone();
        let saved_collections = self.collections.clone();
        if let Some((name, var)) = self.bind_loop_var(left, right) {
            self.vars.remove(&name);
            if let Some(var) = var {
                self.vars.insert(name, var);
            }
        } else {
            // Unknown targets shadow whatever they name.
            crate::syntax::walk_named(left, |n| {
                if n.node_kind() == "identifier" {
                    self.vars.remove(text(n, self.ctx.src));
                }
                true
            });
        }
        if let Some(body) = node.child_by_field_id(crate::field!("body")) {
            self.walk(body);
        }
        if let Some(alt) = node.child_by_field_id(crate::field!("alternative")) {
            self.walk(alt);
        }
        self.vars = saved;
        self.collections = saved_collections;
    }

    fn nested_comprehension(&mut self, node: Node<'t>) {
        let saved = self.vars.clone();
        self.comprehension_clauses(node, None);
        self.vars = saved;
    }

    /// The rest of a comprehension after its first `for … in <queryset>` clause.
    fn walk_comprehension_rest(&mut self, node: Node<'t>, first: Node<'t>) {
        self.comprehension_clauses(node, Some(first));
    }

    /// Bind each `for … in …` clause's variable (rows of a related manager when it iterates
    /// one), then read the element and the conditions with those bindings.
    fn comprehension_clauses(&mut self, node: Node<'t>, skip: Option<Node<'t>>) {
        let mut cursor = node.walk();
        let clauses: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
        for clause in &clauses {
            if clause.node_kind() == "for_in_clause"
                && Some(*clause) != skip
                && let (Some(left), Some(right)) = (
                    clause.child_by_field_id(crate::field!("left")),
                    clause.child_by_field_id(crate::field!("right")),
                )
            {
                self.walk(right);
                if let Some((name, var)) = self.bind_loop_var(left, right) {
                    self.vars.remove(&name);
                    if let Some(var) = var {
                        self.vars.insert(name, var);
                    }
                }
            }
        }
        for clause in &clauses {
            if clause.node_kind() != "for_in_clause" {
                self.walk(*clause);
            }
        }
    }

    /// An attribute chain rooted at a tracked name: record the relation paths it reads.
    /// Returns true when the chain was handled (nothing below it needs a visit).
    fn attribute_chain(&mut self, node: Node<'t>) -> bool {
        let src = self.ctx.src;
        // Collect the nested attribute nodes, innermost first.
        let mut nodes = Vec::new();
        let mut current = node;
        while current.node_kind() == "attribute" {
            nodes.push(current);
            match current.child_by_field_id(crate::field!("object")) {
                Some(o) => current = unparen(o),
                None => return false,
            }
        }
        if current.node_kind() != "identifier" {
            return false;
        }
        let Some(var) = self.vars.get(text(current, src)).cloned() else {
            return false;
        };
        nodes.reverse();
        let names: Vec<String> = nodes
            .iter()
            .map(|n| {
                n.child_by_field_id(crate::field!("attribute"))
                    .map(|a| text(a, src).to_string())
                    .unwrap_or_default()
            })
            .collect();
        let outer = *nodes.last().expect("at least one attribute");
        let call = outer.parent().filter(|p| {
            p.node_kind() == "call" && p.child_by_field_id(crate::field!("function")) == Some(outer)
        });
        let steps: Vec<Step<'_, 't>> = nodes
            .iter()
            .zip(&names)
            .map(|(node, name)| Step {
                name: name.as_str(),
                node: *node,
            })
            .collect();
        self.follow(var, &steps, call, None, 0);
        true
    }

    /// Interpret attribute names read from `var`, recording the relation paths they load.
    /// `call` is the call node when the last name is called; `via` names the member (property,
    /// method, `__str__`) the reads come from, whose node stands for all of them.
    fn follow(
        &mut self,
        mut var: Cursor,
        steps: &[Step<'_, 't>],
        call: Option<Node<'t>>,
        via: Option<(Node<'t>, &str)>,
        depth: usize,
    ) {
        let src = self.ctx.src;
        let via_name =
            via.map(|(_, name)| format!("{}.{name}", self.ctx.index.model(var.model).name));
        let via = via.map(|(node, _)| node);
        let start = self.out.len();
        self.follow_steps(&mut var, steps, call, via, depth, src);
        let conditional = self.conditions > 0;
        for access in &mut self.out[start..] {
            if access.via.is_none() {
                access.via.clone_from(&via_name);
            }
            access.conditional |= conditional;
        }
    }

    fn follow_steps(
        &mut self,
        var: &mut Cursor,
        steps: &[Step<'_, 't>],
        call: Option<Node<'t>>,
        via: Option<Node<'t>>,
        depth: usize,
        src: &str,
    ) {
        for (i, step_) in steps.iter().enumerate() {
            let report_node = via.unwrap_or(step_.node);
            let name = step_.name;
            let Some(field) = self.ctx.index.field(var.model, name) else {
                // `row.author_id`: the ForeignKey's column, loaded with the row unless deferred.
                if i == 0 && self.ctx.index.is_fk_attname(var.model, name) {
                    let mut access = Access::related(var, report_node);
                    access.path.push(name.trim_end_matches("_id").to_string());
                    access.column = true;
                    self.out.push(access);
                    return;
                }
                // A property or method of the model: what it reads from `self`, per row.
                let current = var.clone();
                self.member(&current, name, report_node, depth);
                return;
            };
            match field.kind {
                kind if kind.is_single() => {
                    let Some(next) = var.step(name, field) else {
                        return;
                    };
                    *var = next;
                    self.out.push(Access::related(var, report_node));
                }
                kind if kind.is_multi() => {
                    // `row.books.<method>(…)`: the manager method decides what it costs.
                    let Some(method) = steps.get(i + 1) else {
                        // `row.books(manager="other")`: the related manager called for another
                        // manager. A prefetch of `books` answers it too, with the default
                        // manager's rows and queryset class (DJANGO.md): recorded as a
                        // manager call `()` that rules out prefetching the path.
                        if let Some(call) = call.filter(|_| i + 1 == steps.len())
                            && let Some(next) = var.step(name, field)
                        {
                            let mut access = Access::related(&next, via.unwrap_or(call));
                            access.multi = true;
                            access.forward = false;
                            access.forward_non_null = false;
                            access.manager_method = Some(MANAGER_CALL.to_string());
                            access.call = Some(call);
                            self.out.push(access);
                        }
                        return;
                    };
                    let is_call = i + 2 == steps.len() && call.is_some();
                    if !is_call {
                        return;
                    }
                    let Some(next) = var.step(name, field) else {
                        return;
                    };
                    let call = call.expect("checked");
                    let mut method_name = method.name.to_string();
                    if method_name == "all" {
                        method_name = all_context(call, src).to_string();
                    }
                    let mut access = Access::related(&next, via.unwrap_or(call));
                    access.multi = true;
                    access.forward = false;
                    access.forward_non_null = false;
                    access.manager_method = Some(method_name);
                    access.call = Some(call);
                    self.out.push(access);
                    return;
                }
                FieldKind::GenericForeignKey => {
                    let mut path = var.prefix.clone();
                    path.push(name.to_string());
                    let mut access = Access::related(var, report_node);
                    access.path = path;
                    access.generic = true;
                    access.multi = true; // served by a prefetch only
                    access.forward = false;
                    access.forward_non_null = false;
                    self.out.push(access);
                    return;
                }
                _ => {
                    // A column: loaded with the row unless deferred.
                    if i == 0 {
                        let mut access = Access::related(var, report_node);
                        access.path.push(name.to_string());
                        access.column = true;
                        self.out.push(access);
                    }
                    return;
                }
            }
        }
    }

    /// Reads hidden in a property, a method or `__str__` of the row's model.
    fn member(&mut self, var: &Cursor, name: &str, node: Node<'t>, depth: usize) {
        if let Some(targets) = self.ctx.index.member_writes(var.model, name) {
            self.writes = true;
            self.note_member_writes(var, targets);
        }
        self.member_reads(var, name, node, depth);
    }

    fn member_reads(&mut self, var: &Cursor, name: &str, node: Node<'t>, depth: usize) {
        if depth > 2 {
            return;
        }
        let ctx = self.ctx;
        let Some(reads) = ctx.index.member_reads(var.model, name) else {
            return;
        };
        for read in reads {
            let steps: Vec<Step<'_, 't>> = read
                .names
                .iter()
                .map(|n| Step {
                    name: n.as_str(),
                    node,
                })
                .collect();
            // A called last name (`self.books.all()`) counts as a call on the member's node.
            let call = read.called.then_some(node);
            let start = self.out.len();
            self.follow(var.clone(), &steps, call, Some((node, name)), depth + 1);
            let member = format!("{}.{name}", ctx.index.model(var.model).name);
            for access in &mut self.out[start..] {
                if read.prefetch_aware && access.prefetch_aware.is_none() {
                    access.prefetch_aware = Some(member.clone());
                }
                access.conditional |= read.conditional;
                if let Some(unless) = &read.unless {
                    access.unless.push(unless.clone());
                }
            }
        }
    }

    /// `get_tax_class(method)`: a function of the project handed the row (or an object reached
    /// from it) reads from it what it reads from that parameter, as a model method would.
    fn helper_call(&mut self, call: Node<'t>) {
        let ctx = self.ctx;
        let src = ctx.src;
        let args = call_args(call, src);
        let mut bound: Vec<(Option<usize>, Option<String>, Cursor)> = Vec::new();
        if !args.splat {
            for (k, arg) in args.positional.iter().enumerate() {
                if let Some(var) = self.tracked(*arg) {
                    bound.push((Some(k), None, var));
                }
            }
        }
        for (name, arg) in &args.keywords {
            if let Some(var) = self.tracked(*arg) {
                bound.push((None, Some(name.clone()), var));
            }
        }
        if bound.is_empty() {
            return;
        }
        let Some(function) = call.child_by_field_id(crate::field!("function")) else {
            return;
        };
        let import = |local: &str| ctx.imports.iter().find(|i| i.local == local);
        let (facts, label) = match function.node_kind() {
            "identifier" => {
                let name = text(function, src);
                let facts = match import(name) {
                    Some(i) => ctx
                        .index
                        .helpers
                        .function(&ctx.index.exports, &i.module, &i.name),
                    None => {
                        // This module's own: from the tree being read when it holds the
                        // function, else from the file as phase 1 saw it.
                        match crate::index::helpers::in_tree(ctx.tree.root_node(), name, src) {
                            Some(f) => Some(std::sync::Arc::new(f)),
                            None => ctx.index.helpers.local(&ctx.module, name),
                        }
                    }
                };
                (facts, format!("{name}()"))
            }
            "attribute" => {
                // `utils.get_tax_class(row)` after `from shop import utils`.
                let (Some(object), Some(attr)) = (
                    function.child_by_field_id(crate::field!("object")),
                    function.child_by_field_id(crate::field!("attribute")),
                ) else {
                    return;
                };
                if object.node_kind() != "identifier" || self.vars.contains_key(text(object, src)) {
                    return;
                }
                let Some(i) = import(text(object, src)) else {
                    return;
                };
                let module = format!("{}.{}", i.module, i.name);
                let name = text(attr, src);
                (
                    ctx.index
                        .helpers
                        .function(&ctx.index.exports, &module, name),
                    format!("{}.{name}()", text(object, src)),
                )
            }
            _ => return,
        };
        let Some(facts) = facts else {
            return;
        };
        for (position, keyword, var) in bound {
            let Some(p) = facts.param_of(position, keyword.as_deref()) else {
                continue;
            };
            if facts.writes.is_some() {
                // What it writes is not known from the row's side: perhaps the row.
                self.writes = true;
                self.note_written(var.model, None);
            }
            let model_label = format!("{}.{label}", ctx.index.model(var.model).name);
            for read in &facts.reads[p] {
                let steps: Vec<Step<'_, 't>> = read
                    .names
                    .iter()
                    .map(|n| Step {
                        name: n.as_str(),
                        node: call,
                    })
                    .collect();
                let called = read.called.then_some(call);
                let start = self.out.len();
                self.follow(var.clone(), &steps, called, Some((call, &label)), 1);
                for access in &mut self.out[start..] {
                    if read.prefetch_aware && access.prefetch_aware.is_none() {
                        access.prefetch_aware = Some(label.clone());
                    }
                    access.conditional |= read.conditional;
                    if let Some(unless) = &read.unless {
                        access.unless.push(unless.clone());
                    }
                    if access.via.as_deref() == Some(model_label.as_str()) {
                        access.via = Some(label.clone());
                    }
                }
            }
        }
    }

    /// The row or an object reached from it that `expr` names (`method`, `b.author`).
    fn tracked(&self, expr: Node<'t>) -> Option<Cursor> {
        let expr = unparen(expr);
        if expr.node_kind() == "identifier" {
            return self.vars.get(text(expr, self.ctx.src)).cloned();
        }
        self.single_alias(expr)
    }

    /// `str(row)`, `f"{row}"`, `"%s" % row`, `print(row)`, `format(row)`: `__str__` per row.
    fn string_conversion(&mut self, node: Node<'t>) {
        let src = self.ctx.src;
        let mut targets: Vec<Node<'t>> = Vec::new();
        match node.node_kind() {
            "call" => {
                let Some(function) = node.child_by_field_id(crate::field!("function")) else {
                    return;
                };
                if function.node_kind() == "identifier"
                    && matches!(text(function, src), "str" | "print" | "format")
                {
                    targets.extend(call_args(node, src).positional);
                }
            }
            "interpolation" => {
                if let Some(expr) = node.child_by_field_id(crate::field!("expression")) {
                    targets.push(expr);
                }
            }
            "binary_operator" => {
                let is_percent = node
                    .child_by_field_id(crate::field!("operator"))
                    .is_some_and(|o| text(o, src) == "%");
                let left_is_string = node
                    .child_by_field_id(crate::field!("left"))
                    .is_some_and(|l| l.node_kind() == "string");
                if is_percent
                    && left_is_string
                    && let Some(right) = node.child_by_field_id(crate::field!("right"))
                {
                    if right.node_kind() == "tuple" {
                        let mut cursor = right.walk();
                        targets.extend(right.named_children(&mut cursor));
                    } else {
                        targets.push(right);
                    }
                }
            }
            _ => {}
        }
        for target in targets {
            let target = unparen(target);
            if target.node_kind() == "identifier"
                && let Some(var) = self.vars.get(text(target, src)).cloned()
            {
                self.member(&var, "__str__", target, 0);
            }
        }
    }
}

#[derive(Clone, Copy)]
struct Step<'s, 't> {
    name: &'s str,
    node: Node<'t>,
}

/// What `.all()` on a related manager is used for: `len`, `bool` (truth test) or `all`.
fn all_context(call: Node, src: &str) -> &'static str {
    let Some(parent) = call.parent() else {
        return "all";
    };
    match parent.node_kind() {
        "argument_list" => {
            let function = parent
                .parent()
                .and_then(|c| c.child_by_field_id(crate::field!("function")))
                .map(|f| text(f, src));
            let single = parent.named_child_count() == 1;
            match function {
                Some("len") if single => "len",
                Some("bool") if single => "bool",
                _ => "all",
            }
        }
        "if_statement" | "while_statement" | "elif_clause"
            if parent.child_by_field_id(crate::field!("condition")) == Some(call) =>
        {
            "bool"
        }
        "not_operator" | "boolean_operator" | "if_clause" => "bool",
        "conditional_expression" if parent.named_child(1) == Some(call) => "bool",
        _ => "all",
    }
}

/// `a.b.c` → ("a", ["b", "c"]).
fn attribute_names<'s>(expr: Node, src: &'s str) -> Option<(&'s str, Vec<String>)> {
    let mut names = Vec::new();
    let mut current = expr;
    while current.node_kind() == "attribute" {
        names.push(text(current.child_by_field_id(crate::field!("attribute"))?, src).to_string());
        current = unparen(current.child_by_field_id(crate::field!("object"))?);
    }
    if current.node_kind() != "identifier" || names.is_empty() {
        return None;
    }
    names.reverse();
    Some((text(current, src), names))
}

/// Does what the queryset already loads serve this path?
pub fn is_covered(access: &Access, cov: &Coverage) -> bool {
    cov.serves(
        &access.lookup(),
        access.multi,
        access.forward,
        access.forward_non_null,
    )
}

/// The paths a loop needs and does not have yet: (select_related, prefetch_related). Paths
/// implied by longer ones are dropped; each kept path points at the earliest read it serves.
pub fn missing_paths<'t>(
    facts: &LoopFacts<'t>,
    cov: &Coverage,
) -> (Vec<Access<'t>>, Vec<Access<'t>>) {
    let mut select: Vec<&Access> = Vec::new();
    let mut prefetch: Vec<&Access> = Vec::new();
    for access in &facts.accesses {
        if access.generic || access.column {
            continue;
        }
        let relevant = match &access.manager_method {
            None => true,
            Some(m) => m == "all",
        };
        if !relevant || is_covered(access, cov) {
            continue;
        }
        let list = if access.multi {
            &mut prefetch
        } else {
            &mut select
        };
        list.push(access);
    }
    (minimal(&select), minimal(&prefetch))
}

fn minimal<'t>(list: &[&Access<'t>]) -> Vec<Access<'t>> {
    let mut kept: Vec<Access<'t>> = Vec::new();
    for access in list {
        let lookup = access.lookup();
        let implied = list
            .iter()
            .any(|other| other.lookup().starts_with(&format!("{lookup}__")));
        if implied || kept.iter().any(|k| k.path == access.path) {
            continue;
        }
        let mut access = (*access).clone();
        // Report at the earliest read this path serves (`b.author` before `b.author.publisher`).
        for other in list {
            let served =
                lookup == other.lookup() || lookup.starts_with(&format!("{}__", other.lookup()));
            if served && other.node.start_byte() < access.node.start_byte() {
                access.node = other.node;
            }
        }
        kept.push(access);
    }
    kept
}

/// The first relation on `access`'s path (as a lookup) that leads to a model whose rows the
/// loop writes, with that model's name: loading it before the loop would give the loop copies
/// of those rows taken before the writes, where a lazy load sees them (earlier iterations'
/// writes, or the row itself saved through another object).
pub fn stale_relation(
    ctx: &FileContext,
    facts: &LoopFacts,
    access: &Access,
) -> Option<(String, String)> {
    if facts.written.is_empty() {
        return None;
    }
    let mut model = facts.queryset.model;
    // Every hop so far is one-to-one: no other row of the loop reaches the object at the end.
    let mut unique = true;
    for (i, name) in access.path.iter().enumerate() {
        let field = ctx.index.field(model, name)?;
        let target = field.target?;
        unique &= matches!(field.kind, FieldKind::OneToOne | FieldKind::ReverseOneToOne);
        let prefix = &access.path[..=i];
        // The object written is this very relation of this row, which no other row shares:
        // the loaded copy is the object written.
        let stale = facts
            .written
            .iter()
            .any(|w| w.model == target && !(unique && w.via.as_deref() == Some(prefix)));
        if stale {
            return Some((prefix.join("__"), ctx.index.model(target).name.clone()));
        }
        model = target;
    }
    None
}

/// Why a fix loading `accesses` before the loop would change what the loop reads: the
/// sentence naming the first relation [`stale_relation`] finds.
pub fn stale_reason(ctx: &FileContext, facts: &LoopFacts, accesses: &[Access]) -> Option<String> {
    if let Some(member) = accesses.iter().find_map(|a| a.prefetch_aware.as_ref()) {
        return Some(format!(
            "`{member}` looks into `_prefetched_objects_cache`: with a prefetch it returns something else"
        ));
    }
    accesses.iter().find_map(|a| {
        stale_relation(ctx, facts, a).map(|(lookup, model)| {
            format!(
                "the loop (or a method it calls) may write `{model}` rows, and `{lookup}` is one; loaded before the loop, it would be a copy taken before those writes"
            )
        })
    })
}

/// GenericForeignKeys read per row and not prefetched yet.
pub fn missing_generic<'t>(facts: &LoopFacts<'t>, cov: &Coverage) -> Vec<Access<'t>> {
    let list: Vec<&Access> = facts
        .accesses
        .iter()
        .filter(|a| a.generic && !is_covered(a, cov))
        .collect();
    minimal(&list)
}

/// Is the loop's iterable rooted at something that is itself a loop variable of an
/// enclosing loop? (Then the enclosing loop reports it.)
pub fn iterable_root<'t>(facts: &LoopFacts<'t>, src: &str) -> Option<Node<'t>> {
    chain_root(facts.iterable, src)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::FileContext;

    const MODELS: &str = "from django.db import models\n\n\
class Author(models.Model):\n    name = models.CharField(max_length=9)\n\n\
class Tag(models.Model):\n    name = models.CharField(max_length=9)\n\n\
class Book(models.Model):\n    title = models.CharField(max_length=9)\n    \
author = models.ForeignKey(Author, on_delete=models.CASCADE)\n    \
editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL, related_name=\"edited\")\n    \
tags = models.ManyToManyField(Tag)\n\n    \
def __str__(self):\n        return self.author.name\n\n    \
def touch(self):\n        self.editor.save()\n";

    /// The facts of the first loop (a `for` or a comprehension) in `view`, a module of the app
    /// whose models are [`MODELS`], as (path, multi, forward_non_null, manager method,
    /// conditional, via, column) per access, and the writes flag.
    fn facts_of(view: &str) -> (Vec<String>, bool) {
        with_loop(view, |_, facts| describe(facts))
    }

    /// `f` given the facts of the first loop in `view` (see [`facts_of`]).
    fn with_loop<R>(view: &str, f: impl FnOnce(&FileContext, &LoopFacts) -> R) -> R {
        let index = crate::index::index_of("shop/models.py", MODELS);
        let src = format!("from shop.models import Author, Book\n\n{view}");
        let tree = crate::syntax::parse::parse(&src).unwrap();
        let ctx = FileContext::new(&index, &src, &tree, "shop.views".to_string(), false);
        let mut found = None;
        crate::syntax::walk_named(tree.root_node(), |n| {
            if found.is_none() && matches!(n.node_kind(), "for_statement" | "list_comprehension") {
                found = Some(n);
            }
            found.is_none()
        });
        let facts = analyze_loop(&ctx, found.expect("a loop")).expect("a queryset loop");
        f(&ctx, &facts)
    }

    /// The written models' names, and each missing path's stale relation.
    fn stale_of(view: &str) -> (Vec<String>, Vec<Option<String>>) {
        with_loop(view, |ctx, facts| {
            let names = facts
                .written
                .iter()
                .map(|w| ctx.index.model(w.model).name.clone())
                .collect();
            let stale = facts
                .accesses
                .iter()
                .map(|a| stale_relation(ctx, facts, a).map(|(lookup, _)| lookup))
                .collect();
            (names, stale)
        })
    }

    fn describe(facts: &LoopFacts) -> (Vec<String>, bool) {
        let accesses = facts
            .accesses
            .iter()
            .map(|a| {
                let mut s = a.lookup();
                for (flag, word) in [
                    (a.multi, "multi"),
                    (a.forward_non_null, "non-null"),
                    (a.conditional, "conditional"),
                    (a.column, "column"),
                ] {
                    if flag {
                        s.push(' ');
                        s.push_str(word);
                    }
                }
                if let Some(m) = &a.manager_method {
                    s.push_str(&format!(" .{m}()"));
                }
                if let Some(via) = &a.via {
                    s.push_str(&format!(" via {via}"));
                }
                s
            })
            .collect();
        (accesses, facts.writes_in_body)
    }

    #[test]
    fn forward_relations_and_their_nullability() {
        let (a, writes) = facts_of(
            "def f():\n    for b in Book.objects.all():\n        print(b.author.name, b.editor.name)\n",
        );
        assert_eq!(a, ["author non-null", "editor"]);
        assert!(!writes);
    }

    #[test]
    fn related_managers_keep_their_method() {
        let (a, _) = facts_of(
            "def f():\n    for b in Book.objects.all():\n        x = list(b.tags.all())\n        n = b.tags.count()\n",
        );
        assert_eq!(a, ["tags multi .all()", "tags multi .count()"]);
    }

    #[test]
    fn reads_under_a_condition_are_conditional() {
        let (a, _) = facts_of(
            "def f(flag):\n    for b in Book.objects.all():\n        if flag:\n            print(b.author.name)\n",
        );
        assert_eq!(a, ["author non-null conditional"]);
    }

    #[test]
    fn str_of_the_row_reads_what_dunder_str_reads() {
        let (a, _) =
            facts_of("def f():\n    for b in Book.objects.all():\n        print(str(b))\n");
        assert_eq!(a, ["author non-null via Book.__str__"]);
    }

    #[test]
    fn a_foreign_key_column_is_not_a_relation() {
        let (a, _) =
            facts_of("def f():\n    for b in Book.objects.all():\n        print(b.author_id)\n");
        assert_eq!(a, ["author non-null column"]);
    }

    #[test]
    fn comprehensions_and_aliases() {
        let (a, _) = facts_of(
            "def f():\n    return [b.author.name for b in Book.objects.filter(title=\"x\")]\n",
        );
        assert_eq!(a, ["author non-null"]);
        let (a, _) = facts_of(
            "def f():\n    for b in Book.objects.all():\n        who = b.author\n        print(who.name)\n",
        );
        // Through an alias the related row's column is recorded too (a chain read in one
        // expression, `b.author.name`, records the relation only).
        assert_eq!(a, ["author non-null", "author__name non-null column"]);
    }

    #[test]
    fn the_models_a_loop_writes() {
        // The row saved: a relation back to its model is stale, another is not.
        let (written, stale) = stale_of(
            "def f():\n    for b in Book.objects.all():\n        b.save()\n        print(b.author.name)\n",
        );
        assert_eq!(written, ["Book"]);
        assert_eq!(stale, [None]);
        // A related object saved, and a queryset's model updated.
        let (written, stale) = stale_of(
            "def f():\n    for b in Book.objects.all():\n        b.editor.save()\n        Author.objects.filter(pk=1).update(name=\"y\")\n        print(b.author.name)\n",
        );
        assert_eq!(written, ["Author", "Author"]);
        assert_eq!(
            stale,
            [Some("editor".to_string()), Some("author".to_string())]
        );
        // A member that writes: what its writes are called on (`self.editor.save()`).
        let (written, stale) =
            stale_of("def f():\n    for b in Book.objects.all():\n        b.touch()\n");
        assert_eq!(written, ["Author"]);
        assert_eq!(stale, [Some("editor".to_string())]);
        // Reads only.
        let (written, _) =
            stale_of("def f():\n    for b in Book.objects.all():\n        print(b.author.name)\n");
        assert!(written.is_empty());
    }

    #[test]
    fn writes_through_other_models_are_seen() {
        let (_, writes) = facts_of(
            "def f():\n    for b in Book.objects.all():\n        Book.objects.filter(pk=1).update(title=\"y\")\n",
        );
        assert!(writes);
    }
}
