//! Which expressions are querysets: roots (`Model.objects`), chains, names bound to them in
//! the function (through rebindings, branches, parameters and admin actions), and where a
//! queryset's name is used again (escapes).

use super::FileContext;
use super::classes::{ClassView, registered_models, string_items};
use super::queryset::{ChainCall, Queryset, is_none_call};
use crate::index::{ModelId, Resolution};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, method_call, text, unparen};
use tree_sitter::Node;

/// One assignment-like binding of a name in a scope.
#[derive(Clone, Copy, Debug)]
struct Binding<'t> {
    /// The statement that binds.
    statement: Node<'t>,
    /// The value, for a plain `name = value`; None for other bindings (loop targets, params…).
    value: Option<Node<'t>>,
}

pub struct QuerysetResolver<'c, 'a, 't> {
    pub ctx: &'c FileContext<'a>,
    _tree: std::marker::PhantomData<&'t ()>,
}

impl<'c, 'a: 't, 't> QuerysetResolver<'c, 'a, 't> {
    pub fn new(ctx: &'c FileContext<'a>) -> Self {
        QuerysetResolver {
            ctx,
            _tree: std::marker::PhantomData,
        }
    }

    /// Resolve `expr`, used at byte offset `at`, to a queryset of a known model.
    pub fn resolve(&self, expr: Node<'t>, at: usize) -> Option<Queryset<'t>> {
        self.resolve_depth(expr, at, 0)
    }

    fn resolve_depth(&self, expr: Node<'t>, at: usize, depth: usize) -> Option<Queryset<'t>> {
        if depth > 24 {
            return None;
        }
        let expr = unparen(expr);
        let src = self.ctx.src;
        match expr.node_kind() {
            "call" => {
                if let Some((object, method)) = method_call(expr, src) {
                    if method == "iterator" {
                        let mut qs = self.resolve_depth(object, at, depth + 1)?;
                        qs.iterator = Some(expr);
                        return Some(qs);
                    }
                    let mut qs = self.resolve_depth(object, at, depth + 1)?;
                    let custom = if crate::django::CHAIN_METHODS.contains(&method.as_str()) {
                        None
                    } else {
                        // `Book.objects.published()`: a custom method returning a queryset.
                        let manager = qs.manager.as_deref()?;
                        let m = self.ctx.index.manager(qs.model, manager)?;
                        Some(m.methods.iter().find(|c| c.name == method)?.clone())
                    };
                    qs.calls.push(ChainCall {
                        method,
                        node: expr,
                        custom,
                        discarded: false,
                    });
                    if qs.iterator.is_none() {
                        qs.insert_at = Some(expr.end_byte());
                    } else {
                        // `.iterator().filter()` is not valid Django; do not guess.
                        qs.insert_at = None;
                    }
                    return Some(qs);
                }
                // list(qs), sorted(qs, key=…)
                let function = expr.child_by_field_id(crate::field!("function"))?;
                if function.node_kind() == "identifier"
                    && !crate::django::EVALUATORS.contains(&text(function, src))
                {
                    return self.function_result(text(function, src), expr);
                }
                if function.node_kind() == "identifier"
                    && crate::django::EVALUATORS.contains(&text(function, src))
                {
                    let args = call_args(expr, src);
                    let first = *args.positional.first()?;
                    let mut qs = self.resolve_depth(first, at, depth + 1)?;
                    qs.evaluated_at.get_or_insert(expr);
                    return Some(qs);
                }
                None
            }
            "subscript" => {
                // qs[:10] keeps rows as instances; qs[0] is one instance.
                let slice = expr.child_by_field_id(crate::field!("subscript"))?;
                if slice.node_kind() != "slice" {
                    return None;
                }
                let value = expr.child_by_field_id(crate::field!("value"))?;
                let mut qs = self.resolve_depth(value, at, depth + 1)?;
                let bounds = text(slice, src).replace(' ', "");
                if matches!(bounds.as_str(), ":1" | "0:1" | ":0" | "0:0") {
                    qs.single_row = true;
                }
                Some(qs)
            }
            "attribute" => {
                let object = expr.child_by_field_id(crate::field!("object"))?;
                let attr = text(expr.child_by_field_id(crate::field!("attribute"))?, src);
                // `Book.objects`, or `shop_models.Book.objects` through a module's name.
                let dotted = object.node_kind() == "attribute";
                let name = crate::syntax::dotted_name(object, src)?;
                let resolution = self.ctx.model_named(&name);
                if dotted && resolution.is_none() {
                    return None;
                }
                let Some(resolution) = resolution else {
                    // `author.books`: a related manager of a single object.
                    return self.related_manager(object, attr, expr, at, depth);
                };
                let model = resolution.id();
                if !self.ctx.index.is_manager_name(model, attr)
                    || self.ctx.index.model(model).is_abstract
                {
                    return None;
                }
                Some(Queryset {
                    ambiguous: matches!(resolution, Resolution::Ambiguous(_)),
                    manager: Some(if attr.starts_with('_') {
                        "objects".into()
                    } else {
                        attr.to_string()
                    }),
                    ..Queryset::rooted(model, expr)
                })
            }
            "identifier" => self.resolve_name(expr, at, depth),
            _ => None,
        }
    }

    /// `author.books` where `author` is one object of a known model (a `get()`, a typed
    /// parameter): the related manager's queryset.
    fn related_manager(
        &self,
        object: Node<'t>,
        attr: &str,
        expr: Node<'t>,
        at: usize,
        depth: usize,
    ) -> Option<Queryset<'t>> {
        let src = self.ctx.src;
        let (model, hinted, is_self, prefetched) = match self.instance(object, at, depth) {
            Some(one) => (one.model, one.hinted, false, one.prefetched),
            None => (self.self_model(object)?, false, true, Vec::new()),
        };
        let field = self.ctx.index.field(model, attr)?;
        if !field.kind.is_multi() {
            return None;
        }
        let name = text(object, src);
        // The related manager's `.all()` reads the object's prefetch cache when there is one:
        // a queryset of its own would throw those rows away and query again.
        let owner_prefetch = if is_self {
            Some(format!(
                "the rows are `self.{attr}`, which a caller may have prefetched; a queryset of its own would throw those rows away and query again"
            ))
        } else if hinted {
            Some(format!(
                "`{name}` comes from a caller, which may have prefetched `{attr}`; a queryset of its own would throw those rows away and query again"
            ))
        } else if prefetched
            .iter()
            .any(|l| l == "*" || l == attr || l.starts_with(&format!("{attr}__")))
            || prefetched_by_call(
                scope_in(self.ctx.tree.root_node(), object),
                name,
                attr,
                at,
                src,
            )
        {
            Some(format!(
                "`{name}.{attr}` is prefetched before the loop; a queryset of its own would throw those rows away and query again"
            ))
        } else {
            None
        };
        let target = field.target?;
        let manager = self
            .ctx
            .index
            .model(target)
            .managers
            .first()
            .map(|m| m.name.clone());
        let known_related = (field.kind == crate::index::FieldKind::ReverseForeignKey)
            .then(|| field.remote_query.clone())
            .flatten();
        Some(Queryset {
            manager,
            hinted,
            self_relation: is_self,
            owner_prefetch,
            known_related,
            ..Queryset::rooted(target, expr)
        })
    }

    /// `self` in a method of a model class (the first parameter, not rebound): that model.
    fn self_model(&self, ident: Node<'t>) -> Option<ModelId> {
        let src = self.ctx.src;
        if text(ident, src) != "self" {
            return None;
        }
        let mut function = ident.parent();
        while let Some(f) = function {
            if f.node_kind() == "function_definition" {
                break;
            }
            function = f.parent();
        }
        let function = function?;
        let params = function.child_by_field_id(crate::field!("parameters"))?;
        if crate::index::reads::parameter_names(function, src)
            .first()
            .map(String::as_str)
            != Some("self")
        {
            return None;
        }
        // Rebound in the body: not the instance any more.
        let body = function.child_by_field_id(crate::field!("body"))?;
        if bindings_in(body, "self", src)
            .iter()
            .any(|b| b.statement != params)
        {
            return None;
        }
        let mut class = function.parent();
        while let Some(c) = class {
            match c.node_kind() {
                "class_definition" => break,
                "block" | "decorated_definition" => class = c.parent(),
                _ => return None,
            }
        }
        let name = class?.child_by_field_id(crate::field!("name"))?;
        let model = self.ctx.model_named(text(name, src))?.id();
        (!self.ctx.index.model(model).is_abstract).then_some(model)
    }

    /// The model of one object bound to `ident`: `x = Model.objects.get(...)` (or `first()`,
    /// `last()`, `get_object_or_404(Model, ...)`), or a parameter typed `x: Model`.
    fn instance(&self, ident: Node<'t>, at: usize, depth: usize) -> Option<Instance> {
        if depth > 24 || ident.node_kind() != "identifier" {
            return None;
        }
        let src = self.ctx.src;
        let name = text(ident, src);
        let scope = scope_in(self.ctx.tree.root_node(), ident);
        let bindings = bindings_in(scope, name, src);
        let before: Vec<&Binding> = bindings
            .iter()
            .filter(|b| b.statement.start_byte() < at)
            .collect();
        let dom = before[before
            .iter()
            .rposition(|b| b.statement.parent().is_some_and(|p| encloses(p, ident)))?];
        if dom.statement.node_kind() == "parameters" {
            let hint = parameter_hint(dom.statement, name, src)?;
            return Some(Instance {
                model: self.ctx.model_named(&hint)?.id(),
                hinted: true,
                prefetched: Vec::new(),
            });
        }
        let value = unparen(dom.value?);
        if let Some((object, method)) = method_call(value, src) {
            if !matches!(
                method.as_str(),
                "get" | "first" | "last" | "earliest" | "latest"
            ) {
                return None;
            }
            let qs = self.resolve_depth(object, dom.statement.start_byte(), depth + 1)?;
            let coverage = qs.coverage(self.ctx);
            let mut prefetched = coverage.prefetch;
            if coverage.unknown {
                prefetched.push("*".into()); // a lookup not read: perhaps this one
            }
            return Some(Instance {
                model: qs.model,
                hinted: qs.hinted,
                prefetched,
            });
        }
        let function = value.child_by_field_id(crate::field!("function"))?;
        if text(function, src) == "get_object_or_404" {
            let first = *call_args(value, src).positional.first()?;
            if first.node_kind() == "identifier" {
                return Some(Instance {
                    model: self.ctx.model_named(text(first, src))?.id(),
                    hinted: false,
                    prefetched: Vec::new(),
                });
            }
        }
        None
    }

    /// A parameter typed `QuerySet[Model]`: iterated where it is used.
    fn hinted_queryset(
        &self,
        params: Node<'t>,
        name: &str,
        ident: Node<'t>,
    ) -> Option<Queryset<'t>> {
        let hint = parameter_hint(params, name, self.ctx.src)?;
        let inner = hint
            .strip_prefix("QuerySet[")
            .or_else(|| hint.strip_prefix("models.QuerySet["))?
            .strip_suffix(']')?;
        let model = self.ctx.model_named(inner.trim())?.id();
        let manager = self
            .ctx
            .index
            .model(model)
            .managers
            .first()
            .map(|m| m.name.clone());
        Some(Queryset {
            manager,
            hinted: true,
            ..Queryset::rooted(model, ident)
        })
    }

    /// `published_books()`: a function of the project (this module or imported) that returns a
    /// queryset. The fix goes at the call site, where it serves this caller only.
    fn function_result(&self, local: &str, call: Node<'t>) -> Option<Queryset<'t>> {
        let (module, name) = match self.ctx.imports.iter().find(|i| i.local == local) {
            Some(import) => (import.module.as_str(), import.name.as_str()),
            None => (self.ctx.module.as_str(), local),
        };
        let function = self.ctx.index.queryset_function(module, name)?;
        Some(Queryset {
            manager: Some(function.manager.clone()),
            calls: vec![ChainCall {
                method: function.summary.name.clone(),
                node: call,
                custom: Some(function.summary.clone()),
                discarded: false,
            }],
            ..Queryset::rooted(function.model, call)
        })
    }

    fn resolve_name(&self, ident: Node<'t>, at: usize, depth: usize) -> Option<Queryset<'t>> {
        let name = text(ident, self.ctx.src);
        let scope = scope_in(self.ctx.tree.root_node(), ident);
        let bindings = bindings_in(scope, name, self.ctx.src);
        let before: Vec<&Binding> = bindings
            .iter()
            .filter(|b| b.statement.start_byte() < at)
            .collect();
        // The last binding whose block encloses the use: it runs on every path to the use.
        let dominating = before
            .iter()
            .rposition(|b| b.statement.parent().is_some_and(|p| encloses(p, ident)))?;
        let dom = before[dominating];
        if dom.statement.node_kind() == "parameters" {
            let mut qs = match super::resolve::admin_action_queryset(self.ctx, dom.statement, name)
            {
                Some(Ok(mut qs)) => {
                    qs.insert_at = Some(ident.end_byte());
                    qs.built_at = ident.start_byte();
                    qs.merge_from = ident.start_byte();
                    qs
                }
                Some(Err(())) => return None,
                None => self.hinted_queryset(dom.statement, name, ident)?,
            };
            qs.from_parameter = true;
            qs.names.push(name.to_string());
            return Some(qs);
        }
        let value = dom.value?;
        let mut qs = self.resolve_depth(value, dom.statement.start_byte(), depth + 1)?;
        qs.built_at = qs.built_at.min(dom.statement.start_byte());
        // Later bindings on some paths only: they must refine this queryset (`qs = qs.filter()`).
        for later in &before[dominating + 1..] {
            let value = later.value?;
            let root = chain_root(value, self.ctx.src)?;
            if root.node_kind() != "identifier" || text(root, self.ctx.src) != name {
                return None;
            }
            let refined = self.resolve_depth(value, later.statement.start_byte(), depth + 1)?;
            if refined.model != qs.model || refined.blocker().is_some() {
                return None;
            }
            if refined.calls.iter().any(|c| {
                matches!(c.method.as_str(), "select_related" | "prefetch_related")
                    && is_none_call(c.node)
            }) {
                return None;
            }
            qs.conditional = true;
            // What this rebinding adds itself (its own chain on top of the name).
            qs.branch_calls.extend(
                refined
                    .calls
                    .into_iter()
                    .filter(|c| encloses(value, c.node)),
            );
        }
        // `qs.prefetch_related(...)` as a bare statement between the binding and the use.
        let from = dom.statement.end_byte();
        let finder = memchr::memmem::Finder::new(name.as_bytes());
        crate::syntax::walk_named(scope, |n| {
            if n.end_byte() <= from || n.start_byte() >= at {
                return n.start_byte() < at && n.end_byte() > from;
            }
            if finder
                .find(&self.ctx.src.as_bytes()[n.byte_range()])
                .is_none()
            {
                return false;
            }
            if n.node_kind() == "expression_statement"
                && let Some(call) = n.named_child(0)
                && let Some((object, method)) = method_call(call, self.ctx.src)
                && matches!(method.as_str(), "select_related" | "prefetch_related")
                && object.node_kind() == "identifier"
                && text(object, self.ctx.src) == name
            {
                qs.calls.push(ChainCall {
                    method,
                    node: call,
                    custom: None,
                    discarded: true,
                });
                return false;
            }
            n == scope || !matches!(n.node_kind(), "function_definition" | "class_definition")
        });
        qs.names.push(name.to_string());
        Some(qs)
    }
}

/// Is every use of `name` in the scope, besides `iterated` (the loop's iterable) and those
/// `exclusive` says never run on the loop's paths, a binding of it or the root of a rebinding
/// that refines it (`qs = qs.filter(...)`)? Then a change made at `iterated` serves that loop
/// alone. Closures that see the name count as uses.
pub fn only_refined_and_iterated(
    scope: Node,
    name: &str,
    iterated: Node,
    src: &str,
    exclusive: &dyn Fn(Node) -> bool,
) -> bool {
    let mut other = false;
    let finder = memchr::memmem::Finder::new(name.as_bytes());
    crate::syntax::walk_named(scope, |n| {
        if other || finder.find(&src.as_bytes()[n.byte_range()]).is_none() {
            return false;
        }
        if n.start_byte() >= iterated.start_byte() && n.end_byte() <= iterated.end_byte() {
            return false;
        }
        if n.node_kind() != "identifier" || text(n, src) != name {
            return true;
        }
        if exclusive(n) {
            return false; // never on a path through the loop
        }
        let Some(parent) = n.parent() else {
            return false;
        };
        let is_left = |assignment: Node| {
            assignment.node_kind() == "assignment"
                && assignment.child_by_field_id(crate::field!("left")) == Some(n)
        };
        if is_left(parent)
            || matches!(
                parent.node_kind(),
                "parameters" | "typed_parameter" | "default_parameter" | "typed_default_parameter"
            )
        {
            return false;
        }
        // The root of `name = name.<chain>`.
        let statement = {
            let mut up = parent;
            while !matches!(
                up.node_kind(),
                "assignment" | "expression_statement" | "block" | "module"
            ) {
                match up.parent() {
                    Some(p) => up = p,
                    None => break,
                }
            }
            up
        };
        let refines = statement.node_kind() == "assignment"
            && statement
                .child_by_field_id(crate::field!("left"))
                .is_some_and(|l| l.node_kind() == "identifier" && text(l, src) == name)
            && statement
                .child_by_field_id(crate::field!("right"))
                .and_then(|r| chain_root(r, src))
                == Some(n);
        other |= !refines;
        false
    });
    !other
}

/// Is the queryset bound to `name` used, besides in `except_in`, where a change to it could
/// clash with something: passed to another function, returned, stored, or refined with
/// `only()`/`defer()`/`union()`?
pub fn name_escapes(scope: Node, name: &str, except_in: Node, src: &str) -> bool {
    let mut escapes = false;
    let finder = memchr::memmem::Finder::new(name.as_bytes());
    crate::syntax::walk_named(scope, |n| {
        // Nothing below a node whose text does not hold the name can use it.
        if escapes || finder.find(&src.as_bytes()[n.byte_range()]).is_none() {
            return false;
        }
        if n != scope
            && matches!(
                n.node_kind(),
                "function_definition" | "lambda" | "class_definition"
            )
        {
            // A closure that sees the name: we cannot follow it.
            let mut uses = false;
            crate::syntax::walk_named(n, |m| {
                uses |= m.node_kind() == "identifier" && text(m, src) == name;
                !uses
            });
            escapes |= uses;
            return false;
        }
        if n.node_kind() != "identifier" || text(n, src) != name {
            return true;
        }
        if except_in.start_byte() <= n.start_byte() && n.end_byte() <= except_in.end_byte() {
            return false;
        }
        escapes |= use_escapes(n, src);
        false
    });
    escapes
}

/// Does the value of `ident` (a name, or an expression starting a chain) leave the function or
/// meet a conflicting call? See [`name_escapes`].
pub fn use_escapes(ident: Node, src: &str) -> bool {
    let Some(parent) = ident.parent() else {
        return false;
    };
    // The binding itself: `name = …`, `for name in …`, a parameter.
    if matches!(parent.node_kind(), "assignment" | "augmented_assignment")
        && parent.child_by_field_id(crate::field!("left")) == Some(ident)
    {
        return false;
    }
    if matches!(
        parent.node_kind(),
        "parameters" | "typed_parameter" | "default_parameter" | "typed_default_parameter"
    ) {
        return false;
    }
    let mut node = ident;
    loop {
        let Some(parent) = node.parent() else {
            return false;
        };
        match parent.node_kind() {
            "attribute" if parent.child_by_field_id(crate::field!("object")) == Some(node) => {
                let method = parent
                    .child_by_field_id(crate::field!("attribute"))
                    .map(|a| text(a, src))
                    .unwrap_or("");
                let called = parent.parent().filter(|c| {
                    c.node_kind() == "call"
                        && c.child_by_field_id(crate::field!("function")) == Some(parent)
                });
                match called {
                    Some(call) => {
                        if crate::django::CONFLICTS.contains(&method) {
                            return true;
                        }
                        if !crate::django::CHAIN_METHODS.contains(&method) && method != "iterator" {
                            return false; // count(), exists(), first()…: not a queryset any more
                        }
                        node = call;
                    }
                    None => return false, // `qs.model`, `qs.query`: reads, not uses
                }
            }
            "subscript" if parent.child_by_field_id(crate::field!("value")) == Some(node) => {
                node = parent
            }
            "parenthesized_expression" => node = parent,
            "for_statement" | "for_in_clause" => {
                return parent.child_by_field_id(crate::field!("right")) != Some(node);
            }
            "expression_statement"
            | "if_statement"
            | "while_statement"
            | "not_operator"
            | "boolean_operator"
            | "comparison_operator"
            | "conditional_expression" => {
                return false;
            }
            "keyword_argument" => {
                // `Prefetch("books", queryset=<this>)`: Django uses it as it is.
                let call = parent.parent().and_then(|list| list.parent());
                return call
                    .and_then(|c| c.child_by_field_id(crate::field!("function")))
                    .is_none_or(|f| crate::syntax::last_segment(text(f, src)) != "Prefetch");
            }
            "argument_list" => {
                let call = parent.parent();
                let local = call
                    .and_then(|c| c.child_by_field_id(crate::field!("function")))
                    .is_some_and(|f| {
                        f.node_kind() == "identifier"
                            && crate::django::LOCAL_CONSUMERS.contains(&text(f, src))
                    });
                return !local;
            }
            "assignment" => {
                // Rebinding the same name (`qs = qs.filter()`) keeps it in view; another name does not.
                let left = parent.child_by_field_id(crate::field!("left"));
                let same = left.is_some_and(|l| {
                    l.node_kind() == "identifier" && text(l, src) == text(ident, src)
                });
                return !same;
            }
            _ => return true,
        }
    }
}

/// The type hint of parameter `name`, as written (quotes and `Optional[...]` removed).
fn parameter_hint(params: Node, name: &str, src: &str) -> Option<String> {
    let mut cursor = params.walk();
    for param in params.named_children(&mut cursor) {
        if !matches!(
            param.node_kind(),
            "typed_parameter" | "typed_default_parameter"
        ) {
            continue;
        }
        let param_name = match param.child_by_field_id(crate::field!("name")) {
            Some(n) => text(n, src),
            None => param
                .named_child(0)
                .map(|n| text(n, src))
                .unwrap_or_default(),
        };
        if param_name != name {
            continue;
        }
        let hint = text(param.child_by_field_id(crate::field!("type"))?, src)
            .trim()
            .trim_matches(['"', '\''])
            .to_string();
        let hint = hint
            .strip_prefix("Optional[")
            .and_then(|h| h.strip_suffix(']'))
            .map(str::to_string)
            .unwrap_or(hint);
        return Some(hint);
    }
    None
}

/// The innermost expression a chain of calls, attributes and subscripts starts from.
pub fn chain_root<'t>(expr: Node<'t>, src: &str) -> Option<Node<'t>> {
    let mut node = unparen(expr);
    loop {
        node = match node.node_kind() {
            "call" => {
                if let Some((object, _)) = method_call(node, src) {
                    object
                } else {
                    let function = node.child_by_field_id(crate::field!("function"))?;
                    if function.node_kind() == "identifier"
                        && crate::django::EVALUATORS.contains(&text(function, src))
                    {
                        *call_args(node, src).positional.first()?
                    } else {
                        return Some(node);
                    }
                }
            }
            "attribute" => node.child_by_field_id(crate::field!("object"))?,
            "subscript" => node.child_by_field_id(crate::field!("value"))?,
            "parenthesized_expression" => unparen(node),
            _ => return Some(node),
        };
    }
}

