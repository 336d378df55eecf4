//! Which expressions are querysets: roots (`Model.objects`), chains, names bound to them.

use super::FileContext;
use crate::index::{ModelId, Resolution};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, method_call, string_value, text, unparen};
use tree_sitter::Node;

#[derive(Clone, Debug)]
pub struct ChainCall<'t> {
    pub method: String,
    pub node: Node<'t>,
    /// A custom QuerySet/Manager method of the project (what it does is in the index).
    pub custom: Option<crate::index::QuerysetMethod>,
    /// A bare statement `qs.prefetch_related(...)` whose result is thrown away (ORM105 reports
    /// it; its fix makes it count, so the loop rules treat it as loaded and never merge into it).
    pub discarded: bool,
}

#[derive(Clone, Debug)]
pub struct Queryset<'t> {
    pub model: ModelId,
    pub ambiguous: bool,
    /// The manager the chain starts from (`objects`), if it starts from one.
    pub manager: Option<String>,
    /// Calls in the order they apply.
    pub calls: Vec<ChainCall<'t>>,
    /// Where a new call can be appended (byte offset), if anywhere.
    pub insert_at: Option<usize>,
    /// The `.iterator()` call the rows come through, if any.
    pub iterator: Option<Node<'t>>,
    /// Evaluated before the loop (`list(qs)`): the node that evaluates it.
    pub evaluated_at: Option<Node<'t>>,
    /// Where the queryset is built (the dominating binding or the expression itself).
    pub built_at: usize,
    /// A later conditional rebinding adds calls we cannot see on every path.
    pub conditional: bool,
    /// Sliced to at most one row (`[:1]`): a loop over it is not N+1.
    pub single_row: bool,
    /// Names the queryset was reached through (`books` in `for b in books`).
    pub names: Vec<String>,
    /// Known only from a type hint (`books: QuerySet[Book]`, `author: Author`): a caller may
    /// pass something else.
    pub hinted: bool,
    /// Calls that later rebindings on some paths only add (`if x: qs = qs.prefetch_related(
    /// Prefetch("books", ...))`): what they load counts as loaded on some paths, so a fix
    /// adds none of it on every path (that would clash with a `Prefetch` there).
    pub branch_calls: Vec<ChainCall<'t>>,
    /// New lookups merge only into calls from here on (byte offset): a fix placed at the loop
    /// (see `LoopFacts::relocated`) leaves the calls where the queryset is built as they are.
    pub merge_from: usize,
    /// Joins the framework adds before the rows reach the code: an admin changelist's
    /// `list_select_related` (or its automatic `select_related()`) for an admin action.
    pub site_select: Vec<String>,
    pub site_select_all: bool,
    /// Known as a parameter of the function (typed `QuerySet[Book]`, or an admin action's
    /// `queryset`): a fix goes where the function uses it, as a new queryset.
    pub from_parameter: bool,
}

/// What a queryset already loads.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub select: Vec<String>,
    pub select_all: bool,
    pub prefetch: Vec<String>,
    /// A lookup we cannot read (a variable, `*args`): assume it may cover anything.
    pub unknown: bool,
    /// `fetch_mode(FETCH_PEERS)`: forward single-valued loads are batched already.
    pub fetch_peers: bool,
    /// `fetch_mode(RAISE)`: lazy loads raise; the author has decided.
    pub fetch_raise: bool,
}

impl Coverage {
    /// Does what the queryset already loads serve the path `lookup`? `multi`: the path crosses
    /// a multi-valued relation (only a prefetch serves it); `forward`: every step is a forward
    /// FK/one-to-one (FETCH_PEERS batches it); `forward_non_null`: a bare `select_related()`
    /// follows it.
    pub fn serves(&self, lookup: &str, multi: bool, forward: bool, forward_non_null: bool) -> bool {
        if self.unknown || self.fetch_raise {
            return true;
        }
        let serves = |l: &String| {
            let (l, subtree) = match l.strip_suffix('\u{1}') {
                Some(stripped) => (stripped, true),
                None => (l.as_str(), false),
            };
            l == lookup
                || l.starts_with(&format!("{lookup}__"))
                || (subtree && lookup.starts_with(&format!("{l}__")))
        };
        if self.prefetch.iter().any(serves) {
            return true;
        }
        if multi {
            return false;
        }
        if self.fetch_peers && forward {
            return true;
        }
        self.select.iter().any(serves) || (self.select_all && forward_non_null)
    }
}

