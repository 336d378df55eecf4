//! ORM303: a template reads relations of each row of a queryset a view passes it, and the
//! view does not load them. Function views (`render()`, `TemplateResponse`,
//! `render_to_string()`) and `ListView`/`DetailView` classes; the template is read through the
//! index (found with the settings' `TEMPLATES`).

use super::shared::framework::{
    call_fix, manager_coverage, missing, new_queryset_text, report, site_coverage, site_fix,
};
use super::{Captures, Checker};
use crate::analysis::classes::ClassView;
use crate::analysis::resolve::QuerysetResolver;
use crate::analysis::sites::{Site, class_site, rows_are_not_instances};
use crate::analysis::{FileContext, Queryset};
use crate::fix::{Applicability, Edit, Fix};
use crate::index::frameworks::follow;
use crate::index::frameworks::templates::TemplateRead;
use crate::index::paths::{Cursor, Need};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, method_call, string_value, text, unparen};
use crate::text::trigger::Trigger;
use tree_sitter::Node;

/// What the prefilter must see before this rule can find anything: a list or detail view, or
/// a call that renders a template of the project.
pub const TRIGGERS: &[Trigger] = &[Trigger::SiteClass, Trigger::RendersTemplate];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    if !checker.ctx.index.frameworks.templates.configured {
        return;
    }
    if let Some(class) = captures.get("class") {
        class_view(checker, class);
    } else if let Some(call) = captures.get("call") {
        render_call(checker, call);
    }
}

/// `render(request, "t.html", {"books": qs})` and its kin.
fn render_call<'a>(checker: &mut Checker<'_, 'a>, call: Node<'a>) {
    let ctx = checker.ctx;
    let Some(function) = call.child_by_field_id(crate::field!("function")) else {
        return;
    };
    let name = match function.node_kind() {
        "attribute" => function
            .child_by_field_id(crate::field!("attribute"))
            .map(|a| text(a, ctx.src)),
        _ => Some(text(function, ctx.src)),
    };
    let args = call_args(call, ctx.src);
    let (template, context) = match name {
        Some("render" | "TemplateResponse") => (
            args.keyword("template_name")
                .or(args.keyword("template"))
                .or(args.positional.get(1).copied()),
            args.keyword("context").or(args.positional.get(2).copied()),
        ),
        Some("render_to_string") => (
            args.keyword("template_name")
                .or(args.positional.first().copied()),
            args.keyword("context").or(args.positional.get(1).copied()),
        ),
        _ => return,
    };
    let (Some(template), Some(context)) = (template, context) else {
        return;
    };
    let Some(template) = template_name(ctx, template) else {
        return;
    };
    let Some(entries) = context_entries(ctx, call, context) else {
        return;
    };
    let roots: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
    let reads = ctx.index.frameworks.templates.reads(&template, &roots);
    for (key, value) in entries {
        context_value(checker, call, &template, &key, value, &reads);
    }
}

/// A literal template name, or the first of a list that exists.
fn template_name(ctx: &FileContext, node: Node) -> Option<String> {
    let node = unparen(node);
    if let Some(s) = string_value(node, ctx.src) {
        return Some(s);
    }
    if matches!(node.node_kind(), "list" | "tuple") {
        let mut cursor = node.walk();
        let names: Vec<String> = node
            .named_children(&mut cursor)
            .filter_map(|n| string_value(n, ctx.src))
            .collect();
        return names
            .into_iter()
            .find(|n| ctx.index.frameworks.templates.get(n).is_some());
    }
    None
}

