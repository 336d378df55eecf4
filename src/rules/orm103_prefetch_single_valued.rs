//! ORM103: `prefetch_related` of a lookup that is single-valued all the way.

use super::shared::edits::quoted_list;
use super::{Captures, Checker};
use crate::analysis::resolve::{QuerysetResolver, name_escapes, scope_of, use_escapes};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, Fix};
use crate::index::{FieldKind, ModelId, ProjectIndex};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, string_quote, string_value};
use crate::text::trigger::Trigger;

/// What the prefilter must see before this rule can find anything: a `prefetch_related` in a
/// scope with a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::WithQuerysetSource(prefetches)];

fn prefetches(part: &[u8]) -> bool {
    crate::finder!(b"prefetch_related").find(part).is_some()
}

/// Does `scope` compare two objects with `is`/`is not` (not with `None`, `True` or `False`)?
fn compares_identity(scope: tree_sitter::Node, src: &str) -> bool {
    let bytes = &src.as_bytes()[scope.start_byte()..scope.end_byte()];
    if crate::finder!(b" is ").find(bytes).is_none() {
        return false;
    }
    let mut found = false;
    crate::syntax::walk_named(scope, |n| {
        if n.node_kind() == "comparison_operator" {
            let mut cursor = n.walk();
            let children: Vec<tree_sitter::Node> = n.children(&mut cursor).collect();
            let identity = children
                .iter()
                .any(|c| !c.is_named() && matches!(c.kind(), "is" | "is not"));
            // `x is None`, `type(x) is RearPort`, `v is NOT_PROVIDED`: not objects of rows.
            let singleton = children.iter().filter(|c| c.is_named()).any(|c| {
                matches!(c.node_kind(), "none" | "true" | "false" | "ellipsis")
                    || (c.node_kind() == "identifier"
                        && crate::syntax::text(*c, src)
                            .starts_with(|ch: char| ch.is_ascii_uppercase()))
                    || (c.node_kind() == "call"
                        && c.child_by_field_id(crate::field!("function"))
                            .is_some_and(|f| crate::syntax::text(f, src) == "type"))
            });
            if identity && !singleton {
                found = true;
            }
        }
        !found
    });
    found
}

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let (Some(call), Some(method)) = (captures.get("call"), captures.get("method")) else {
        return;
    };
    let ctx = checker.ctx;
    let resolver = QuerysetResolver::new(ctx);
    let Some(qs) = resolver.resolve(call, call.start_byte()) else {
        return;
    };
    if qs.blocker().is_some()
        || qs.defers_fields()
        || later_calls_block(call, ctx.src)
        || only_values_read(call, ctx.src)
    {
        return;
    }
    // netbox: `interface.device.site is not site` is false for two interfaces of one site only
    // because the prefetch gives them one shared Site object; a join gives each row its own.
    // The prefetch may be what the code relies on: nothing to suggest.
    if compares_identity(crate::analysis::resolve::scope_of(call), ctx.src) {
        return;
    }
    let args = call_args(call, ctx.src);
    if args.splat || !args.keywords.is_empty() || args.positional.is_empty() {
        return;
    }
    if !args.positional.iter().all(|a| a.node_kind() == "string") {
        return; // Prefetch objects or variables: the lookups interact; leave them.
    }
    let lookups: Vec<Option<String>> = args
        .positional
        .iter()
        .map(|a| string_value(*a, ctx.src))
        .collect();
    let single: Vec<usize> = lookups
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l.as_deref()
                .is_some_and(|l| is_single_valued(ctx.index, qs.model, l))
        })
        .map(|(i, _)| i)
        .collect();
    if single.is_empty() {
        return;
    }
    let names: Vec<String> = single.iter().filter_map(|&i| lookups[i].clone()).collect();
    let quote = string_quote(args.positional[single[0]], ctx.src).unwrap_or(ctx.quote());
    let coverage = qs.coverage(ctx);
    let escapes = escapes(call, ctx.src);
    // The swap is plainly a win when every moved lookup is an inner join (non-null forward
    // keys all the way) and no project queryset method comes after (it may rely on the
    // prefetch, or add its own). Otherwise it is a suggestion to weigh, with the reason.
    let outer: Vec<&str> = names
        .iter()
        .filter(|l| !is_inner_join(ctx.index, qs.model, l))
        .map(String::as_str)
        .collect();
    let custom_after = later_custom_method(call, ctx.src);
    let applicability = if !outer.is_empty() || custom_after.is_some() {
        Applicability::Suggestion
    } else if qs.ambiguous || escapes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let locks = qs.has_call("select_for_update") || later_calls_lock(call, ctx.src);
    let fix = if coverage.select_all || locks {
        None
    } else if single.len() == args.positional.len() {
        Some(Fix::new(
            vec![Edit::replacement(
                method.start_byte(),
                method.end_byte(),
                "select_related",
            )],
            applicability,
            "Use `select_related` for these lookups".into(),
        ))
    } else {
        removal_edits(ctx.src, &args.positional, &single).map(|mut edits| {
            edits.push(Edit::insertion(
                call.end_byte(),
                format!(".select_related({})", quoted_list(&names, quote)),
            ));
            Fix::new(
                edits,
                applicability,
                format!(
                    "Move {} to `select_related(...)`",
                    quoted_list(&names, quote)
                ),
            )
        })
    };
    let first = args.positional[single[0]];
    let plural = if names.len() == 1 {
        "is a single-valued relation"
    } else {
        "are single-valued relations"
    };
    let note: String = if locks {
        " (no automatic fix: with `select_for_update()` a join would lock the related rows too)"
            .to_string()
    } else if coverage.select_all {
        " (no automatic fix: naming a path would turn off the bare `select_related()`'s other joins)".to_string()
    } else if let Some(method) = custom_after {
        format!(
            " (suggestion: the project's `{method}()` is applied after; it may rely on the prefetch or load the relation its own way)"
        )
    } else if !outer.is_empty() {
        format!(
            " (suggestion: {} can be null or absent, so the join is a LEFT OUTER JOIN that widens every row; worth it when most rows have one)",
            quoted_list(
                &outer.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                '"'
            )
        )
    } else if escapes {
        " (unsafe fix: the queryset is passed on or returned, where a caller's `only()` would clash with a join)".to_string()
    } else if qs.ambiguous {
        " (unsafe fix: the model name is defined more than once in the project)".to_string()
    } else {
        String::new()
    };
    // A swap that is not plainly a win is an optimization to weigh, not a finding.
    let kind = if fix.is_some() && applicability == Applicability::Suggestion {
        crate::diagnostic::Kind::Suggestion
    } else {
        crate::diagnostic::Kind::Finding
    };
    checker.report(Diagnostic {
        kind,
        rule: "ORM103",
        message: format!(
            "{} {plural}: `prefetch_related` runs an extra query where `select_related` joins it into this one{note}",
            quoted_list(&names, '"')
        ),
        start: first.start_byte(),
        end: first.end_byte(),
        also_suppressed_at: vec![call.start_byte()],
        fix,
    });
}

