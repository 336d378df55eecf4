//! What the loop rules share: the finding of a loop (placed on the first read, naming every
//! path), and the prefetch rule ORM102 and ORM104 both are.

use super::edits::{add_lookups, loop_applicability, manager_blocks};
use super::messages::{compact, no_fix, unsafe_fix};
use crate::analysis::loops::{LoopFacts, missing_generic, missing_paths, stale_reason};
use crate::analysis::{Access, FileContext};
use crate::diagnostic::Diagnostic;
use crate::fix::Fix;
use crate::rules::{Captures, Checker};

/// ORM102 (related managers) and ORM104 (GenericForeignKeys): lookups only a prefetch loads.
pub fn prefetch_in_loop<'a>(
    checker: &mut Checker<'_, 'a>,
    captures: &Captures<'_, 'a>,
    generic: bool,
) {
    let Some(facts) = checker.captured_loop(captures) else {
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
    let manager_called = lookups
        .iter()
        .find_map(|l| facts.manager_called_on(l).map(|a| a.lookup()));
    let fix = if let Some(reason) = super::edits::blocker_reason(qs) {
        Err(reason)
    } else if let Some(called) = manager_called {
        Err(format!(
            "`{called}(manager=...)` is called on the rows, and a prefetch would answer it from the default manager's cache (other rows, no custom queryset methods)"
        ))
    } else if qs.defers_fields() && starts_single {
        Err("the queryset uses `only()`/`defer()`; a deferred ForeignKey cannot be followed".into())
    } else if facts.writes_in_body {
        Err("the loop writes to the database, and a prefetch taken before it would not see the new rows".into())
    } else if let Some(reason) = stale_reason(ctx, &facts, &prefetch) {
        Err(reason)
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

/// The finding for a loop: placed on the first read, naming every path it needs.
pub fn loop_diagnostic(
    ctx: &FileContext,
    facts: &LoopFacts,
    accesses: &[&Access],
    method: &str,
    code: &'static str,
    fix: Result<Fix, String>,
) -> Diagnostic {
    let first = accesses
        .iter()
        .min_by_key(|a| a.node.start_byte())
        .expect("called with at least one access");
    // Tree-sitter counts rows as we do (`\n`); counting them here again made big files quadratic.
    let loop_line = facts.loop_node.start_position().row + 1;
    let model = &ctx.index.model(facts.queryset.model).name;
    let mut reads: Vec<String> = Vec::new();
    for a in accesses {
        let read = match &a.via {
            Some(member) => format!(
                "`{}` (through `{member}`)",
                compact(ctx.text(a.node), 60, "")
            ),
            None => format!("`{}`", compact(ctx.text(a.node), 60, "")),
        };
        if !reads.contains(&read) {
            reads.push(read);
        }
    }
    let verb = if reads.len() == 1 { "runs" } else { "run" };
    let mut lookups: Vec<String> = Vec::new();
    for a in accesses {
        let lookup = format!("\"{}\"", a.lookup());
        if !lookups.contains(&lookup) {
            lookups.push(lookup);
        }
    }
    let remedy = if method.starts_with("annotate") {
        // Counting rules: what to compute instead of what to load.
        format!("annotate the count of {} instead", lookups.join(", "))
    } else {
        format!(
            "load {} with `{method}({})`",
            if lookups.len() == 1 { "it" } else { "them" },
            lookups.join(", ")
        )
    };
    let mut message = format!(
        "{} {verb} a query for each `{model}` row of the loop on line {loop_line}; {remedy}",
        reads.join(", "),
    );
    match &fix {
        Err(reason) => message.push_str(&no_fix(reason)),
        Ok(f) if f.applicability < crate::fix::Applicability::Safe => {
            if let (_, Some(reason)) = loop_applicability(ctx, facts) {
                message.push_str(&unsafe_fix(&reason));
            }
        }
        Ok(_) => {}
    }
    Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: code,
        message,
        start: first.node.start_byte(),
        end: first.node.end_byte(),
        also_suppressed_at: vec![facts.loop_node.start_byte()],
        fix: fix.ok(),
    }
}