/// [`scope_of`] found from the root down (`root` is the tree's root): one pass down instead of
/// a parent lookup per level, each of which tree-sitter does from the root.
pub fn scope_in<'t>(root: Node<'t>, node: Node<'t>) -> Node<'t> {
    let mut scope = if root.node_kind() == "module" && root != node {
        root
    } else {
        node
    };
    let mut current = root;
    while current != node {
        match current.child_with_descendant(node) {
            Some(child) => current = child,
            None => break,
        }
        if current != node && current.node_kind() == "function_definition" {
            scope = current;
        }
    }
    scope
}

/// The function body (or module) a node's names live in.
pub fn scope_of(node: Node) -> Node {
    let mut current = node.parent();
    while let Some(n) = current {
        match n.node_kind() {
            "function_definition" => return n,
            "module" => return n,
            _ => current = n.parent(),
        }
    }
    node
}

fn encloses(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// Bindings of `name` in a scope, in source order, not looking into nested functions/classes.
fn bindings_in<'t>(scope: Node<'t>, name: &str, src: &str) -> Vec<Binding<'t>> {
    let mut out = Vec::new();
    let body = if scope.node_kind() == "function_definition" {
        if let Some(params) = scope.child_by_field_id(crate::field!("parameters")) {
            let mut found = false;
            crate::syntax::walk_named(params, |n| {
                if n.node_kind() == "identifier" && text(n, src) == name {
                    found = true;
                }
                !found
            });
            if found {
                out.push(Binding {
                    statement: params,
                    value: None,
                });
            }
        }
        match scope.child_by_field_id(crate::field!("body")) {
            Some(b) => b,
            None => return out,
        }
    } else {
        scope
    };
    collect_bindings(body, name, src, &mut out);
    out
}

