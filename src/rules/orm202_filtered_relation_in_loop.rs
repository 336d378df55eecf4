//! ORM202: `row.books.filter(...)` (or exclude/order_by, then first/count/…) per row.

use super::shared::edits::{blocker_reason, loop_applicability, manager_blocks};
use super::shared::imports::db_models_names;
use super::shared::messages::{compact, no_fix};
use super::{Captures, Checker};
use crate::analysis::FileContext;
use crate::analysis::loops::{Access, LoopFacts};
use crate::analysis::resolve::scope_of;
use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, text, walk_named};
use crate::text::trigger::Trigger;
use tree_sitter::Node;

const NARROWING: &[&str] = &["filter", "exclude", "order_by"];

/// How the filtered rows are used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Rows,
    Count,
    Exists,
    First,
    Last,
}

/// `row.books.filter(a).order_by(b).first()` taken apart.
struct Chain<'t> {
    access: &'t Access<'t>,
    /// The relation (`row.books`).
    manager: Node<'t>,
    /// The last narrowing call (`….order_by(b)`).
    last_call: Node<'t>,
    use_: Use,
    /// The expression to replace.
    whole: Node<'t>,
}

/// What the prefilter must see before this rule can find anything: a loop over a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(facts) = checker.captured_loop(captures) else {
        return;
    };
    let loop_node = facts.loop_node;
    let qs = &facts.queryset;
    if qs.single_row || qs.blocker().is_some_and(|b| b.method.starts_with("values")) {
        return;
    }
    let ctx = checker.ctx;
    let chains: Vec<Chain> = facts
        .accesses
        .iter()
        .filter(|a| {
            a.manager_method
                .as_deref()
                .is_some_and(|m| NARROWING.contains(&m))
        })
        .filter_map(|a| chain(ctx, a))
        .collect();
    let Some(first) = chains.first() else {
        return;
    };
    let fix = build_fix(ctx, &facts, &chains);
    let model = &ctx.index.model(qs.model).name;
    let mut message = format!(
        "`{}` runs a query for each `{model}` row of the loop on line {}: a prefetch of `{}` does not serve `.{}()`; prefetch the filtered rows with `Prefetch(..., to_attr=...)`",
        compact(text(first.whole, ctx.src), 70, " "),
        loop_node.start_position().row + 1,
        first.access.lookup(),
        first.access.manager_method.as_deref().unwrap_or("filter"),
    );
    match &fix {
        Err(reason) => message.push_str(&no_fix(reason)),
        Ok(f) if f.applicability < crate::fix::Applicability::Safe => {
            if let (_, Some(reason)) = loop_applicability(ctx, &facts) {
                message.push_str(&super::shared::messages::unsafe_fix(&reason));
            }
        }
        Ok(_) => {}
    }
    checker.report(Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: checker.rule.meta.code.as_str(),
        message,
        start: first.whole.start_byte(),
        end: first.whole.end_byte(),
        also_suppressed_at: vec![loop_node.start_byte()],
        fix: fix.ok(),
    });
}

fn chain<'t>(ctx: &FileContext, access: &'t Access<'t>) -> Option<Chain<'t>> {
    let call = access.call?;
    let function = call.child_by_field_id(crate::field!("function"))?;
    let manager = function.child_by_field_id(crate::field!("object"))?;
    let mut last_call = call;
    let mut node = call;
    let mut use_ = Use::Rows;
    // Climb the chain: more narrowing calls, then at most one terminal call.
    while let Some(parent) = node.parent() {
        if parent.node_kind() != "attribute"
            || parent.child_by_field_id(crate::field!("object")) != Some(node)
        {
            break;
        }
        let method = text(
            parent.child_by_field_id(crate::field!("attribute"))?,
            ctx.src,
        );
        let outer = parent.parent().filter(|p| {
            p.node_kind() == "call"
                && p.child_by_field_id(crate::field!("function")) == Some(parent)
        })?;
        let no_args = call_args(outer, ctx.src).positional.is_empty()
            && call_args(outer, ctx.src).keywords.is_empty();
        match method {
            m if NARROWING.contains(&m) => {
                last_call = outer;
                node = outer;
            }
            "count" if no_args => {
                use_ = Use::Count;
                node = outer;
                break;
            }
            "exists" if no_args => {
                use_ = Use::Exists;
                node = outer;
                break;
            }
            "first" if no_args => {
                use_ = Use::First;
                node = outer;
                break;
            }
            "last" if no_args => {
                use_ = Use::Last;
                node = outer;
                break;
            }
            "all" if no_args => node = outer,
            _ => return None,
        }
    }
    let mut whole = node;
    if use_ == Use::Rows {
        // Iterated, listed, measured or tested: a list serves all of these.
        let parent = node.parent()?;
        let iterated = matches!(parent.node_kind(), "for_statement" | "for_in_clause")
            && parent.child_by_field_id(crate::field!("right")) == Some(node);
        let consumed = parent.node_kind() == "argument_list"
            && parent.named_child_count() == 1
            && parent
                .parent()
                .and_then(|c| c.child_by_field_id(crate::field!("function")))
                .is_some_and(|f| {
                    matches!(
                        text(f, ctx.src),
                        "list" | "len" | "bool" | "tuple" | "sorted" | "set"
                    )
                });
        let tested = matches!(
            parent.node_kind(),
            "if_statement" | "not_operator" | "boolean_operator" | "if_clause"
        );
        if !(iterated || consumed || tested) {
            return None;
        }
        whole = node;
    }
    Some(Chain {
        access,
        manager,
        last_call,
        use_,
        whole,
    })
}