/// The string keys of a context: a dict literal, `dict(k=v)`, or a name bound once to one in
/// the function (with `ctx["k"] = v` added after).
fn context_entries<'t>(
    ctx: &FileContext,
    call: Node<'t>,
    context: Node<'t>,
) -> Option<Vec<(String, Node<'t>)>> {
    let context = unparen(context);
    let src = ctx.src;
    match context.node_kind() {
        "dictionary" => {
            let mut out = Vec::new();
            let mut cursor = context.walk();
            for pair in context.named_children(&mut cursor) {
                if pair.node_kind() == "pair"
                    && let (Some(k), Some(v)) = (
                        pair.child_by_field_id(crate::field!("key"))
                            .and_then(|k| string_value(k, src)),
                        pair.child_by_field_id(crate::field!("value")),
                    )
                {
                    out.push((k, v));
                }
            }
            Some(out)
        }
        "call"
            if context
                .child_by_field_id(crate::field!("function"))
                .is_some_and(|f| text(f, src) == "dict") =>
        {
            Some(call_args(context, src).keywords.into_iter().collect())
        }
        "identifier" => {
            let name = text(context, src);
            let function = crate::syntax::enclosing_function(call)?;
            let body = function.child_by_field_id(crate::field!("body"))?;
            let mut value = None;
            let mut extra = Vec::new();
            let mut cursor = body.walk();
            for stmt in body.named_children(&mut cursor) {
                if stmt.start_byte() >= call.start_byte() {
                    break;
                }
                let Some(assign) = stmt
                    .named_child(0)
                    .filter(|a| a.node_kind() == "assignment")
                else {
                    continue;
                };
                let (Some(left), Some(right)) = (
                    assign.child_by_field_id(crate::field!("left")),
                    assign.child_by_field_id(crate::field!("right")),
                ) else {
                    continue;
                };
                if left.node_kind() == "identifier" && text(left, src) == name {
                    value = Some(right);
                    extra.clear();
                } else if left.node_kind() == "subscript"
                    && left
                        .child_by_field_id(crate::field!("value"))
                        .is_some_and(|v| text(v, src) == name)
                    && let Some(key) = left
                        .child_by_field_id(crate::field!("subscript"))
                        .and_then(|k| string_value(k, src))
                {
                    extra.push((key, right));
                }
            }
            let value = unparen(value?);
            if value.node_kind() == "identifier" {
                return None;
            }
            let mut out = context_entries(ctx, call, value)?;
            out.extend(extra);
            Some(out)
        }
        _ => None,
    }
}

/// One context variable: a queryset (rows) or one object of a queryset.
fn context_value<'a>(
    checker: &mut Checker<'_, 'a>,
    call: Node<'a>,
    template: &str,
    key: &str,
    value: Node<'a>,
    reads: &[TemplateRead],
) {
    let ctx = checker.ctx;
    let Some(Source { qs, rows, shortcut }) = value_source(ctx, value, call.start_byte()) else {
        return;
    };
    if qs.single_row && rows || rows_are_not_instances(&qs) {
        return;
    }
    let needs = template_needs(ctx, qs.model, rows, key, reads);
    let coverage = match shortcut {
        Some(_) => manager_coverage(ctx, qs.model),
        None => qs.coverage(ctx),
    };
    let missing = missing(&needs, &coverage);
    if missing.is_empty() {
        return;
    }
    if let Some(model_arg) = shortcut {
        // `get_object_or_404(Book, pk=pk)` → `get_object_or_404(Book.objects.prefetch_related(...), pk=pk)`
        let name = text(model_arg, ctx.src);
        let fix = if coverage.select_all && !missing.select.is_empty() {
            Err("naming a path would turn off the bare `select_related()`'s other joins".into())
        } else if ctx
            .index
            .model(qs.model)
            .managers
            .first()
            .is_some_and(|m| m.blocks)
        {
            Err("the manager's get_queryset uses only()/values()/union()".into())
        } else {
            let replacement = new_queryset_text(ctx, qs.model, name, &missing);
            let reason = ctx
                .index
                .model(qs.model)
                .managers
                .first()
                .is_some_and(|m| !m.resolved)
                .then_some(
                    "the manager's class is not in the project, so its get_queryset is unknown",
                );
            let applicability = if reason.is_some() {
                Applicability::Unsafe
            } else {
                Applicability::Safe
            };
            Ok((
                Fix::new(
                    vec![Edit::replacement(
                        model_arg.start_byte(),
                        model_arg.end_byte(),
                        replacement.clone(),
                    )],
                    applicability,
                    format!("Pass `{replacement}`"),
                ),
                reason,
            ))
        };
        let message = message(ctx, template, key, qs.model, rows, &missing);
        report(checker, value, message, fix);
        return;
    }
    let fix = call_fix(ctx, &qs, call, &coverage, &missing);
    let message = message(ctx, template, key, qs.model, rows, &missing);
    report(checker, value, message, fix);
}

fn message(
    ctx: &FileContext,
    template: &str,
    key: &str,
    model: crate::index::ModelId,
    rows: bool,
    missing: &super::shared::framework::Missing,
) -> String {
    let model = &ctx.index.model(model).name;
    let what = if rows {
        format!("for each `{model}` row of `{key}`")
    } else {
        format!("for each related row of the `{model}` in `{key}`")
    };
    format!(
        "template `{template}` reads {} {what}; load {} with {}",
        missing.origins(),
        if missing.select.len() + missing.prefetch.len() == 1 {
            "it"
        } else {
            "them"
        },
        missing.calls()
    )
}

