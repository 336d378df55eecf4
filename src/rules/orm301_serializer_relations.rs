//! ORM301: a DRF serializer reads relations of each row that the queryset feeding it does not
//! load: a generic view or viewset (`serializer_class` + `queryset`/`get_queryset()`), or a
//! serializer called on a queryset with `many=True`.

use super::shared::framework::{call_fix, missing, report, site_coverage, site_fix};
use super::{Captures, Checker};
use crate::analysis::FileContext;
use crate::analysis::classes::ClassView;
use crate::analysis::resolve::QuerysetResolver;
use crate::analysis::sites::{Site, class_site, rows_are_not_instances};
use crate::fix::{Applicability, Fix};
use crate::index::frameworks::drf::{LIST_VIEWS, VIEWS, serializer_needs};
use crate::index::paths::{Cursor, Need};
use crate::syntax::{call_args, dotted_name, is_true, last_segment, unparen};
use crate::text::trigger::Trigger;
use tree_sitter::Node;

/// What the prefilter must see before this rule can find anything: a DRF view, or a
/// serializer over rows in a scope with a queryset.
pub const TRIGGERS: &[Trigger] = &[
    Trigger::SiteClass,
    Trigger::WithQuerysetSource(serializes_rows),
];

/// `SomeSerializer(rows, many=True)` (ORM301 reads it when `rows` is a queryset).
pub fn serializes_rows(part: &[u8]) -> bool {
    crate::finder!(b"many").find_iter(part).any(|at| {
        let mut i = at + 4;
        if crate::text::next_byte_at(part, &mut i) != Some(b'=') || part.get(i + 1) == Some(&b'=') {
            return false;
        }
        i += 1;
        crate::text::next_byte_at(part, &mut i);
        part[i..].starts_with(b"True")
    })
}

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    if let Some(class) = captures.get("class") {
        view_class(checker, class);
    } else if let Some(call) = captures.get("call") {
        serializer_call(checker, call);
    }
}

/// The serializer a (dotted) name in this file refers to.
fn serializer_named(ctx: &FileContext, dotted: &str) -> Option<usize> {
    let head = dotted.split('.').next().unwrap_or(dotted);
    let name = last_segment(dotted);
    let from = ctx.imports.iter().find(|i| i.local == head).map(|i| {
        if dotted.contains('.') {
            format!("{}.{}", i.module, i.name)
        } else {
            i.module.clone()
        }
    });
    let name = if dotted.contains('.') {
        name
    } else {
        ctx.imports
            .iter()
            .find(|i| i.local == head)
            .map_or(name, |i| i.name.as_str())
    };
    ctx.index
        .frameworks
        .serializer_named(&ctx.index.exports, name, &ctx.module, from.as_deref())
}

fn view_class<'a>(checker: &mut Checker<'_, 'a>, node: Node<'a>) {
    let ctx = checker.ctx;
    let Some(class) = ClassView::read(node, ctx.src) else {
        return;
    };
    let fw = &ctx.index.frameworks;
    let bases = fw.all_bases(&class.bases);
    if !bases.iter().any(|b| VIEWS.contains(&b.as_str())) {
        return;
    }
    let Some(serializer) = view_serializer(ctx, &class) else {
        return;
    };
    let Ok(site) = class_site(ctx, &class) else {
        return;
    };
    if let Site::Queryset(qs, _, _) = &site
        && rows_are_not_instances(qs)
    {
        return;
    }
    let s = &fw.serializers[serializer];
    if s.model.is_some_and(|m| m != site.model()) {
        return; // the serializer is for another model: nothing we can pair
    }
    let list = bases.iter().any(|b| LIST_VIEWS.contains(&b.as_str()));
    let mut needs = Vec::new();
    let mut opaque = Vec::new();
    let cursor = Cursor::root(site.model(), list);
    serializer_needs(ctx.index, serializer, &cursor, &mut needs, &mut opaque);
    let coverage = site_coverage(ctx, &site);
    let missing = missing(&needs, &coverage);
    if missing.is_empty() {
        return;
    }
    let subclassed = fw.subclassed.contains(&class.name);
    let fix = site_fix(ctx, &site, &missing, &coverage).map(|(edits, message, unsafe_reason)| {
        let reason = unsafe_reason.or(subclassed
            .then_some("a subclass of the view in the project may override `get_queryset()`"));
        let applicability = if reason.is_some() {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        };
        (Fix::new(edits, applicability, message), reason)
    });
    let model = &ctx.index.model(site.model()).name;
    let message = format!(
        "`{}` reads {} for each `{model}` row of `{}`; load {} with {}",
        s.name,
        missing.origins(),
        class.name,
        if missing.select.len() + missing.prefetch.len() == 1 {
            "it"
        } else {
            "them"
        },
        missing.calls()
    );
    report(checker, site.report_node(), message, fix);
}

