//! ORM101: a loop reads a single-valued relation of each row.

use super::queryset_edits::{add_lookups, loop_applicability};
use super::{Captures, Checker};
use crate::analysis::loops::{LoopFacts, missing_paths};
use crate::analysis::{Access, FileContext};
use crate::diagnostic::Diagnostic;
use crate::fix::Fix;

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(loop_node) = captures.get("loop") else {
        return;
    };
    let Some(facts) = checker.loop_facts(loop_node) else {
        return;
    };
    if facts
        .queryset
        .blocker()
        .is_some_and(|b| b.method.starts_with("values"))
        || facts.queryset.has_call("dates")
        || facts.queryset.has_call("datetimes")
    {
        return; // rows are dicts or tuples: nothing is loaded lazily
    }
    let ctx = checker.ctx;
    let coverage = facts.queryset.coverage(ctx);
    let (select, _) = missing_paths(&facts, &coverage);
    if select.is_empty() {
        return;
    }
    let lookups: Vec<String> = select.iter().map(|a| a.lookup()).collect();
    let fix = fix_for(ctx, &facts, &lookups, coverage.select_all);
    let diagnostic = loop_diagnostic(
        ctx,
        &facts,
        &select.iter().collect::<Vec<_>>(),
        "select_related",
        checker.rule.meta.code.as_str(),
        fix,
    );
    checker.report(diagnostic);
}

fn fix_for(
    ctx: &FileContext,
    facts: &LoopFacts,
    lookups: &[String],
    select_all: bool,
) -> Option<Fix> {
    let qs = &facts.queryset;
    if qs.blocker().is_some() || qs.defers_fields() || select_all {
        return None;
    }
    let (edits, message) = add_lookups(ctx, qs, "select_related", lookups)?;
    let (applicability, _) = loop_applicability(facts);
    Some(Fix::new(edits, applicability, message))
}

/// The finding for a loop: placed on the first read, naming every path it needs.
pub fn loop_diagnostic(
    ctx: &FileContext,
    facts: &LoopFacts,
    accesses: &[&Access],
    method: &str,
    code: &'static str,
    fix: Option<Fix>,
) -> Diagnostic {
    let first = accesses
        .iter()
        .min_by_key(|a| a.node.start_byte())
        .expect("called with at least one access");
    let (loop_line, _) = line_col(ctx, facts.loop_node.start_byte());
    let model = &ctx.index.model(facts.queryset.model).name;
    let reads: Vec<String> = accesses
        .iter()
        .map(|a| format!("`{}`", compact(ctx.text(a.node))))
        .collect();
    let verb = if reads.len() == 1 { "runs" } else { "run" };
    let lookups: Vec<String> = accesses
        .iter()
        .map(|a| format!("\"{}\"", a.lookup()))
        .collect();
    let mut message = format!(
        "{} {verb} a query for each `{model}` row of the loop on line {loop_line}; load {} with `{method}({})`",
        reads.join(", "),
        if lookups.len() == 1 { "it" } else { "them" },
        lookups.join(", ")
    );
    let qs = &facts.queryset;
    if fix.is_none() {
        if let Some(b) = qs.blocker() {
            message.push_str(&format!(" (no automatic fix after `.{}()`)", b.method));
        } else if qs.defers_fields() && method == "select_related" {
            message.push_str(" (no automatic fix: the queryset uses `only()`/`defer()`)");
        } else if method == "select_related" && qs.coverage(ctx).select_all {
            message.push_str(
                " (no automatic fix: a bare `select_related()` would stop joining other paths)",
            );
        }
    } else if let (_, Some(reason)) = loop_applicability(facts) {
        message.push_str(&format!(" (unsafe fix: {reason})"));
    }
    Diagnostic {
        rule: code,
        message,
        start: first.node.start_byte(),
        end: first.node.end_byte(),
        also_suppressed_at: vec![facts.loop_node.start_byte()],
        fix,
    }
}

fn line_col(ctx: &FileContext, offset: usize) -> (usize, usize) {
    let before = &ctx.src[..offset.min(ctx.src.len())];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    (line, 0)
}

fn compact(text: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join("");
    if collapsed.chars().count() > 60 {
        let cut: String = collapsed.chars().take(57).collect();
        format!("{cut}...")
    } else {
        collapsed
    }
}