/// Where a context value comes from.
struct Source<'t> {
    qs: Queryset<'t>,
    /// Its rows (true), or one object of it (`Book.objects.get(pk=1)`).
    rows: bool,
    /// `get_object_or_404(Book, ...)`: the model argument, replaced by a queryset to fix it.
    shortcut: Option<Node<'t>>,
}

/// A queryset, one object of one, or the result of `get_object_or_404(Model, ...)` /
/// `get_list_or_404(Model, ...)`; through a name bound once in the function.
fn value_source<'t>(ctx: &FileContext<'t>, value: Node<'t>, at: usize) -> Option<Source<'t>> {
    value_source_depth(ctx, value, at, 0)
}

fn value_source_depth<'t>(
    ctx: &FileContext<'t>,
    value: Node<'t>,
    at: usize,
    depth: usize,
) -> Option<Source<'t>> {
    let resolver = QuerysetResolver::new(ctx);
    let value = unparen(value);
    if let Some(qs) = resolver.resolve(value, at) {
        return Some(Source {
            qs,
            rows: true,
            shortcut: None,
        });
    }
    if value.node_kind() == "identifier" && depth < 4 {
        let bound = single_binding(ctx, value)?;
        return value_source_depth(ctx, bound, bound.start_byte(), depth + 1);
    }
    if let Some((object, method)) = method_call(value, ctx.src) {
        if !crate::django::ONE_OBJECT.contains(&method.as_str()) {
            return None;
        }
        return Some(Source {
            qs: resolver.resolve(object, at)?,
            rows: false,
            shortcut: None,
        });
    }
    let function = value.child_by_field_id(crate::field!("function"))?;
    let rows = match text(function, ctx.src) {
        "get_object_or_404" | "shortcuts.get_object_or_404" => false,
        "get_list_or_404" | "shortcuts.get_list_or_404" => true,
        _ => return None,
    };
    let first = *call_args(value, ctx.src).positional.first()?;
    if let Some(qs) = resolver.resolve(first, at) {
        return Some(Source {
            qs,
            rows,
            shortcut: None,
        });
    }
    if first.node_kind() != "identifier" {
        return None;
    }
    let model = ctx.model_named(text(first, ctx.src))?.id();
    Some(Source {
        qs: Queryset::rooted(model, first),
        rows,
        shortcut: Some(first),
    })
}

/// The value of the only assignment to a name in its function, made before it is used.
fn single_binding<'t>(ctx: &FileContext<'t>, ident: Node<'t>) -> Option<Node<'t>> {
    let name = text(ident, ctx.src);
    let function = crate::syntax::enclosing_function(ident)?;
    let body = function.child_by_field_id(crate::field!("body"))?;
    let mut values = Vec::new();
    let mut other = false;
    crate::syntax::walk_named(body, |n| {
        if matches!(
            n.node_kind(),
            "function_definition" | "class_definition" | "lambda"
        ) {
            return false;
        }
        if n.node_kind() == "assignment"
            && let Some(left) = n.child_by_field_id(crate::field!("left"))
        {
            if left.node_kind() == "identifier" && text(left, ctx.src) == name {
                match n.child_by_field_id(crate::field!("right")) {
                    Some(v) if n.start_byte() < ident.start_byte() => values.push(v),
                    _ => other = true,
                }
            } else if left.node_kind() != "identifier" {
                let mut binds = false;
                crate::syntax::walk_named(left, |m| {
                    binds |= m.node_kind() == "identifier" && text(m, ctx.src) == name;
                    true
                });
                other |= binds;
            }
        }
        // Other ways to bind it: loop targets, `with … as`, `+=`, walrus.
        let target = match n.node_kind() {
            "for_statement" | "for_in_clause" | "augmented_assignment" => {
                n.child_by_field_id(crate::field!("left"))
            }
            "as_pattern" => n.child_by_field_id(crate::field!("alias")),
            "named_expression" => n.child_by_field_id(crate::field!("name")),
            _ => None,
        };
        if let Some(t) = target {
            crate::syntax::walk_named(t, |m| {
                other |= m.node_kind() == "identifier" && text(m, ctx.src) == name;
                true
            });
        }
        true
    });
    match (values.as_slice(), other) {
        ([one], false) => Some(*one),
        _ => None,
    }
}

/// What the template reads from `key`, as paths from `model`.
fn template_needs(
    ctx: &FileContext,
    model: crate::index::ModelId,
    rows: bool,
    key: &str,
    reads: &[TemplateRead],
) -> Vec<Need> {
    let mut needs = Vec::new();
    let cursor = Cursor::root(model, false);
    for r in reads.iter().filter(|r| r.root == key) {
        let names = &r.read.names;
        // A queryset's own reads (`{{ books.count }}`) are not per row; its rows start with `*`.
        if rows && names.first().map(String::as_str) != Some("*") {
            continue;
        }
        let origin = format!("{}:{} {}", r.template, r.read.line, r.read.text);
        follow(ctx.index, &cursor, names, &origin, &mut needs);
    }
    needs
}

