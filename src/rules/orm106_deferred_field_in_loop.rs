//! ORM106: a loop reads a column `only()`/`defer()` left out.

use super::{Captures, Checker};
use crate::analysis::{Access, ChainCall, FileContext, Queryset};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, Fix};
use crate::syntax::{call_args, string_quote, string_value};
use crate::text::trigger::Trigger;

/// What the prefilter must see before this rule can find anything: a loop over a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(facts) = checker.captured_loop(captures) else {
        return;
    };
    let loop_node = facts.loop_node;
    let ctx = checker.ctx;
    let qs = &facts.queryset;
    if qs.single_row || qs.blocker().is_some() {
        return;
    }
    let narrowing: Vec<&ChainCall> = qs
        .calls
        .iter()
        .filter(|c| matches!(c.method.as_str(), "only" | "defer"))
        .collect();
    let [call] = narrowing.as_slice() else {
        return;
    };
    let args = call_args(call.node, ctx.src);
    if args.splat || !args.keywords.is_empty() {
        return;
    }
    let Some(listed) = args
        .positional
        .iter()
        .map(|a| string_value(*a, ctx.src))
        .collect::<Option<Vec<String>>>()
    else {
        return;
    };
    let model = ctx.index.model(qs.model);
    let is_pk = |name: &str| name == "id" || name == "pk";
    // `only("author_id")` names the same column as `only("author")`.
    let names_column = |l: &String, name: &str| l == name || l.strip_suffix("_id") == Some(name);
    let deferred = |name: &str| -> bool {
        if is_pk(name) {
            return false;
        }
        match call.method.as_str() {
            "only" => !listed.iter().any(|l| names_column(l, name)),
            _ => listed.iter().any(|l| names_column(l, name)),
        }
    };
    let mut reads: Vec<&Access> = Vec::new();
    for access in facts
        .accesses
        .iter()
        .filter(|a| a.column && a.path.len() == 1)
    {
        let name = &access.path[0];
        if deferred(name) && !reads.iter().any(|r| r.path == access.path) {
            reads.push(access);
        }
    }
    let Some(first) = reads.first() else {
        return;
    };
    let names: Vec<String> = reads.iter().map(|r| r.path[0].clone()).collect();
    // A column read on some paths only (under an `if`, or in a method that reads it only
    // sometimes) may have been deferred on purpose: loading it for every row can cost more
    // than the queries it saves.
    let sometimes = names.iter().all(|name| {
        facts
            .accesses
            .iter()
            .filter(|a| a.column && a.path.len() == 1 && &a.path[0] == name)
            .all(|a| a.conditional)
    });
    let applicability = if sometimes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let fix = edits(ctx, qs, call, &listed, &names).map(|edits| {
        Fix::new(
            edits,
            applicability,
            format!("Load {} with the rows", quoted(&names)),
        )
    });
    let mut message = format!(
        "{} {} deferred by `.{}()`: reading {} runs a query for each `{}` row of the loop on line {}",
        quoted(&names),
        if names.len() == 1 { "is" } else { "are" },
        call.method,
        if names.len() == 1 { "it" } else { "them" },
        model.name,
        loop_node.start_position().row + 1
    );
    if sometimes && fix.is_some() {
        message.push_str(&format!(
            " (unsafe fix: {} read on some paths only; the `{}()` may be deliberate, and loading {} for every row can cost more than it saves)",
            if names.len() == 1 { "it is" } else { "they are" },
            call.method,
            if names.len() == 1 { "it" } else { "them" },
        ));
    }
    checker.report(Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: checker.rule.meta.code.as_str(),
        message,
        start: first.node.start_byte(),
        end: first.node.end_byte(),
        also_suppressed_at: vec![loop_node.start_byte()],
        fix,
    });
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Add the names to `only(...)`, or take them out of `defer(...)`.
fn edits(
    ctx: &FileContext,
    qs: &Queryset,
    call: &ChainCall,
    listed: &[String],
    names: &[String],
) -> Option<Vec<Edit>> {
    let args = call_args(call.node, ctx.src);
    if call.method == "only" {
        let last = *args.positional.last()?;
        let quote = string_quote(last, ctx.src).unwrap_or(ctx.quote());
        let text: String = names
            .iter()
            .map(|n| format!(", {quote}{n}{quote}"))
            .collect();
        return Some(vec![Edit::insertion(last.end_byte(), text)]);
    }
    // defer(...): keep the others, in their order and quotes.
    let kept: Vec<String> = args
        .positional
        .iter()
        .zip(listed)
        .filter(|(_, name)| !names.contains(name))
        .map(|(node, _)| crate::syntax::text(*node, ctx.src).to_string())
        .collect();
    let list = call.node.child_by_field_id(crate::field!("arguments"))?;
    let inner = &ctx.src[list.start_byte() + 1..list.end_byte() - 1];
    if inner.contains('#') {
        return None; // a comment inside: do not rewrite the argument list
    }
    if kept.is_empty() {
        // Nothing left to defer: the call goes (`Ping.objects.defer("body")` keeps a queryset
        // with `.all()`, as a manager is not iterable).
        let function = call.node.child_by_field_id(crate::field!("function"))?;
        let object = function.child_by_field_id(crate::field!("object"))?;
        let first_on_manager =
            qs.manager.is_some() && qs.calls.first().is_some_and(|c| c.node == call.node);
        if first_on_manager {
            let name = function.child_by_field_id(crate::field!("attribute"))?;
            return Some(vec![Edit::replacement(
                name.start_byte(),
                call.node.end_byte(),
                "all()",
            )]);
        }
        if ctx.src[object.end_byte()..call.node.end_byte()].contains('#') {
            return None;
        }
        return Some(vec![Edit::replacement(
            object.end_byte(),
            call.node.end_byte(),
            "",
        )]);
    }
    Some(vec![Edit::replacement(
        list.start_byte() + 1,
        list.end_byte() - 1,
        kept.join(", "),
    )])
}