fn collect_bindings<'t>(node: Node<'t>, name: &str, src: &str, out: &mut Vec<Binding<'t>>) {
    let finder = memchr::memmem::Finder::new(name.as_bytes());
    collect_bindings_with(node, name, &finder, src, out);
}

/// `collect_bindings`, skipping every statement whose text does not hold the name (every way
/// of binding it writes it out): one byte search instead of a walk of its subtree.
fn collect_bindings_with<'t>(
    node: Node<'t>,
    name: &str,
    finder: &memchr::memmem::Finder,
    src: &str,
    out: &mut Vec<Binding<'t>>,
) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if finder
            .find(&src.as_bytes()[child.start_byte()..child.end_byte()])
            .is_none()
        {
            continue;
        }
        match child.node_kind() {
            "function_definition" | "class_definition" | "lambda" => {
                if child
                    .child_by_field_id(crate::field!("name"))
                    .is_some_and(|n| text(n, src) == name)
                {
                    out.push(Binding {
                        statement: child,
                        value: None,
                    });
                }
            }
            "expression_statement" => {
                if let Some(inner) = child.named_child(0) {
                    match inner.node_kind() {
                        "assignment" => assignment_binding(child, inner, name, src, out),
                        "augmented_assignment"
                            if inner
                                .child_by_field_id(crate::field!("left"))
                                .is_some_and(|l| text(l, src) == name) =>
                        {
                            out.push(Binding {
                                statement: child,
                                value: None,
                            });
                        }
                        _ => {}
                    }
                }
                collect_walrus(child, name, src, out);
            }
            "for_statement" => {
                if let Some(left) = child.child_by_field_id(crate::field!("left"))
                    && binds_name(left, name, src)
                {
                    out.push(Binding {
                        statement: child,
                        value: None,
                    });
                }
                collect_bindings_with(child, name, finder, src, out);
            }
            "with_statement"
            | "try_statement"
            | "except_clause"
            | "import_statement"
            | "import_from_statement" => {
                let mut binds = false;
                crate::syntax::walk_named(child, |n| {
                    if matches!(
                        n.node_kind(),
                        "as_pattern_target" | "aliased_import" | "dotted_name"
                    ) && text(n, src).split_whitespace().last() == Some(name)
                    {
                        binds = true;
                    }
                    !matches!(n.node_kind(), "block")
                });
                if binds {
                    out.push(Binding {
                        statement: child,
                        value: None,
                    });
                }
                collect_bindings_with(child, name, finder, src, out);
            }
            // Statements hold the bindings looked for above; an expression holds none of them.
            kind => {
                if holds_statements(kind) {
                    collect_bindings_with(child, name, finder, src, out)
                }
            }
        }
    }
}