/// `ListView`/`DetailView`: the template gets the view's queryset (or one object of it).
fn class_view<'a>(checker: &mut Checker<'_, 'a>, node: Node<'a>) {
    let ctx = checker.ctx;
    let Some(class) = ClassView::read(node, ctx.src) else {
        return;
    };
    let fw = &ctx.index.frameworks;
    let bases = fw.all_bases(&class.bases);
    let list = bases.iter().any(|b| b == "ListView" || b == "BaseListView");
    let detail = bases
        .iter()
        .any(|b| b == "DetailView" || b == "BaseDetailView");
    if !list && !detail {
        return;
    }
    if class.method("get_template_names").is_some() {
        return;
    }
    let Ok(site) = class_site(ctx, &class) else {
        return;
    };
    if let Site::Queryset(qs, _, _) = &site
        && rows_are_not_instances(qs)
    {
        return;
    }
    let model = ctx.index.model(site.model());
    let lower = model.name.to_lowercase();
    let suffix = class
        .attr("template_name_suffix")
        .and_then(|(v, _)| string_value(v, ctx.src))
        .unwrap_or_else(|| if list { "_list" } else { "_detail" }.to_string());
    let template = match class.attr("template_name") {
        Some((v, _)) => match string_value(v, ctx.src) {
            Some(t) => t,
            None => return,
        },
        None => format!("{}/{lower}{suffix}.html", model.app_label.to_lowercase()),
    };
    let named = class
        .attr("context_object_name")
        .and_then(|(v, _)| string_value(v, ctx.src))
        .unwrap_or_else(|| {
            if list {
                format!("{lower}_list")
            } else {
                lower.clone()
            }
        });
    let roots: Vec<String> = if list {
        vec!["object_list".into(), "page_obj".into(), named]
    } else {
        vec!["object".into(), named]
    };
    let reads = fw.templates.reads(&template, &roots);
    let mut needs = Vec::new();
    for root in &roots {
        needs.extend(template_needs(ctx, site.model(), list, root, &reads));
    }
    let coverage = site_coverage(ctx, &site);
    let missing = missing(&needs, &coverage);
    if !missing.is_empty() {
        let subclassed = fw.subclassed.contains(&class.name);
        let fix =
            site_fix(ctx, &site, &missing, &coverage).map(|(edits, message, unsafe_reason)| {
                let reason = unsafe_reason.or(subclassed.then_some(
                    "a subclass of the view in the project may override `get_queryset()`",
                ));
                let applicability = if reason.is_some() {
                    Applicability::Unsafe
                } else {
                    Applicability::Safe
                };
                (Fix::new(edits, applicability, message), reason)
            });
        let key = roots.last().cloned().unwrap_or_default();
        let message = message(ctx, &template, &key, site.model(), list, &missing);
        report(checker, site.report_node(), message, fix);
    }
    // get_context_data: `context["key"] = <queryset>`.
    if let Some(function) = class.method("get_context_data") {
        extra_context(checker, function, &template);
    }
}

/// Querysets `get_context_data()` adds to the context.
fn extra_context<'a>(checker: &mut Checker<'_, 'a>, function: Node<'a>, template: &str) {
    let ctx = checker.ctx;
    let src = ctx.src;
    let Some(body) = function.child_by_field_id(crate::field!("body")) else {
        return;
    };
    let mut entries = Vec::new();
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
        let Some(assign) = stmt
            .named_child(0)
            .filter(|a| a.node_kind() == "assignment")
        else {
            continue;
        };
        if let (Some(left), Some(right)) = (
            assign.child_by_field_id(crate::field!("left")),
            assign.child_by_field_id(crate::field!("right")),
        ) && left.node_kind() == "subscript"
            && let Some(key) = left
                .child_by_field_id(crate::field!("subscript"))
                .and_then(|k| string_value(k, src))
        {
            entries.push((key, right, stmt));
        }
    }
    if entries.is_empty() {
        return;
    }
    let roots: Vec<String> = entries.iter().map(|(k, _, _)| k.clone()).collect();
    let reads = ctx.index.frameworks.templates.reads(template, &roots);
    for (key, value, stmt) in entries {
        context_value(checker, stmt, template, &key, value, &reads);
    }
}
