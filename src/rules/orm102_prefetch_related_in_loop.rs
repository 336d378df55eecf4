//! ORM102: a loop iterates a multi-valued relation of each row.

use super::orm101_select_related_in_loop::loop_diagnostic;
use super::queryset_edits::{add_lookups, loop_applicability};
use super::{Captures, Checker};
use crate::analysis::loops::missing_paths;
use crate::fix::Fix;

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(loop_node) = captures.get("loop") else {
        return;
    };
    let Some(facts) = checker.loop_facts(loop_node) else {
        return;
    };
    let qs = &facts.queryset;
    if qs.blocker().is_some_and(|b| b.method.starts_with("values"))
        || qs.has_call("dates")
        || qs.has_call("datetimes")
    {
        return;
    }
    let ctx = checker.ctx;
    let coverage = qs.coverage(ctx);
    let (_, prefetch) = missing_paths(&facts, &coverage);
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
    let fix = if qs.blocker().is_some() || (qs.defers_fields() && starts_single) {
        None
    } else {
        add_lookups(ctx, qs, "prefetch_related", &lookups).map(|(edits, message)| {
            let (applicability, _) = loop_applicability(&facts);
            Fix::new(edits, applicability, message)
        })
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