impl<'t> Queryset<'t> {
    /// A queryset of `model` whose chain starts at `root`, an expression only a caller can read
    /// (`super().get_queryset(request)` in a view or a ModelAdmin); extend it with `push_call`.
    pub fn rooted(model: ModelId, root: Node<'t>) -> Queryset<'t> {
        Queryset {
            model,
            ambiguous: false,
            manager: None,
            calls: Vec::new(),
            insert_at: Some(root.end_byte()),
            iterator: None,
            evaluated_at: None,
            built_at: root.start_byte(),
            conditional: false,
            single_row: false,
            names: Vec::new(),
            hinted: false,
            branch_calls: Vec::new(),
            merge_from: 0,
            site_select: Vec::new(),
            site_select_all: false,
            from_parameter: false,
        }
    }

    /// The next call of a chain started with `rooted` (`.filter(...)` on top of it).
    pub fn push_call(&mut self, method: &str, node: Node<'t>) {
        self.calls.push(ChainCall {
            method: method.to_string(),
            node,
            custom: None,
            discarded: false,
        });
        self.insert_at = Some(node.end_byte());
    }

    pub fn has_call(&self, method: &str) -> bool {
        self.calls.iter().any(|c| c.method == method)
    }

    /// The first call that makes rows something other than model instances, if any.
    pub fn blocker(&self) -> Option<&ChainCall<'t>> {
        self.calls.iter().find(|c| {
            crate::django::BLOCKERS.contains(&c.method.as_str())
                || c.custom.as_ref().is_some_and(|m| m.blocks)
        })
    }

    /// The last `select_related`/`prefetch_related` call after which ours may be merged.
    pub fn last_call(&self, method: &str) -> Option<&ChainCall<'t>> {
        let reset = self.reset_index(method);
        self.calls
            .iter()
            .enumerate()
            .rev()
            .find(|(i, c)| {
                c.method == method
                    && !c.discarded
                    && reset.is_none_or(|r| *i > r)
                    && c.node.start_byte() >= self.merge_from
            })
            .map(|(_, c)| c)
    }

    /// Index of the last `method(None)` call, which clears earlier lookups.
    fn reset_index(&self, method: &str) -> Option<usize> {
        self.calls
            .iter()
            .rposition(|c| c.method == method && is_none_call(c.node))
    }

    pub fn coverage(&self, ctx: &FileContext) -> Coverage {
        let mut cov = Coverage::default();
        let select_reset = self.reset_index("select_related");
        let prefetch_reset = self.reset_index("prefetch_related");
        if let Some(manager) = &self.manager
            && let Some(m) = ctx.index.manager(self.model, manager)
        {
            if select_reset.is_none() {
                cov.select.extend(m.select_related.iter().cloned());
                cov.select_all |= m.select_related_all;
            }
            if prefetch_reset.is_none() {
                cov.prefetch.extend(m.prefetch_related.iter().cloned());
            }
        }
        cov.select.extend(self.site_select.iter().cloned());
        cov.select_all |= self.site_select_all;
        // Calls of rebindings on some paths count as loaded too; nothing clears them (they come
        // after the chain's own calls).
        let branch = self.branch_calls.iter().map(|c| (usize::MAX, c));
        for (i, call) in self.calls.iter().enumerate().chain(branch) {
            if let Some(custom) = &call.custom {
                if select_reset.is_none_or(|r| i > r) {
                    cov.select.extend(custom.select_related.iter().cloned());
                }
                if prefetch_reset.is_none_or(|r| i > r) {
                    cov.prefetch.extend(custom.prefetch_related.iter().cloned());
                }
                continue;
            }
            let args = call_args(call.node, ctx.src);
            match call.method.as_str() {
                "select_related" if select_reset.is_none_or(|r| i > r) => {
                    if args.splat {
                        cov.unknown = true;
                    }
                    if args.positional.is_empty() && !args.splat {
                        cov.select_all = true;
                    }
                    for a in &args.positional {
                        match string_value(*a, ctx.src) {
                            Some(s) => cov.select.push(s),
                            None if a.node_kind() == "none" => {}
                            None => cov.unknown = true,
                        }
                    }
                }
                "prefetch_related" if prefetch_reset.is_none_or(|r| i > r) => {
                    if args.splat {
                        cov.unknown = true;
                    }
                    for a in &args.positional {
                        match prefetch_lookup(*a, ctx.src) {
                            Some(s) => cov.prefetch.push(s),
                            None if a.node_kind() == "none" => {}
                            None => cov.unknown = true,
                        }
                    }
                }
                "fetch_mode" => {
                    let mode = args
                        .positional
                        .first()
                        .map(|a| text(*a, ctx.src))
                        .unwrap_or("");
                    if mode.ends_with("FETCH_PEERS") {
                        cov.fetch_peers = true;
                    } else if mode.ends_with("RAISE") {
                        cov.fetch_raise = true;
                    } else {
                        cov.unknown = true;
                    }
                }
                _ => {}
            }
        }
        cov
    }

    /// The attributes the queryset puts on its rows besides the model's own: annotation names,
    /// `extra(select=…)` keys and `Prefetch(…, to_attr=…)` lists. None when it may put others
    /// djopt cannot name (`annotate(**names)`, a custom method).
    pub fn provided_attrs(&self, src: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for call in self.calls.iter().chain(&self.branch_calls) {
            if call.custom.is_some() {
                return None;
            }
            let args = call_args(call.node, src);
            match call.method.as_str() {
                "annotate" => {
                    if args.splat {
                        return None;
                    }
                    out.extend(args.keywords.iter().map(|(name, _)| name.to_string()));
                }
                "extra" => {
                    let Some(select) = args.keyword("select") else {
                        continue;
                    };
                    if select.node_kind() != "dictionary" {
                        return None;
                    }
                    let mut cursor = select.walk();
                    for pair in select.named_children(&mut cursor) {
                        let key = pair
                            .child_by_field_id(crate::field!("key"))
                            .and_then(|k| string_value(k, src))?;
                        out.push(key);
                    }
                }
                "prefetch_related" => {
                    for a in &args.positional {
                        if a.node_kind() == "call"
                            && let Some(to_attr) = call_args(*a, src).keyword("to_attr")
                        {
                            out.push(string_value(to_attr, src)?);
                        }
                    }
                }
                _ => {}
            }
        }
        Some(out)
    }

    /// `only()`/`defer()` in the chain: adding `select_related` may clash with deferred FKs.
    pub fn defers_fields(&self) -> bool {
        self.has_call("only") || self.has_call("defer")
    }
}