/// `serializer_class = X`, or `get_serializer_class()` whose every `return` names the same class.
fn view_serializer(ctx: &FileContext, class: &ClassView) -> Option<usize> {
    if let Some(function) = class.method("get_serializer_class") {
        let returns = crate::syntax::returns(function.child_by_field_id(crate::field!("body"))?);
        let mut other = returns.bare;
        let mut names: Vec<String> = Vec::new();
        for value in returns.values {
            match dotted_name(unparen(value), ctx.src) {
                Some(name) => names.push(name),
                None => other = true,
            }
        }
        names.dedup();
        return match (names.as_slice(), other) {
            ([one], false) => serializer_named(ctx, one),
            _ => None,
        };
    }
    let (value, _) = class.attr("serializer_class")?;
    serializer_named(ctx, &dotted_name(value, ctx.src)?)
}

/// `BookSerializer(qs, many=True)`: the serializer reads every row of `qs`.
fn serializer_call<'a>(checker: &mut Checker<'_, 'a>, call: Node<'a>) {
    let ctx = checker.ctx;
    let Some(function) = call.child_by_field_id(crate::field!("function")) else {
        return;
    };
    let Some(callee) = dotted_name(function, ctx.src) else {
        return;
    };
    if !last_segment(&callee).ends_with("Serializer")
        && ctx.imports.iter().all(|i| i.local != callee)
    {
        return;
    }
    let Some(serializer) = serializer_named(ctx, &callee) else {
        return;
    };
    let args = call_args(call, ctx.src);
    if !args.keyword("many").is_some_and(is_true) {
        return;
    }
    let Some(rows) = args
        .keyword("instance")
        .or_else(|| args.positional.first().copied())
    else {
        return;
    };
    let resolver = QuerysetResolver::new(ctx);
    let Some(qs) = resolver.resolve(rows, call.start_byte()) else {
        return;
    };
    if qs.single_row || rows_are_not_instances(&qs) {
        return;
    }
    let s = &ctx.index.frameworks.serializers[serializer];
    if s.model.is_some_and(|m| m != qs.model) {
        return;
    }
    let mut needs: Vec<Need> = Vec::new();
    let mut opaque = Vec::new();
    serializer_needs(
        ctx.index,
        serializer,
        &Cursor::root(qs.model, true),
        &mut needs,
        &mut opaque,
    );
    let coverage = qs.coverage(ctx);
    let missing = missing(&needs, &coverage);
    if missing.is_empty() {
        return;
    }
    let fix = call_fix(ctx, &qs, call, &coverage, &missing);
    let model = &ctx.index.model(qs.model).name;
    let message = format!(
        "`{}` reads {} for each `{model}` row; load {} with {}",
        s.name,
        missing.origins(),
        if missing.select.len() + missing.prefetch.len() == 1 {
            "it"
        } else {
            "them"
        },
        missing.calls()
    );
    report(checker, rows, message, fix);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serializer_over_rows_is_its_trigger() {
        assert!(serializes_rows(b"BookSerializer(qs, many=True).data"));
        assert!(serializes_rows(b"BookSerializer(qs, many = True)"));
        assert!(!serializes_rows(b"BookSerializer(qs, many=False)"));
        assert!(!serializes_rows(b"many == True"));
    }
}