/// Every step of `lookup` is a ForeignKey, a OneToOneField or a reverse one-to-one.
pub fn is_single_valued(index: &ProjectIndex, model: ModelId, lookup: &str) -> bool {
    let mut current = model;
    for part in lookup.split("__") {
        let Some(field) = index.field(current, part) else {
            return false;
        };
        if !matches!(
            field.kind,
            FieldKind::ForeignKey | FieldKind::OneToOne | FieldKind::ReverseOneToOne
        ) {
            return false;
        }
        let Some(target) = field.target else {
            return false;
        };
        current = target;
    }
    true
}

/// Is every step of `lookup` a forward ForeignKey or OneToOneField that cannot be null, so
/// `select_related` joins it with an INNER JOIN (no row widened by NULL columns)?
fn is_inner_join(index: &ProjectIndex, model: ModelId, lookup: &str) -> bool {
    let mut current = model;
    for part in lookup.split("__") {
        let Some(field) = index.field(current, part) else {
            return false;
        };
        if !matches!(field.kind, FieldKind::ForeignKey | FieldKind::OneToOne) || field.null {
            return false;
        }
        let Some(target) = field.target else {
            return false;
        };
        current = target;
    }
    true
}

/// The first method chained after this call that is not Django's (a project queryset method
/// such as `.restrict(user)`), if any.
fn later_custom_method<'s>(call: tree_sitter::Node, src: &'s str) -> Option<&'s str> {
    let mut current = call;
    while let Some(attr) = current.parent() {
        if attr.node_kind() != "attribute"
            || attr.child_by_field_id(crate::field!("object")) != Some(current)
        {
            return None;
        }
        let outer = attr.parent().filter(|p| p.node_kind() == "call")?;
        let method = crate::syntax::text(attr.child_by_field_id(crate::field!("attribute"))?, src);
        let django = [
            crate::django::CHAIN_METHODS,
            crate::django::ENDS_CHAIN,
            crate::django::KEEPS_ROWS,
            crate::django::WRITE_METHODS,
        ]
        .iter()
        .any(|list| list.contains(&method));
        if !django {
            return Some(method);
        }
        current = outer;
    }
    None
}