/// Can a node of this kind hold statements (a block, a compound statement, one of its
/// clauses)?
fn holds_statements(kind: &str) -> bool {
    matches!(kind, "block" | "module" | "decorated_definition")
        || kind.ends_with("_statement")
        || kind.ends_with("_clause")
}

fn assignment_binding<'t>(
    statement: Node<'t>,
    assign: Node<'t>,
    name: &str,
    src: &str,
    out: &mut Vec<Binding<'t>>,
) {
    let Some(left) = assign.child_by_field_id(crate::field!("left")) else {
        return;
    };
    let right = assign.child_by_field_id(crate::field!("right"));
    if left.node_kind() == "identifier" {
        if text(left, src) == name {
            // `a = b = value` chains: the value is the innermost right side.
            let mut value = right;
            while let Some(v) = value {
                if v.node_kind() == "assignment" {
                    value = v.child_by_field_id(crate::field!("right"));
                } else {
                    break;
                }
            }
            out.push(Binding { statement, value });
        }
    } else if binds_name(left, name, src) {
        out.push(Binding {
            statement,
            value: None,
        });
    }
}

fn collect_walrus<'t>(node: Node<'t>, name: &str, src: &str, out: &mut Vec<Binding<'t>>) {
    if crate::finder!(b":=")
        .find(&src.as_bytes()[node.byte_range()])
        .is_none()
    {
        return;
    }
    crate::syntax::walk_named(node, |n| {
        if n.node_kind() == "named_expression"
            && n.child_by_field_id(crate::field!("name"))
                .is_some_and(|x| text(x, src) == name)
        {
            out.push(Binding {
                statement: node,
                value: None,
            });
        }
        !matches!(n.node_kind(), "lambda" | "function_definition")
    });
}