fn build_fix(ctx: &FileContext, facts: &LoopFacts, chains: &[Chain]) -> Result<Fix, String> {
    let qs = &facts.queryset;
    if let Some(reason) = blocker_reason(qs) {
        return Err(reason);
    }
    if manager_blocks(ctx, qs) {
        return Err("the manager's get_queryset uses only()/values()/union()".into());
    }
    if facts.writes_in_body {
        return Err("the loop writes to the database, and a prefetch taken before it would not see the new rows".into());
    }
    let accesses: Vec<Access> = chains.iter().map(|c| c.access.clone()).collect();
    if let Some(reason) = crate::analysis::loops::stale_reason(ctx, facts, &accesses) {
        return Err(reason);
    }
    let insert_at = qs.insert_at.ok_or("there is no place to add the call")?;
    let scope = scope_of(facts.loop_node);
    let mut taken = taken_names(ctx, qs.model);
    let mut prefetches: Vec<(String, String)> = Vec::new(); // (key, to_attr)
    let mut args: Vec<String> = Vec::new();
    let mut rewrites = Vec::new();
    let (prefix, mut edits) = db_models_names(ctx, &["Prefetch"]);
    for chain in chains {
        if chain.access.path.len() != 1 {
            return Err("the relation is reached through another object".into());
        }
        let relation = &chain.access.path[0];
        let field = ctx
            .index
            .field(qs.model, relation)
            .ok_or("unknown relation")?;
        let target = field.target.ok_or("unknown related model")?;
        let local = ctx.local_name_for(target).ok_or_else(|| {
            format!(
                "`{}` is not imported in this file",
                ctx.index.model(target).name
            )
        })?;
        // `.filter(...)…` as written, after `row.books`.
        let narrowing = &ctx.src[chain.manager.end_byte()..chain.last_call.end_byte()];
        check_arguments(ctx, chain, scope, facts)?;
        let target_model = ctx.index.model(target);
        let manager = target_model
            .managers
            .first()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| "objects".into());
        let ordered = target_model.ordered || narrowing.contains("order_by");
        let needs_pk_order = matches!(chain.use_, Use::First | Use::Last) && !ordered;
        let queryset = format!(
            "{local}.{manager}{narrowing}{}",
            if needs_pk_order {
                format!(".order_by({q}pk{q})", q = ctx.quote())
            } else {
                String::new()
            }
        );
        let key = format!("{relation}\u{0}{queryset}");
        let to_attr = match prefetches.iter().find(|(k, _)| *k == key) {
            Some((_, attr)) => attr.clone(),
            None => {
                let attr = unique(&format!("{relation}_filtered"), &taken);
                taken.push(attr.clone());
                args.push(format!(
                    "{prefix}Prefetch({q}{relation}{q}, queryset={queryset}, to_attr={q}{attr}{q})",
                    q = ctx.quote()
                ));
                prefetches.push((key, attr.clone()));
                attr
            }
        };
        let row = text(
            chain
                .manager
                .child_by_field_id(crate::field!("object"))
                .ok_or("no row")?,
            ctx.src,
        );
        let list = format!("{row}.{to_attr}");
        let value = match chain.use_ {
            Use::Rows => list,
            Use::Count => format!("len({list})"),
            Use::Exists => format!("bool({list})"),
            Use::First => format!("({list}[0] if {list} else None)"),
            Use::Last => format!("({list}[-1] if {list} else None)"),
        };
        rewrites.push(Edit::replacement(
            chain.whole.start_byte(),
            chain.whole.end_byte(),
            value,
        ));
    }
    // Merge into an existing prefetch_related(...) call, or add one where the queryset is built.
    let existing = qs.last_call("prefetch_related").filter(|c| {
        let a = call_args(c.node, ctx.src);
        !a.splat && !a.positional.is_empty() && a.keywords.is_empty()
    });
    match existing {
        Some(call) => {
            let last = *call_args(call.node, ctx.src)
                .positional
                .last()
                .expect("checked");
            edits.push(Edit::insertion(
                last.end_byte(),
                format!(", {}", args.join(", ")),
            ));
        }
        None => edits.push(Edit::insertion(
            insert_at,
            format!(".prefetch_related({})", args.join(", ")),
        )),
    }
    if let Some(iterator) = qs.iterator {
        let a = call_args(iterator, ctx.src);
        if a.positional.is_empty() && a.keyword("chunk_size").is_none() {
            let list = iterator
                .child_by_field_id(crate::field!("arguments"))
                .ok_or("no arguments")?;
            let sep = if a.keywords.is_empty() { "" } else { ", " };
            edits.push(Edit::insertion(
                list.start_byte() + 1,
                format!("chunk_size=2000{sep}"),
            ));
        }
    }
    edits.extend(rewrites);
    let (applicability, _) = loop_applicability(ctx, facts);
    let attrs: Vec<String> = prefetches.iter().map(|(_, a)| format!("`{a}`")).collect();
    Ok(Fix::new(
        edits,
        applicability,
        format!(
            "Prefetch the filtered rows into {} and read the list",
            attrs.join(", ")
        ),
    ))
}

