//! ORM105: `qs.prefetch_related(...)` as a bare statement does nothing.

use super::{Captures, Checker};
use crate::analysis::resolve::{QuerysetResolver, scope_of};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, Fix};
use crate::index::{FieldKind, ModelId, ProjectIndex};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, string_value, text};
use crate::text::trigger::Trigger;

/// What the prefilter must see before this rule can find anything: a statement that calls a
/// queryset method and keeps nothing, in a scope with a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::WithQuerysetSource(thrown_away_call)];

/// A line that is only `name.method(…` with a method that returns a new queryset.
pub fn thrown_away_call(part: &[u8]) -> bool {
    let word_end = |from: usize| {
        from + part[from..]
            .iter()
            .position(|&b| !crate::text::is_ident_byte(b))
            .unwrap_or(part.len() - from)
    };
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', part).map(|n| n + 1));
    line_starts.into_iter().any(|start| {
        let mut i = start;
        while i < part.len() && matches!(part[i], b' ' | b'\t' | b'\r' | b'\x0c') {
            i += 1;
        }
        if i >= part.len() || !crate::text::is_ident_byte(part[i]) || part[i].is_ascii_digit() {
            return false;
        }
        // `name.method(`, or along attributes from an object: `author.books.filter(` (not
        // `Book.objects.filter(`: a model's manager, which the rule leaves alone).
        let mut name_end = word_end(i);
        let capitalized = part[i].is_ascii_uppercase();
        for segment in 0..8 {
            if segment > 0 && capitalized {
                return false;
            }
            if part.get(name_end) != Some(&b'.') {
                return false;
            }
            let method_end = word_end(name_end + 1);
            if method_end == name_end + 1 {
                return false;
            }
            if part.get(method_end) == Some(&b'(') {
                return crate::django::RETURNS_QUERYSET
                    .iter()
                    .any(|m| m.as_bytes() == &part[name_end + 1..method_end])
                    && ends_the_statement(part, method_end);
            }
            name_end = method_end;
        }
        false
    })
}

/// Does the call whose `(` is at `open` end its line's statement (`x.filter(a=1)` but not
/// `Book.objects.filter(a=1).delete()`)? Brackets are counted; strings are not read (a bracket
/// in a string only makes the test say yes more often).
fn ends_the_statement(part: &[u8], open: usize) -> bool {
    let mut depth = 0usize;
    let mut i = open;
    while i < part.len() {
        match part[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let rest = &part[i + 1..];
                    let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    let tail = rest[..line_end].trim_ascii();
                    return tail.is_empty() || tail.starts_with(b"#") || tail.starts_with(b";");
                }
            }
            _ => {}
        }
        i += 1;
    }
    true
}

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let (Some(name), Some(method), Some(call), Some(statement)) = (
        captures.get("name"),
        captures.get("method"),
        captures.get("call"),
        captures.get("statement"),
    ) else {
        return;
    };
    let ctx = checker.ctx;
    let method = text(method, ctx.src);
    if !crate::django::RETURNS_QUERYSET.contains(&method) {
        return;
    }
    let resolver = QuerysetResolver::new(ctx);
    let Some(qs) = resolver.resolve(name, statement.start_byte()) else {
        return;
    };
    if name.node_kind() != "identifier" {
        // `author.books.filter(...)`, `Book.objects.values(...)`: nothing keeps the result, and
        // there is no name to assign it back to.
        let object = crate::syntax::dotted_name(name, ctx.src);
        // A related manager's (`author.books`), not a model's manager (`Book.objects.all()` is
        // how tests show that building a queryset runs no query).
        let of_model = name
            .child_by_field_id(crate::field!("object"))
            .and_then(|o| crate::syntax::dotted_name(o, ctx.src))
            .is_some_and(|o| ctx.model_named(&o).is_some());
        if object.is_none()
            || !qs.calls.is_empty()
            || of_model
            || counts_queries(statement, ctx.src)
        {
            return;
        }
        checker.report(Diagnostic {
            kind: crate::diagnostic::Kind::Finding,
            rule: checker.rule.meta.code.as_str(),
            message: format!(
                "`{}.{method}(...)` returns a new queryset and the result is thrown away, so it does nothing (no automatic fix: keep the result where it is needed, or remove the statement)",
                object.unwrap_or_default()
            ),
            start: call.start_byte(),
            end: call.end_byte(),
            also_suppressed_at: Vec::new(),
            fix: None,
        });
        return;
    }
    let var = text(name, ctx.src);
    let scope = scope_of(statement);
    if !used_after(scope, var, statement, ctx.src) {
        return;
    }
    let loads_only = matches!(method, "select_related" | "prefetch_related");
    let args = call_args(call, ctx.src);
    let valid = !args.splat
        && args.keywords.is_empty()
        && args.positional.iter().all(|a| {
            string_value(*a, ctx.src).is_some_and(|lookup| {
                valid_lookup(ctx.index, qs.model, &lookup, method == "select_related")
            })
        });
    let applicability = if !loads_only || !valid || qs.blocker().is_some() {
        Applicability::Suggestion
    } else if used_between(scope, var, qs.built_at, statement, ctx.src) || qs.ambiguous {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let fix = Fix::new(
        vec![Edit::insertion(statement.start_byte(), format!("{var} = "))],
        applicability,
        format!("Assign the result: `{var} = {var}.{method}(...)`"),
    );
    let consequence = if loads_only {
        "it loads nothing"
    } else {
        "it changes nothing (assigning it would change which rows come back: review)"
    };
    checker.report(Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: checker.rule.meta.code.as_str(),
        message: format!(
            "`{var}.{method}(...)` returns a new queryset and the result is thrown away, so {consequence}"
        ),
        start: call.start_byte(),
        end: call.end_byte(),
        also_suppressed_at: Vec::new(),
        fix: Some(fix),
    });
}