fn binds_name(target: Node, name: &str, src: &str) -> bool {
    let mut found = false;
    crate::syntax::walk_named(target, |n| {
        if n.node_kind() == "identifier" && text(n, src) == name {
            let parent_is_attr = n
                .parent()
                .is_some_and(|p| matches!(p.node_kind(), "attribute" | "subscript"));
            if !parent_is_attr {
                found = true;
            }
        }
        !found && !matches!(n.node_kind(), "attribute" | "subscript")
    });
    found
}

/// The value of the only `return` of a function (nested functions aside).
pub fn single_return(function: Node) -> Option<Node> {
    let returns = crate::syntax::returns(function.child_by_field_id(crate::field!("body"))?);
    match returns.values.as_slice() {
        [value] if !returns.bare => Some(unparen(*value)),
        _ => None,
    }
}

/// The queryset an expression returned by `get_queryset()` is: a chain the resolver reads
/// (`Book.objects…`), or one on `super().get_queryset(…)`, `self.queryset`, `self.model.objects`
/// (rows of `base`), directly or through a name bound in the function.
pub fn returned_queryset<'a: 't, 't>(
    ctx: &FileContext<'a>,
    function: Node<'t>,
    expr: Node<'t>,
    base: Option<ModelId>,
) -> Option<Queryset<'t>> {
    let resolver = QuerysetResolver::new(ctx);
    if let Some(qs) = resolver.resolve(expr, expr.start_byte()) {
        return Some(qs);
    }
    let base = base?;
    let src = ctx.src;
    // Calls from the expression down to its root, outermost first.
    let (root, calls) = chain_calls(expr, src)?;
    let mut qs = if is_base_queryset(root, src) {
        Queryset::rooted(base, root)
    } else if root.node_kind() == "identifier" {
        // `qs = super().get_queryset(); return qs.filter(...)`: one binding, at the top level.
        let name = text(root, src);
        let body = function.child_by_field_id(crate::field!("body"))?;
        let mut cursor = body.walk();
        let bindings: Vec<Node> = body
            .named_children(&mut cursor)
            .filter_map(|stmt| {
                stmt.named_child(0)
                    .filter(|a| a.node_kind() == "assignment")
            })
            .filter(|a| {
                a.child_by_field_id(crate::field!("left"))
                    .is_some_and(|l| text(l, src) == name)
            })
            .collect();
        let mut assignments = 0;
        crate::syntax::walk_named(body, |n| {
            if n.node_kind() == "assignment"
                && n.child_by_field_id(crate::field!("left"))
                    .is_some_and(|l| text(l, src) == name)
            {
                assignments += 1;
            }
            true
        });
        if bindings.len() != 1 || assignments != 1 {
            return None;
        }
        let value = unparen(bindings[0].child_by_field_id(crate::field!("right"))?);
        returned_queryset(ctx, function, value, Some(base))?
    } else {
        return None;
    };
    for (method, call) in calls.into_iter().rev() {
        qs.push_call(&method, call);
    }
    Some(qs)
}