/// The filter must be the same for every row: no call, no loop variable, no name rebound in
/// the function (parameters are fine).
fn check_arguments(
    ctx: &FileContext,
    chain: &Chain,
    scope: Node,
    facts: &LoopFacts,
) -> Result<(), String> {
    // The argument lists of the narrowing calls, from `row.books.filter(…)` up to the last one.
    let mut lists = Vec::new();
    let mut call = chain.access.call.ok_or("no call")?;
    loop {
        lists.push(
            call.child_by_field_id(crate::field!("arguments"))
                .ok_or("no arguments")?,
        );
        if call == chain.last_call {
            break;
        }
        // Next call up: parent attribute, then its call.
        call = call
            .parent()
            .and_then(|attr| attr.parent())
            .filter(|c| c.node_kind() == "call")
            .ok_or("broken chain")?;
    }
    for list in lists {
        let mut problem: Option<String> = None;
        walk_named(list, |n| {
            match n.node_kind() {
                "call" | "await" | "lambda" | "named_expression" => {
                    problem = Some(format!(
                        "the filter calls `{}`",
                        compact(text(n, ctx.src), 70, " ")
                    ));
                }
                "identifier" => {
                    let parent = n.parent();
                    let is_keyword = parent.is_some_and(|p| {
                        p.node_kind() == "keyword_argument"
                            && p.child_by_field_id(crate::field!("name")) == Some(n)
                    });
                    let is_attribute_name = parent.is_some_and(|p| {
                        p.node_kind() == "attribute"
                            && p.child_by_field_id(crate::field!("attribute")) == Some(n)
                    });
                    let name = text(n, ctx.src);
                    if !is_keyword
                        && !is_attribute_name
                        && (name == facts.var || !stable_name(scope, name, ctx.src))
                    {
                        problem = Some(format!("the filter depends on `{name}`, which changes"));
                    }
                }
                _ => {}
            }
            problem.is_none()
        });
        if let Some(p) = problem {
            return Err(p);
        }
    }
    Ok(())
}

/// A name not rebound in the function: a module-level name, or a parameter never reassigned.
fn stable_name(scope: Node, name: &str, src: &str) -> bool {
    let mut rebound = false;
    walk_named(scope, |n| {
        if rebound {
            return false;
        }
        let binds = match n.node_kind() {
            "assignment" | "augmented_assignment" => n
                .child_by_field_id(crate::field!("left"))
                .is_some_and(|l| contains_name(l, name, src)),
            "for_statement" | "for_in_clause" => n
                .child_by_field_id(crate::field!("left"))
                .is_some_and(|l| contains_name(l, name, src)),
            "named_expression" => n
                .child_by_field_id(crate::field!("name"))
                .is_some_and(|l| text(l, src) == name),
            _ => false,
        };
        rebound |= binds;
        !rebound
    });
    !rebound
}

fn contains_name(target: Node, name: &str, src: &str) -> bool {
    let mut found = false;
    walk_named(target, |n| {
        found |= n.node_kind() == "identifier" && text(n, src) == name;
        !found
    });
    found
}

fn taken_names(ctx: &FileContext, model: crate::index::ModelId) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = Some(model);
    let mut hops = 0;
    while let Some(id) = current {
        let m = ctx.index.model(id);
        names.extend(m.fields.iter().map(|f| f.name.clone()));
        names.extend(m.members.iter().cloned());
        current = m.parent_ids.first().copied();
        hops += 1;
        if hops > 16 {
            break;
        }
    }
    names
}

fn unique(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|c| !taken.iter().any(|t| t == c))
        .expect("a free name")
}