/// Is `statement` in a `with self.assertNumQueries(…)` block (or `assertRaises`, pytest-django's
/// `django_assert_num_queries`), where building a queryset is what the test shows?
fn counts_queries(statement: tree_sitter::Node, src: &str) -> bool {
    let mut at = statement.parent();
    while let Some(n) = at {
        if n.node_kind() == "with_statement" {
            let header_end = n
                .child_by_field_id(crate::field!("body"))
                .map_or(n.end_byte(), |b| b.start_byte());
            let header = &src[n.start_byte()..header_end];
            // `assertNumQueries(0)`, `assertRaises(ValueError)`: the statement is the test.
            if header.contains("assert") {
                return true;
            }
        }
        if matches!(n.node_kind(), "function_definition" | "class_definition") {
            return false;
        }
        at = n.parent();
    }
    false
}

/// Is `name` read after `statement` in the scope?
fn used_after(
    scope: tree_sitter::Node,
    name: &str,
    statement: tree_sitter::Node,
    src: &str,
) -> bool {
    let mut used = false;
    crate::syntax::walk_named(scope, |n| {
        if used || n.end_byte() <= statement.end_byte() && n.node_kind() == "identifier" {
            return !used;
        }
        if n.node_kind() == "identifier"
            && n.start_byte() >= statement.end_byte()
            && text(n, src) == name
        {
            used = true;
        }
        !used
    });
    used
}

/// Is `name` used between where the queryset is built and `statement` (evaluated already)?
fn used_between(
    scope: tree_sitter::Node,
    name: &str,
    built_at: usize,
    statement: tree_sitter::Node,
    src: &str,
) -> bool {
    let mut used = false;
    crate::syntax::walk_named(scope, |n| {
        if n.node_kind() == "identifier"
            && text(n, src) == name
            && n.start_byte() > built_at
            && n.end_byte() < statement.start_byte()
        {
            // The binding's own target does not count.
            let is_target = n.parent().is_some_and(|p| {
                p.node_kind() == "assignment"
                    && p.child_by_field_id(crate::field!("left")) == Some(n)
            });
            used |= !is_target;
        }
        !used
    });
    used
}

/// Does `lookup` name a path through the models (single-valued only, for `select_related`)?
fn valid_lookup(index: &ProjectIndex, model: ModelId, lookup: &str, single_only: bool) -> bool {
    let mut current = model;
    for part in lookup.split("__") {
        let Some(field) = index.field(current, part) else {
            return false;
        };
        if !field.kind.is_relation() || field.kind == FieldKind::GenericRelation && single_only {
            return false;
        }
        if single_only && !field.kind.is_single() {
            return false;
        }
        match field.target {
            Some(t) => current = t,
            None => return field.kind == FieldKind::GenericForeignKey && !single_only,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thrown_away_call_is_its_trigger() {
        assert!(thrown_away_call(
            b"def f(qs):\n    qs.prefetch_related('a')\n    return qs\n"
        ));
        assert!(thrown_away_call(b"    books.filter(x=1)\n"));
        assert!(thrown_away_call(b"    author.books.values('id')\n"));
        assert!(thrown_away_call(b"    self.books.filter(x=1)\n"));
        assert!(!thrown_away_call(b"    self.items.append(x)\n"));
        assert!(thrown_away_call(
            b"    author.books.filter(\n        x=(1, 2),\n    )\n"
        ));
        assert!(!thrown_away_call(
            b"    Book.objects.filter(x=1).delete()\n"
        ));
        assert!(!thrown_away_call(b"    qs.filter(x=1).exists()\n"));
        assert!(!thrown_away_call(b"    qs = qs.filter(x=1)\n"));
        assert!(!thrown_away_call(b"    self.assertEqual(a, b)\n"));
        assert!(!thrown_away_call(b"    return qs.filter(x=1)\n"));
    }
}