/// Remove some arguments (with their separating comma); None if a comment is in the way.
fn removal_edits(src: &str, args: &[tree_sitter::Node], remove: &[usize]) -> Option<Vec<Edit>> {
    let mut edits = Vec::new();
    for &i in remove {
        let (start, end) = if i + 1 < args.len() {
            (args[i].start_byte(), args[i + 1].start_byte())
        } else {
            // The last argument: take the comma after the nearest argument that stays.
            let kept = (0..i).rev().find(|j| !remove.contains(j))?;
            (args[kept].end_byte(), args[i].end_byte())
        };
        if src[start..end].contains('#') {
            return None;
        }
        edits.push(Edit::replacement(start, end, ""));
    }
    // Adjacent removals (a, b removed in a row) overlap at their boundary only if both take the
    // same comma; merge them into one range.
    edits.sort();
    let mut merged: Vec<Edit> = Vec::new();
    for e in edits {
        if let Some(last) = merged.last_mut()
            && e.start <= last.end
        {
            last.end = last.end.max(e.end);
            continue;
        }
        merged.push(e);
    }
    Some(merged)
}

/// `select_for_update()` later in the chain: a join would lock the related rows too.
fn later_calls_lock(call: tree_sitter::Node, src: &str) -> bool {
    let mut current = call;
    while let Some(attr) = current.parent() {
        if attr.node_kind() != "attribute"
            || attr.child_by_field_id(crate::field!("object")) != Some(current)
        {
            return false;
        }
        let Some(outer) = attr.parent().filter(|p| p.node_kind() == "call") else {
            return false;
        };
        if attr
            .child_by_field_id(crate::field!("attribute"))
            .is_some_and(|a| crate::syntax::text(a, src) == "select_for_update")
        {
            return true;
        }
        current = outer;
    }
    false
}

/// Calls chained after this one that rule out `select_related` (`.values()`, `.union()`, `.only()`…).
fn later_calls_block(call: tree_sitter::Node, src: &str) -> bool {
    let mut current = call;
    while let Some(attr) = current.parent() {
        if attr.node_kind() != "attribute"
            || attr.child_by_field_id(crate::field!("object")) != Some(current)
        {
            break;
        }
        let Some(outer) = attr.parent().filter(|p| p.node_kind() == "call") else {
            break;
        };
        let method = attr
            .child_by_field_id(crate::field!("attribute"))
            .map(|a| crate::syntax::text(a, src))
            .unwrap_or("");
        if crate::django::NOT_WHOLE_ROWS.contains(&method) {
            return true;
        }
        current = outer;
    }
    false
}

/// `qs = X.objects.prefetch_related("author")` and every later use of `qs` is `qs.values(…)` or
/// `qs.values_list(…)`: the rows are never objects, and neither call loads anything.
fn only_values_read(call: tree_sitter::Node, src: &str) -> bool {
    let Some((name, assignment)) = assigned_name(call, src) else {
        return false;
    };
    let scope = scope_of(call);
    let mut uses = 0;
    let mut values = 0;
    crate::syntax::walk_named(scope, |n| {
        if n.node_kind() == "identifier"
            && crate::syntax::text(n, src) == name
            && n.start_byte() > assignment.end_byte()
        {
            uses += 1;
            let method = n
                .parent()
                .filter(|p| {
                    p.node_kind() == "attribute"
                        && p.child_by_field_id(crate::field!("object")) == Some(n)
                })
                .and_then(|p| p.child_by_field_id(crate::field!("attribute")))
                .map(|a| crate::syntax::text(a, src));
            if matches!(method, Some("values" | "values_list")) {
                values += 1;
            }
        }
        true
    });
    uses > 0 && uses == values
}

/// The name the queryset this call builds is assigned to, and the assignment.
fn assigned_name<'t>(
    call: tree_sitter::Node<'t>,
    src: &'t str,
) -> Option<(&'t str, tree_sitter::Node<'t>)> {
    let mut top = call;
    while let Some(parent) = top.parent() {
        let chained = (parent.node_kind() == "attribute"
            && parent.child_by_field_id(crate::field!("object")) == Some(top))
            || (parent.node_kind() == "call"
                && parent.child_by_field_id(crate::field!("function")) == Some(top))
            || (parent.node_kind() == "subscript"
                && parent.child_by_field_id(crate::field!("value")) == Some(top));
        if !chained {
            break;
        }
        top = parent;
    }
    let assignment = top.parent().filter(|p| p.node_kind() == "assignment")?;
    if assignment.child_by_field_id(crate::field!("right")) != Some(top) {
        return None;
    }
    let left = assignment
        .child_by_field_id(crate::field!("left"))
        .filter(|l| l.node_kind() == "identifier")?;
    Some((crate::syntax::text(left, src), assignment))
}

/// Is the queryset this call builds passed on, returned or refined with `only()` elsewhere?
/// (A caller's `only("title")` works with a prefetch of `author` but not with a join.)
fn escapes(call: tree_sitter::Node, src: &str) -> bool {
    if let Some((name, assignment)) = assigned_name(call, src) {
        return name_escapes(scope_of(call), name, assignment, src);
    }
    use_escapes(call, src)
}
