//! ORM201: `.count()`/`.exists()` (or `len()`/truth of `.all()`) on a related manager per row.

use super::shared::edits::loop_applicability;
use super::shared::imports::db_models_names;
use super::shared::loop_rule::loop_diagnostic;
use super::{Captures, Checker};
use crate::analysis::FileContext;
use crate::analysis::loops::{Access, LoopFacts, is_covered};
use crate::fix::{Applicability, Edit, Fix};
use crate::index::FieldKind;
use crate::syntax::NodeKind;
use crate::syntax::{call_args, text};
use crate::text::trigger::Trigger;
use tree_sitter::Node;

/// What the body asks of the relation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Question {
    Count,
    Exists,
}

fn question(access: &Access) -> Option<Question> {
    match access.manager_method.as_deref()? {
        "count" | "len" => Some(Question::Count),
        "exists" | "bool" => Some(Question::Exists),
        _ => None,
    }
}

/// What the prefilter must see before this rule can find anything: a loop over a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(facts) = checker.captured_loop(captures) else {
        return;
    };
    let qs = &facts.queryset;
    if qs.single_row || qs.blocker().is_some_and(|b| b.method.starts_with("values")) {
        return;
    }
    let ctx = checker.ctx;
    let coverage = qs.coverage(ctx);
    let wanted: Vec<&Access> = facts
        .accesses
        .iter()
        .filter(|a| question(a).is_some() && !is_covered(a, &coverage))
        .filter(|a| {
            // `.count()` with arguments is not the related manager's count.
            a.call
                .is_none_or(|c| call_args(c, ctx.src).positional.is_empty())
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let fix = build_fix(ctx, &facts, &wanted);
    let method = "annotate";
    let accesses: Vec<Access> = wanted.iter().map(|a| (*a).clone()).collect();
    let refs: Vec<&Access> = accesses.iter().collect();
    let diagnostic = loop_diagnostic(
        ctx,
        &facts,
        &refs,
        method,
        checker.rule.meta.code.as_str(),
        fix,
    );
    checker.report(diagnostic);
}

/// One annotation the fix adds.
struct Annotation {
    /// `books:count` / `books:exists`: one annotation per relation and question.
    key: String,
    name: String,
    /// With `{p}` where the `django.db.models` prefix goes.
    expression: String,
}

fn build_fix(ctx: &FileContext, facts: &LoopFacts, wanted: &[&Access]) -> Result<Fix, String> {
    let qs = &facts.queryset;
    if let Some(reason) = super::shared::edits::blocker_reason(qs) {
        return Err(reason);
    }
    if qs.has_call("annotate") || qs.has_call("alias") {
        return Err("the queryset has annotations, which a new join could multiply".into());
    }
    if qs.has_call("select_for_update") {
        return Err("`select_for_update()` cannot be combined with the GROUP BY of a count".into());
    }
    if wanted.iter().any(|a| a.path.len() != 1) {
        return Err("the relation is reached through another object".into());
    }
    let insert_at = qs.insert_at.ok_or("there is no place to add the call")?;
    let index = ctx.index;
    let quote = ctx.quote();
    let mut applicability = loop_applicability(ctx, facts).0;
    let mut annotations: Vec<Annotation> = Vec::new();
    let mut rewrites: Vec<Edit> = Vec::new();
    let mut needed: Vec<&str> = Vec::new();
    let mut taken = existing_names(ctx, facts);
    for access in wanted {
        let relation = &access.path[0];
        let q = question(access).expect("filtered");
        let field = index.field(qs.model, relation).ok_or("unknown relation")?;
        let target = field.target.ok_or("unknown related model")?;
        let exists_with = (q == Question::Exists && field.kind != FieldKind::GenericRelation)
            .then(|| Some((ctx.local_name_for(target)?, field.remote_query.clone()?)))
            .flatten();
        let key = format!(
            "{relation}:{}",
            if exists_with.is_some() {
                "exists"
            } else {
                "count"
            }
        );
        let name = match annotations.iter().find(|a| a.key == key) {
            Some(a) => a.name.clone(),
            None => {
                let base = match exists_with {
                    Some(_) => format!("has_{relation}"),
                    None => format!("{relation}_count"),
                };
                let name = unique(&base, &taken);
                taken.push(name.clone());
                let expression = match &exists_with {
                    Some((local, remote)) => {
                        needed.extend(["Exists", "OuterRef"]);
                        format!(
                            "{{p}}Exists({local}.{}.filter({remote}={{p}}OuterRef({quote}pk{quote})))",
                            default_manager(ctx, target)
                        )
                    }
                    None => {
                        needed.push("Count");
                        format!("{{p}}Count({quote}{relation}{quote}, distinct=True)")
                    }
                };
                annotations.push(Annotation {
                    key,
                    name: name.clone(),
                    expression,
                });
                name
            }
        };
        if exists_with.is_none() {
            // `row.books.count()` goes through the related model's default manager.
            let manager_filters = index
                .model(target)
                .managers
                .first()
                .is_none_or(|m| m.filters || !m.resolved);
            let own_through = field.through.is_some()
                && matches!(
                    field.kind,
                    FieldKind::ManyToMany | FieldKind::ReverseManyToMany
                );
            if manager_filters || own_through {
                applicability = applicability.min(Applicability::Unsafe);
            }
        }
        rewrites.push(rewrite(ctx, access, q, exists_with.is_some(), &name)?);
    }
    needed.sort();
    needed.dedup();
    let (prefix, mut edits) = db_models_names(ctx, &needed);
    let args: Vec<String> = annotations
        .iter()
        .map(|a| format!("{}={}", a.name, a.expression.replace("{p}", &prefix)))
        .collect();
    edits.push(Edit::insertion(
        insert_at,
        format!(".annotate({})", args.join(", ")),
    ));
    edits.extend(rewrites);
    let names: Vec<String> = annotations
        .iter()
        .map(|a| format!("`{}`", a.name))
        .collect();
    Ok(Fix::new(
        edits,
        applicability,
        format!(
            "Annotate {} and read it instead of querying per row",
            names.join(", ")
        ),
    ))
}

/// Replace the question with the annotation: `a.books.count()` → `a.books_count`,
/// `len(a.books.all())` → `a.books_count`, `a.books.exists()` → `a.has_books` (or `… > 0`).
fn rewrite(
    ctx: &FileContext,
    access: &Access,
    q: Question,
    use_exists: bool,
    name: &str,
) -> Result<Edit, String> {
    let call = access.call.ok_or("no call to rewrite")?;
    let function = call
        .child_by_field_id(crate::field!("function"))
        .ok_or("no call")?;
    // row.books.<method> → the row expression.
    let manager = function
        .child_by_field_id(crate::field!("object"))
        .ok_or("no manager")?;
    let row = manager
        .child_by_field_id(crate::field!("object"))
        .ok_or("no row")?;
    let row_text = text(row, ctx.src);
    let target = match access.manager_method.as_deref() {
        Some("len") | Some("bool") if wrapper_call(call, ctx.src).is_some() => {
            wrapper_call(call, ctx.src).expect("checked")
        }
        _ => call,
    };
    let value = match (q, use_exists) {
        (Question::Count, _) | (Question::Exists, true) => format!("{row_text}.{name}"),
        (Question::Exists, false) => {
            // A truth test keeps working on an integer; `exists()`/`bool()` want a bool.
            match access.manager_method.as_deref() {
                Some("bool") if wrapper_call(call, ctx.src).is_none() => {
                    format!("{row_text}.{name}")
                }
                _ => format!("({row_text}.{name} > 0)"),
            }
        }
    };
    Ok(Edit::replacement(
        target.start_byte(),
        target.end_byte(),
        value,
    ))
}

/// `len(<call>)` / `bool(<call>)` around the call, if that is how it is used.
fn wrapper_call<'t>(call: Node<'t>, src: &str) -> Option<Node<'t>> {
    let list = call.parent().filter(|p| p.node_kind() == "argument_list")?;
    let outer = list.parent()?;
    let function = outer.child_by_field_id(crate::field!("function"))?;
    matches!(text(function, src), "len" | "bool").then_some(outer)
}

fn default_manager(ctx: &FileContext, model: crate::index::ModelId) -> String {
    ctx.index
        .model(model)
        .managers
        .first()
        .map(|m| m.name.clone())
        .unwrap_or_else(|| "objects".into())
}

/// Names the annotation must not take: fields, members, and annotations already in the chain.
fn existing_names(ctx: &FileContext, facts: &LoopFacts) -> Vec<String> {
    let model = ctx.index.model(facts.queryset.model);
    let mut names: Vec<String> = model.fields.iter().map(|f| f.name.clone()).collect();
    names.extend(model.members.iter().cloned());
    let mut current = Some(facts.queryset.model);
    let mut hops = 0;
    while let Some(id) = current {
        let m = ctx.index.model(id);
        names.extend(m.fields.iter().map(|f| f.name.clone()));
        names.extend(m.members.iter().cloned());
        current = m.parent_ids.first().copied();
        hops += 1;
        if hops > 16 {
            break;
        }
    }
    for call in &facts.queryset.calls {
        let args = call_args(call.node, ctx.src);
        names.extend(args.keywords.iter().map(|(k, _)| k.clone()));
    }
    names
}

fn unique(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|candidate| !taken.iter().any(|t| t == candidate))
        .expect("some suffix is free")
}
