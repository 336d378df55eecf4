//! ORM107: a loop over a wide model reads a few columns: suggest `only(...)`.

use super::shared::edits::quoted_list;
use super::{Captures, Checker};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, Fix};
use crate::index::FieldKind;
use crate::syntax::NodeKind;
use crate::syntax::{text, walk_named};
use crate::text::trigger::Trigger;

/// A model is wide from this many columns on.
const WIDE: usize = 8;
/// A loop reads few columns up to this many.
const FEW: usize = 3;

/// What the prefilter must see before this rule can find anything: a loop over a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(facts) = checker.captured_loop(captures) else {
        return;
    };
    let loop_node = facts.loop_node;
    let ctx = checker.ctx;
    let qs = &facts.queryset;
    // `self.channel_set.all()` may be a caller's prefetch (healthchecks says so in a comment):
    // `.only()` would throw it away and query again.
    let maybe_prefetched = qs.self_relation && qs.calls.iter().all(|c| c.method == "all");
    // `powerfeeds` iterated twice (netbox's Rack.get_power_utilization): `.only()` where it is
    // built would cost the other loop a query per row for each column it reads.
    let used_again = qs.names.first().is_some_and(|name| {
        !crate::analysis::resolve::only_refined_and_iterated(
            crate::analysis::resolve::scope_of(loop_node),
            name,
            facts.iterable,
            ctx.src,
            &|_| false,
        )
    });
    if facts.escapes
        || maybe_prefetched
        || used_again
        || qs.hinted
        || qs.blocker().is_some()
        || qs.calls.iter().any(|c| {
            matches!(
                c.method.as_str(),
                "only" | "defer" | "select_related" | "prefetch_related" | "annotate" | "extra"
            ) || c.custom.is_some()
        })
    {
        return;
    }
    let model = ctx.index.model(qs.model);
    let columns = model
        .fields
        .iter()
        .filter(|f| {
            f.kind == FieldKind::Plain
                || matches!(f.kind, FieldKind::ForeignKey | FieldKind::OneToOne)
        })
        .count();
    if columns < WIDE || !model.parent_ids.is_empty() {
        return;
    }
    // Only columns of the row itself (not through a method, which may read anything later),
    // and the row never used whole.
    if facts
        .accesses
        .iter()
        .any(|a| !a.column || a.path.len() != 1 || a.via.is_some())
    {
        return;
    }
    let mut read: Vec<String> = Vec::new();
    for a in &facts.accesses {
        let name = a.path[0].clone();
        if name != "id" && name != "pk" && !read.contains(&name) {
            read.push(name);
        }
    }
    if read.is_empty()
        || read.len() > FEW
        || row_used_whole(loop_node, &facts.var, ctx.src)
        || reads_unknown_attribute(ctx, qs.model, loop_node, &facts.var)
    {
        return;
    }
    let Some(at) = qs.insert_at else {
        return;
    };
    let call = format!(".only({})", quoted_list(&read, ctx.quote()));
    let first = &facts.accesses[0];
    checker.report(Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: checker.rule.meta.code.as_str(),
        message: format!(
            "the loop on line {} reads {} of the {columns} columns of `{}`: `{call}` would load only those (review: a field read elsewhere would cost a query per row)",
            loop_node.start_position().row + 1,
            quoted_list(&read, '`'),
            model.name,
        ),
        start: first.node.start_byte(),
        end: first.node.end_byte(),
        also_suppressed_at: vec![loop_node.start_byte()],
        fix: Some(Fix::new(
            vec![Edit::insertion(at, call.clone())],
            Applicability::Suggestion,
            format!("Add `{call}`"),
        )),
    });
}

/// Does the loop read `row.<name>` where `name` is no field the index knows (`tree_id`, a
/// column django-mptt's metaclass adds; a method reading who knows what)? `only()` would
/// defer it, at a query per row.
fn reads_unknown_attribute(
    ctx: &crate::analysis::FileContext,
    model: crate::index::ModelId,
    loop_node: tree_sitter::Node,
    var: &str,
) -> bool {
    let src = ctx.src;
    let mut unknown = false;
    walk_named(loop_node, |n| {
        if unknown {
            return false;
        }
        if n.node_kind() == "attribute"
            && let (Some(object), Some(attr)) = (
                n.child_by_field_id(crate::field!("object")),
                n.child_by_field_id(crate::field!("attribute")),
            )
            && object.node_kind() == "identifier"
            && text(object, src) == var
        {
            let name = text(attr, src);
            // Django's own model methods and state read nothing a deferred column would cost.
            unknown = !matches!(
                name,
                "pk" | "id"
                    | "save"
                    | "delete"
                    | "refresh_from_db"
                    | "full_clean"
                    | "clean"
                    | "clean_fields"
                    | "get_deferred_fields"
                    | "_meta"
                    | "_state"
                    | "__class__"
            )
                // `audittrail_set`: Django's name for a reverse relation, not a column (the
                // index may not know it when the foreign key names a user model it cannot
                // resolve).
                && !name.ends_with("_set")
                && ctx.index.field(model, name).is_none()
                && !ctx.index.is_fk_attname(model, name);
        }
        true
    });
    unknown
}

/// Is the row variable used other than through `row.<attribute>`?
fn row_used_whole(loop_node: tree_sitter::Node, var: &str, src: &str) -> bool {
    let mut whole = false;
    walk_named(loop_node, |n| {
        if n.node_kind() == "identifier" && text(n, src) == var {
            let parent = n.parent();
            let is_object = parent.is_some_and(|p| {
                p.node_kind() == "attribute"
                    && p.child_by_field_id(crate::field!("object")) == Some(n)
            });
            let is_target = parent.is_some_and(|p| {
                matches!(p.node_kind(), "for_statement" | "for_in_clause")
                    && p.child_by_field_id(crate::field!("left")) == Some(n)
            });
            whole |= !is_object && !is_target;
        }
        !whole
    });
    whole
}