/// `a.filter(x).order_by(y)` → (`a`, [(order_by, …), (filter, …)]).
pub fn chain_calls<'t>(expr: Node<'t>, src: &str) -> Option<(Node<'t>, Vec<(String, Node<'t>)>)> {
    let mut calls = Vec::new();
    let mut node = unparen(expr);
    loop {
        match method_call(node, src) {
            Some((object, method)) if crate::django::SITE_CHAIN.contains(&method.as_str()) => {
                calls.push((method, node));
                node = unparen(object);
            }
            _ => return Some((node, calls)),
        }
    }
}

/// `super().get_queryset(...)`, `self.queryset`, `self.model.objects`, `self.model._default_manager`.
fn is_base_queryset(node: Node, src: &str) -> bool {
    if let Some((object, method)) = method_call(node, src)
        && method == "get_queryset"
    {
        let object = unparen(object);
        return object.node_kind() == "call"
            && object
                .child_by_field_id(crate::field!("function"))
                .is_some_and(|f| text(f, src) == "super");
    }
    matches!(
        text(node, src),
        "self.queryset" | "self.model.objects" | "self.model._default_manager"
    )
}

/// The rows an admin action receives as its `queryset` parameter: those of the admin's
/// changelist, that is its `get_queryset()` (or the model's default manager) with the
/// changelist's `list_select_related` joins. `params` is the parameter list of a method of a
/// `ModelAdmin` listed in its `actions`, and `name` its third parameter. None when it is not
/// one; `Err` when it is one whose rows djopt cannot read (the loop is then not analysed).
pub fn admin_action_queryset<'a: 't, 't>(
    ctx: &FileContext<'a>,
    params: Node<'t>,
    name: &str,
) -> Option<Result<Queryset<'t>, ()>> {
    let src = ctx.src;
    let function = params
        .parent()
        .filter(|f| f.node_kind() == "function_definition")?;
    let names = crate::index::reads::parameter_names(function, src);
    if names.len() != 3 || names[0] != "self" || names[2] != name {
        return None;
    }
    let method = text(function.child_by_field_id(crate::field!("name"))?, src);
    let mut class = function.parent()?;
    while class.node_kind() != "class_definition" {
        class = class.parent().filter(|p| {
            matches!(
                p.node_kind(),
                "block" | "decorated_definition" | "class_definition"
            )
        })?;
    }
    let view = ClassView::read(class, src)?;
    let bases = ctx.index.frameworks.all_bases(&view.bases);
    let admin = bases
        .iter()
        .any(|b| b.ends_with("ModelAdmin") && b != "InlineModelAdmin")
        && !bases.iter().any(|b| b.ends_with("Inline"));
    if !admin {
        return None;
    }
    let (actions, _) = view.attr("actions")?;
    if !string_items(actions, src).is_some_and(|list| list.iter().any(|a| a == method)) {
        return None;
    }
    let models = registered_models(ctx, &view);
    let [model] = models.as_slice() else {
        return Some(Err(()));
    };
    let model = *model;
    if view.method("get_queryset").is_none()
        && ctx
            .index
            .frameworks
            .inherits_method(&view.bases, "get_queryset")
    {
        return Some(Err(())); // a base class of the project decides
    }
    let mut qs = match view.method("get_queryset") {
        Some(get_queryset) => {
            let Some(ret) = single_return(get_queryset) else {
                return Some(Err(()));
            };
            match returned_queryset(ctx, get_queryset, ret, Some(model)) {
                Some(qs) if qs.model == model => qs,
                _ => return Some(Err(())),
            }
        }
        None => Queryset::rooted(model, params),
    };
    if qs.manager.is_none() {
        // ModelAdmin.get_queryset starts from the model's default manager.
        qs.manager = ctx
            .index
            .model(model)
            .managers
            .first()
            .map(|m| m.name.clone());
    }
    // What the changelist joins before the action sees the rows (Django's
    // `ChangeList.apply_select_related`, when get_queryset did not select_related itself).
    if !qs.has_call("select_related") {
        match view.attr("list_select_related") {
            Some((value, _)) if value.node_kind() == "true" => qs.site_select_all = true,
            Some((value, _)) if value.node_kind() == "false" => {
                qs.site_select_all = lists_a_foreign_key(ctx, &view, model)
            }
            None => qs.site_select_all = lists_a_foreign_key(ctx, &view, model),
            Some((value, _)) => match string_items(value, src) {
                Some(list) => qs.site_select = list,
                None => return Some(Err(())),
            },
        }
    }
    Some(Ok(qs))
}

