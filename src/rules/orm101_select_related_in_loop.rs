//! ORM101: a loop reads a single-valued relation of each row.

use super::shared::edits::{add_lookups, loop_applicability, manager_blocks};
use super::shared::loop_rule::loop_diagnostic;
use super::{Captures, Checker};
use crate::analysis::FileContext;
use crate::analysis::loops::{LoopFacts, missing_paths, stale_reason};
use crate::fix::Fix;
use crate::text::trigger::Trigger;

/// What the prefilter must see before this rule can find anything: a loop over a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(facts) = checker.captured_loop(captures) else {
        return;
    };
    if facts.queryset.single_row {
        return; // at most one row: nothing repeats
    }
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
    let fix = match stale_reason(ctx, &facts, &select) {
        Some(reason) => Err(reason),
        None => fix_for(ctx, &facts, &lookups, coverage.select_all),
    };
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
) -> Result<Fix, String> {
    let qs = &facts.queryset;
    if let Some(reason) = super::shared::edits::blocker_reason(qs) {
        return Err(reason);
    }
    // A ForeignKey left out by `only()` cannot be joined: list it there too.
    let only_edits = only_edits(ctx, qs, lookups)?;
    if select_all {
        return Err(
            "naming a path would turn off the bare `select_related()`'s other joins".into(),
        );
    }
    if manager_blocks(ctx, qs) {
        return Err("the manager's get_queryset uses only()/values()/union()".into());
    }
    if qs.has_call("select_for_update") {
        return Err("with `select_for_update()` a join would lock the related rows too".into());
    }
    let (mut edits, message) = add_lookups(ctx, qs, "select_related", lookups)
        .ok_or_else(|| "there is no place to add the call".to_string())?;
    edits.extend(only_edits);
    let (applicability, _) = loop_applicability(ctx, facts);
    Ok(Fix::new(edits, applicability, message))
}

/// With `only(...)` in the chain, the first step of each joined path must be listed there
/// (`only("title")` + `select_related("author")` raises FieldError); add what is missing.
fn only_edits(
    ctx: &FileContext,
    qs: &crate::analysis::Queryset,
    lookups: &[String],
) -> Result<Vec<crate::fix::Edit>, String> {
    if !qs.defers_fields() {
        return Ok(Vec::new());
    }
    let narrowing: Vec<_> = qs
        .calls
        .iter()
        .filter(|c| matches!(c.method.as_str(), "only" | "defer"))
        .collect();
    let [only] = narrowing.as_slice() else {
        return Err("the queryset uses `only()`/`defer()` more than once; a deferred ForeignKey cannot be joined".into());
    };
    if only.method != "only" {
        return Err("the queryset uses `defer()`; a deferred ForeignKey cannot be joined".into());
    }
    let args = crate::syntax::call_args(only.node, ctx.src);
    let listed: Option<Vec<String>> = args
        .positional
        .iter()
        .map(|a| crate::syntax::string_value(*a, ctx.src))
        .collect();
    let (Some(listed), false, true) = (listed, args.splat, args.keywords.is_empty()) else {
        return Err("the queryset's `only()` lookups cannot be read".into());
    };
    // Each step's ForeignKey lives on the model the previous steps reach; it is deferred when
    // only() restricts that model's fields and does not name the step.
    let mut missing: Vec<String> = Vec::new();
    for lookup in lookups {
        let hops: Vec<&str> = lookup.split("__").collect();
        for k in 1..=hops.len() {
            let step = hops[..k].join("__");
            let restricted = k == 1 || {
                let parent = hops[..k - 1].join("__");
                listed.iter().any(|l| l.starts_with(&format!("{parent}__")))
            };
            let named = listed
                .iter()
                .any(|l| *l == step || l.starts_with(&format!("{step}__")));
            if restricted && !named && !missing.contains(&step) {
                missing.push(step);
            }
        }
    }
    let Some(last) = args.positional.last() else {
        return Err("the queryset's `only()` has no lookups".into());
    };
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let quote = crate::syntax::string_quote(*last, ctx.src).unwrap_or(ctx.quote());
    let text: String = missing
        .iter()
        .map(|m| format!(", {quote}{m}{quote}"))
        .collect();
    Ok(vec![crate::fix::Edit::insertion(last.end_byte(), text)])
}
