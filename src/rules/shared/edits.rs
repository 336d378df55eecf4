//! Edits shared by the rules that add lookups to a queryset.

use crate::analysis::{FileContext, LoopFacts, Queryset};
use crate::fix::{Applicability, Edit};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, string_quote};

/// Edits that make `queryset` call `method` with `lookups` as well: merged into the last
/// existing call with plain string lookups, or a new call appended where the queryset is built.
pub fn add_lookups(
    ctx: &FileContext,
    queryset: &Queryset,
    method: &str,
    lookups: &[String],
) -> Option<(Vec<Edit>, String)> {
    let mut edits = Vec::new();
    let description;
    let existing = queryset.last_call(method).filter(|call| {
        let args = call_args(call.node, ctx.src);
        !args.splat
            && !args.positional.is_empty()
            && args.keywords.is_empty()
            && args.positional.iter().all(|a| a.node_kind() == "string")
    });
    if let Some(call) = existing {
        let args = call_args(call.node, ctx.src);
        let last = *args.positional.last()?;
        let quote = string_quote(last, ctx.src).unwrap_or(ctx.quote());
        edits.push(match one_per_line(ctx.src, call.node, &args.positional) {
            // `(\n    "a",\n    "b",\n)`: each new lookup on a line of its own, the same way.
            Some(indent) => {
                let le = if ctx.src.contains("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                let after = &ctx.src[last.end_byte()..];
                if after.trim_start().starts_with(',') {
                    let comma = last.end_byte() + after.find(',').expect("a comma");
                    let text: String = lookups
                        .iter()
                        .map(|l| format!("{le}{indent}{quote}{l}{quote},"))
                        .collect();
                    Edit::insertion(comma + 1, text)
                } else {
                    let text: String = lookups
                        .iter()
                        .map(|l| format!(",{le}{indent}{quote}{l}{quote}"))
                        .collect();
                    Edit::insertion(last.end_byte(), text)
                }
            }
            None => {
                let text: String = lookups
                    .iter()
                    .map(|l| format!(", {quote}{l}{quote}"))
                    .collect();
                Edit::insertion(last.end_byte(), text)
            }
        });
        description = format!(
            "Add {} to the existing `{method}(...)`",
            quoted_list(lookups, quote)
        );
    } else {
        let at = queryset.insert_at?;
        let quote = ctx.quote();
        let call = format!(".{method}({})", quoted_list(lookups, quote));
        description = format!("Add `{call}`");
        edits.push(Edit::insertion(at, call));
    }
    if method == "prefetch_related"
        && let Some(iterator) = queryset.iterator
    {
        // Django refuses prefetch_related() with iterator() unless chunk_size is given.
        let args = call_args(iterator, ctx.src);
        if args.positional.is_empty() && args.keyword("chunk_size").is_none() {
            let list = iterator.child_by_field_id(crate::field!("arguments"))?;
            let sep = if args.keywords.is_empty() { "" } else { ", " };
            edits.push(Edit::insertion(
                list.start_byte() + 1,
                format!("chunk_size=2000{sep}"),
            ));
        }
    }
    Some((edits, description))
}

/// The indentation of a call's arguments when each starts a line of its own below the call's
/// opening bracket (as ruff formats a call that does not fit, or one with a trailing comma).
fn one_per_line<'s>(
    src: &'s str,
    call: tree_sitter::Node,
    args: &[tree_sitter::Node],
) -> Option<&'s str> {
    let list = call.child_by_field_id(crate::field!("arguments"))?;
    let mut row = list.start_position().row;
    let mut indent = None;
    for arg in args {
        if arg.start_position().row <= row {
            return None;
        }
        row = arg.end_position().row;
        let line_start = src[..arg.start_byte()].rfind('\n').map_or(0, |i| i + 1);
        let own = &src[line_start..arg.start_byte()];
        if !own.chars().all(|c| c == ' ' || c == '\t') || indent.is_some_and(|i| i != own) {
            return None;
        }
        indent = Some(own);
    }
    indent
}

pub fn quoted_list(lookups: &[String], quote: char) -> String {
    lookups
        .iter()
        .map(|l| format!("{quote}{l}{quote}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why rows from this queryset cannot take new lookups, if they cannot.
pub fn blocker_reason(qs: &Queryset) -> Option<String> {
    // `self.books.all()`: perhaps a prefetch's rows, which a new queryset would throw away.
    if let Some(reason) = &qs.owner_prefetch
        && qs.calls.iter().all(|c| c.method == "all")
    {
        return Some(reason.clone());
    }
    let b = qs.blocker()?;
    Some(match &b.custom {
        Some(_) => format!(
            "`{}()` narrows the rows with only()/values()/union()",
            b.method
        ),
        None => format!("rows come from `.{}()`", b.method),
    })
}

/// The manager's `get_queryset` uses `only()`/`values()`/`union()`…: adding lookups may fail.
pub fn manager_blocks(ctx: &FileContext, queryset: &Queryset) -> bool {
    queryset
        .manager
        .as_deref()
        .and_then(|m| ctx.index.manager(queryset.model, m))
        .is_some_and(|m| m.blocks)
}

/// How safe a fix to a loop's queryset is, from what the loop does.
pub fn loop_applicability(ctx: &FileContext, facts: &LoopFacts) -> (Applicability, Option<String>) {
    let mut reasons: Vec<&'static str> = Vec::new();
    let manager_unknown = facts
        .queryset
        .manager
        .as_deref()
        .and_then(|m| ctx.index.manager(facts.queryset.model, m))
        .is_some_and(|m| !m.resolved);
    if manager_unknown {
        reasons.push("the manager's class is not in the project, so its get_queryset is unknown");
    }
    if facts.queryset.hinted {
        reasons
            .push("the queryset is known from a type hint only; a caller may pass something else");
    }
    if facts.escapes {
        reasons.push("the queryset is also passed on or returned, where a caller may change it");
    }
    if facts.queryset.ambiguous {
        reasons.push("the model name is defined more than once in the project");
    }
    if facts.is_async {
        reasons.push("under `async for` the lazy load raised `SynchronousOnlyOperation`");
    }
    if facts.writes_in_body {
        reasons.push(
            "the loop writes to the database, so related rows would be read before the write",
        );
    }
    if facts.parameter_reused {
        reasons.push("the rows come from a parameter the function uses again; the loop gets a queryset of its own, and the other uses query again");
    }
    if facts.branch_only && !facts.relocated {
        reasons.push("the loop runs on some paths only, and the queryset it reads is also used elsewhere; the fix loads the relations on the other paths too");
    }
    // `self.books.all()`: the rows may be a caller's prefetch, which a fix would throw away.
    if facts.queryset.self_relation && facts.queryset.calls.iter().all(|c| c.method == "all") {
        reasons.push("the rows are `self`'s related manager, which a caller may have prefetched; a queryset of its own would query again");
    }
    if facts.writes_between {
        reasons.push("the queryset is evaluated before the loop and something writes in between");
    }
    if reasons.is_empty() {
        (Applicability::Safe, None)
    } else {
        (Applicability::Unsafe, Some(reasons.join("; ")))
    }
}