/// Does the admin's `list_display` name a ForeignKey of the model itself? (Then the changelist
/// calls `select_related()` on its own.) Unreadable counts as yes: the rows may be joined.
fn lists_a_foreign_key(ctx: &FileContext, view: &ClassView, model: ModelId) -> bool {
    let Some((value, _)) = view.attr("list_display") else {
        return false;
    };
    let Some(items) = string_items(value, ctx.src) else {
        return true;
    };
    items.iter().any(|item| {
        ctx.index.field(model, item).is_some_and(|f| {
            matches!(
                f.kind,
                crate::index::FieldKind::ForeignKey | crate::index::FieldKind::OneToOne
            )
        })
    })
}

/// One object a name is bound to (see `QuerysetResolver::instance`).
struct Instance {
    model: ModelId,
    /// Known from a parameter's type hint: a caller's object.
    hinted: bool,
    /// What the queryset it was fetched from prefetches (`Author.objects.prefetch_related(
    /// "books").get(...)`).
    prefetched: Vec<String>,
}

/// `prefetch_related_objects([author], "books")` (or `"books__tags"`, a `Prefetch("books",
/// …)`) in `scope` before byte `at`, naming `name` in its first argument.
fn prefetched_by_call(scope: Node, name: &str, attr: &str, at: usize, src: &str) -> bool {
    let bytes = &src.as_bytes()[scope.start_byte()..at.min(scope.end_byte())];
    if crate::finder!(b"prefetch_related_objects")
        .find(bytes)
        .is_none()
    {
        return false;
    }
    let mut found = false;
    crate::syntax::walk_named(scope, |n| {
        if found || n.start_byte() >= at {
            return false;
        }
        if n.node_kind() == "call"
            && let Some(function) = n.child_by_field_id(crate::field!("function"))
            && crate::syntax::last_segment(text(function, src)) == "prefetch_related_objects"
        {
            let args = call_args(n, src);
            let names_it = args.positional.first().is_some_and(|first| {
                let mut hit = false;
                crate::syntax::walk_named(*first, |m| {
                    hit |= m.node_kind() == "identifier" && text(m, src) == name;
                    !hit
                });
                hit
            });
            let lookups = args.positional.iter().skip(1).any(|a| {
                let a = unparen(*a);
                let lookup = match a.node_kind() {
                    "call" => call_args(a, src)
                        .positional
                        .first()
                        .and_then(|l| crate::syntax::string_value(*l, src)),
                    _ => crate::syntax::string_value(a, src),
                };
                lookup.is_none_or(|l| l == attr || l.starts_with(&format!("{attr}__")))
            });
            found = names_it && lookups;
            return false;
        }
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_in_is_scope_of() {
        let src = "import x\n\ndef f(a):\n    def g(b):\n        return [c.d for c in b]\n    class C:\n        def m(self):\n            y = lambda z: z.w\n    return g(a)\n\nq = [i for i in range(3)]\n";
        let tree = crate::syntax::parse::parse(src).unwrap();
        let root = tree.root_node();
        let mut checked = 0;
        crate::syntax::walk_named(root, |n| {
            assert_eq!(scope_in(root, n), scope_of(n), "{}", n.to_sexp());
            checked += 1;
            true
        });
        assert!(checked > 40);
    }
}
