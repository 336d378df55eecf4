//! ORM102: a loop iterates a multi-valued relation of each row.

use super::orm101_select_related_in_loop::loop_diagnostic;
use super::queryset_edits::{add_lookups, loop_applicability, manager_blocks};
use super::{Captures, Checker};
use crate::analysis::loops::{missing_generic, missing_paths};
use crate::fix::Fix;
use crate::text::trigger::Trigger;

/// What the prefilter must see before this rule can find anything: a loop over a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    prefetch_in_loop(checker, captures, false);
}

/// ORM102 (related managers) and ORM104 (GenericForeignKeys): lookups only a prefetch loads.
pub fn prefetch_in_loop<'a>(
    checker: &mut Checker<'_, 'a>,
    captures: &Captures<'_, 'a>,
    generic: bool,
) {
    let Some(loop_node) = captures.get("loop") else {
        return;
    };
    let Some(facts) = checker.loop_facts(loop_node) else {
        return;
    };
    if facts.queryset.single_row {
        return; // at most one row: nothing repeats
    }
    let qs = &facts.queryset;
    if qs.blocker().is_some_and(|b| b.method.starts_with("values"))
        || qs.has_call("dates")
        || qs.has_call("datetimes")
    {
        return;
    }
    let ctx = checker.ctx;
    let coverage = qs.coverage(ctx);
    let prefetch = if generic {
        missing_generic(&facts, &coverage)
    } else {
        missing_paths(&facts, &coverage).1
    };
    if prefetch.is_empty() {
        return;
    }
    let lookups: Vec<String> = prefetch.iter().map(|a| a.lookup()).collect();
    // A deferred ForeignKey at the start of a path cannot be followed.
    let starts_single = prefetch.iter().any(|a| {
        ctx.index
            .field(qs.model, &a.path[0])
            .is_some_and(|f| f.kind.is_single())
    });
    let fix = if let Some(reason) = super::queryset_edits::blocker_reason(qs) {
        Err(reason)
    } else if qs.defers_fields() && starts_single {
        Err("the queryset uses `only()`/`defer()`; a deferred ForeignKey cannot be followed".into())
    } else if facts.writes_in_body {
        Err("the loop writes to the database, and a prefetch taken before it would not see the new rows".into())
    } else if manager_blocks(ctx, qs) {
        Err("the manager's get_queryset uses only()/values()/union()".into())
    } else {
        add_lookups(ctx, qs, "prefetch_related", &lookups)
            .map(|(edits, message)| {
                let (applicability, _) = loop_applicability(ctx, &facts);
                Fix::new(edits, applicability, message)
            })
            .ok_or_else(|| "there is no place to add the call".to_string())
    };
    let diagnostic = loop_diagnostic(
        ctx,
        &facts,
        &prefetch.iter().collect::<Vec<_>>(),
        "prefetch_related",
        checker.rule.meta.code.as_str(),
        fix,
    );
    checker.report(diagnostic);
}
