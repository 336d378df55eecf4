//! A queryset as the analysis knows it: its model, the calls of its chain in order, where a
//! call can be added, and what it already loads (its coverage). Built by `resolve`.

use super::FileContext;
use crate::index::ModelId;
use crate::syntax::NodeKind;
use crate::syntax::{call_args, string_value, text};
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
    /// `self.books…` in a model method: a caller may have prefetched the relation, and then
    /// `.all()` reads the cache, which a queryset of its own would throw away.
    pub self_relation: bool,
    /// The rows are an object's related manager that may hold a prefetch (`self.books`, a
    /// parameter's, one prefetched before the loop): why `.all()` must stay as it is.
    pub owner_prefetch: Option<String>,
    /// `author.books…`: each row's ForeignKey back to `author` (`author`), which Django sets
    /// on every row it loads through the related manager (no query, whatever is read below).
    pub known_related: Option<String>,
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
            self_relation: false,
            owner_prefetch: None,
            known_related: None,
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
        // The object the related manager belongs to: one object for all rows, loaded already.
        if let Some(known) = &self.known_related {
            cov.prefetch.push(format!("{known}\u{1}"));
        }
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

pub(crate) fn is_none_call(call: Node) -> bool {
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