fn is_none_call(call: Node) -> bool {
    call.child_by_field_id(crate::field!("arguments"))
        .and_then(|a| a.named_child(0))
        .is_some_and(|n| n.node_kind() == "none")
}

/// `"books"` or `Prefetch("books", ..., to_attr=...)` → the lookup it serves.
fn prefetch_lookup(node: Node, src: &str) -> Option<String> {
    if let Some(s) = string_value(node, src) {
        return Some(s);
    }
    if node.node_kind() == "call" {
        let args = call_args(node, src);
        if args.keyword("to_attr").is_some() {
            // Serves a different attribute; does not cover the relation itself.
            return Some(String::from("\u{0}to_attr"));
        }
        let lookup = args
            .keyword("lookup")
            .or_else(|| args.positional.first().copied())?;
        let lookup = string_value(lookup, src)?;
        // A custom queryset may load anything below the lookup: treat the subtree as served.
        let has_queryset = args.keyword("queryset").is_some() || args.positional.len() > 1;
        return Some(if has_queryset {
            format!("{lookup}\u{1}")
        } else {
            lookup
        });
    }
    None
}

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
                if object.node_kind() != "identifier" {
                    return None;
                }
                let Some(resolution) = self.ctx.model_named(text(object, src)) else {
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
        let (model, hinted) = self.instance(object, at, depth)?;
        let field = self.ctx.index.field(model, attr)?;
        if !field.kind.is_multi() {
            return None;
        }
        let target = field.target?;
        let manager = self
            .ctx
            .index
            .model(target)
            .managers
            .first()
            .map(|m| m.name.clone());
        Some(Queryset {
            manager,
            hinted,
            ..Queryset::rooted(target, expr)
        })
    }

    /// The model of one object bound to `ident`: `x = Model.objects.get(...)` (or `first()`,
    /// `last()`, `get_object_or_404(Model, ...)`), or a parameter typed `x: Model`.
    fn instance(&self, ident: Node<'t>, at: usize, depth: usize) -> Option<(ModelId, bool)> {
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
            return Some((self.ctx.model_named(&hint)?.id(), true));
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
            return Some((qs.model, qs.hinted));
        }
        let function = value.child_by_field_id(crate::field!("function"))?;
        if text(function, src) == "get_object_or_404" {
            let first = *call_args(value, src).positional.first()?;
            if first.node_kind() == "identifier" {
                return Some((self.ctx.model_named(text(first, src))?.id(), false));
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
            let mut qs = match super::sites::admin_action_queryset(self.ctx, dom.statement, name) {
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
