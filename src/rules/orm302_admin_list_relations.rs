//! ORM302: a ModelAdmin changelist (or an inline) reads relations of each row it shows, and the
//! admin does not load them (DJANGO.md 15).

use super::shared::framework::{
    Missing, line_after, line_at_class_start, method_at_end, missing, queryset_edits,
};
use super::shared::messages::no_fix;
use super::{Captures, Checker};
use crate::analysis::FileContext;
use crate::analysis::classes::{ClassView, registered_models};
use crate::analysis::resolve::{returned_queryset, single_return};
use crate::analysis::sites::base_coverage;
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, Fix};
use crate::index::frameworks::follow;
use crate::index::paths::{Cursor, Need, bare_select_paths, minimal_lookups};
use crate::index::reads::{STR, parameter_names, reads_from};
use crate::index::{FieldKind, ModelId};
use crate::syntax::NodeKind;
use crate::syntax::{dotted_name, string_value, text, unparen};
use crate::text::trigger::Trigger;
use tree_sitter::Node;

/// What the prefilter must see before this rule can find anything: an admin class.
pub const TRIGGERS: &[Trigger] = &[Trigger::SiteClass];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let Some(node) = captures.get("class") else {
        return;
    };
    let ctx = checker.ctx;
    let Some(class) = ClassView::read(node, ctx.src) else {
        return;
    };
    let fw = &ctx.index.frameworks;
    if fw.has_project_base(&class.bases) {
        return; // list_display, list_select_related, get_queryset may come from the base
    }
    let bases = fw.all_bases(&class.bases);
    if bases.iter().any(|b| b.ends_with("Inline")) {
        inline(checker, &class);
    } else if bases
        .iter()
        .any(|b| b.ends_with("ModelAdmin") && b != "InlineModelAdmin")
    {
        changelist(checker, &class);
    }
}

/// What `list_select_related` says.
enum SelectRelated<'t> {
    /// Not set, or `False`: Django joins on its own when `list_display` names a ForeignKey.
    Auto(Option<Node<'t>>),
    /// `True`: a bare `select_related()`.
    All(Node<'t>),
    /// A list or tuple of lookups.
    List(Node<'t>, Vec<String>),
}

fn changelist<'a>(checker: &mut Checker<'_, 'a>, class: &ClassView<'a>) {
    let ctx = checker.ctx;
    let models = registered_models(ctx, class);
    let [model] = models.as_slice() else {
        return; // not registered here, or for several models at once
    };
    let model = *model;
    if class.method("get_list_display").is_some() {
        return; // chosen per request: we cannot read it
    }
    let entries = match class.attr("list_display") {
        Some((value, _)) => match entries(value, ctx.src) {
            Some(e) => e,
            None => return,
        },
        None => vec![Entry::Name("__str__".into())],
    };
    let select_related = match class.attr("list_select_related") {
        None => SelectRelated::Auto(None),
        Some((value, _)) if value.node_kind() == "false" => SelectRelated::Auto(Some(value)),
        Some((value, _)) if value.node_kind() == "true" => SelectRelated::All(value),
        Some((value, _)) => match string_list(value, ctx.src) {
            Some(list) => SelectRelated::List(value, list),
            None => return,
        },
    };
    let cursor = Cursor::root(model, true);
    let mut needs = Vec::new();
    let mut auto_join = false;
    for entry in &entries {
        auto_join |= entry_needs(ctx, class, model, entry, &cursor, &mut needs);
    }
    // What the rows come with: the default manager, the admin's get_queryset, then the join.
    let Some(mut cov) = base_coverage(ctx, class, model) else {
        return;
    };
    let bare = match &select_related {
        SelectRelated::Auto(_) => auto_join,
        SelectRelated::All(_) => true,
        SelectRelated::List(_, list) => {
            cov.select.extend(list.iter().cloned());
            false
        }
    };
    if bare {
        // `select_related()` replaces the named lookups of get_queryset.
        cov.select.clear();
        cov.select_all = true;
    }
    let missing = missing(&needs, &cov);
    if missing.is_empty() {
        return;
    }
    let fix = changelist_fix(ctx, class, model, &select_related, bare, &needs, &missing);
    let reason = unsafe_reason(ctx, class, model);
    let name = &ctx.index.model(model).name;
    let message = format!(
        "the `{}` changelist reads {} for each `{name}` row; load {} with {}",
        class.name,
        missing.origins(),
        if missing.select.len() + missing.prefetch.len() == 1 {
            "it"
        } else {
            "them"
        },
        lookups_text(&missing),
    );
    let at = class
        .attr("list_display")
        .map(|(_, stmt)| stmt)
        .or_else(|| class.node.child_by_field_id(crate::field!("name")))
        .unwrap_or(class.node);
    report(checker, at, message, fix, reason);
}

fn lookups_text(missing: &Missing) -> String {
    let mut parts = Vec::new();
    if !missing.select.is_empty() {
        let q: Vec<String> = missing.select.iter().map(|l| format!("\"{l}\"")).collect();
        parts.push(format!("`list_select_related` ({})", q.join(", ")));
    }
    if !missing.prefetch.is_empty() {
        let q: Vec<String> = missing
            .prefetch
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect();
        parts.push(format!(
            "`prefetch_related({})` in `get_queryset()`",
            q.join(", ")
        ));
    }
    parts.join(" and ")
}

fn unsafe_reason(ctx: &FileContext, class: &ClassView, model: ModelId) -> Option<&'static str> {
    if ctx.index.frameworks.subclassed.contains(&class.name) {
        return Some("another admin class of the project derives from this one");
    }
    if ctx
        .index
        .model(model)
        .managers
        .first()
        .is_some_and(|m| !m.resolved)
    {
        return Some("the manager's class is not in the project, so its get_queryset is unknown");
    }
    None
}

fn report(
    checker: &mut Checker,
    node: Node,
    mut message: String,
    fix: Result<(Vec<Edit>, String), String>,
    reason: Option<&'static str>,
) {
    let fix = fix.map(|(edits, description)| {
        let applicability = if reason.is_some() {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        };
        Fix::new(edits, applicability, description)
    });
    match (&fix, reason) {
        (Err(why), _) => message.push_str(&no_fix(why)),
        (Ok(_), Some(why)) => message.push_str(&super::shared::messages::unsafe_fix(why)),
        _ => {}
    }
    checker.report(Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: checker.rule.meta.code.as_str(),
        message,
        start: node.start_byte(),
        end: node.end_byte(),
        also_suppressed_at: Vec::new(),
        fix: fix.ok(),
    });
}

/// The edits: `list_select_related` listing every path the changelist needs (the ones
/// Django's own join gave too, since setting it turns that join off), and `prefetch_related`
/// in `get_queryset()` (added when missing).
fn changelist_fix<'a>(
    ctx: &FileContext<'a>,
    class: &ClassView<'a>,
    model: ModelId,
    select_related: &SelectRelated<'a>,
    bare: bool,
    needs: &[Need],
    missing: &Missing,
) -> Result<(Vec<Edit>, String), String> {
    let mut edits = Vec::new();
    let mut messages = Vec::new();
    if !missing.select.is_empty() {
        let mut paths: Vec<String> = Vec::new();
        if bare {
            // Keep what the automatic join loaded.
            paths.extend(bare_select_paths(ctx.index, model));
        }
        // Every single-valued path the columns read (some were served by the join).
        for need in needs {
            if need.repeated && !need.multi {
                paths.push(need.lookup());
            }
        }
        let mut paths = minimal_lookups(&paths);
        paths.sort();
        let quoted: Vec<String> = paths.iter().map(|p| ctx.string_literal(p)).collect();
        let list = format!("[{}]", quoted.join(", "));
        match select_related {
            SelectRelated::Auto(Some(value)) | SelectRelated::All(value) => {
                edits.push(Edit::replacement(
                    value.start_byte(),
                    value.end_byte(),
                    list.clone(),
                ));
                messages.push(format!("Set `list_select_related = {list}`"));
            }
            SelectRelated::Auto(None) => {
                let line = format!("list_select_related = {list}");
                let edit = match class.attr("list_display") {
                    Some((_, stmt)) => line_after(ctx.src, stmt, &line)
                        .ok_or("list_display shares its line with the class header")?,
                    None => line_at_class_start(ctx.src, class.node, &line)
                        .ok_or("the class has no body to add to")?,
                };
                edits.push(edit);
                messages.push(format!("Add `list_select_related = {list}`"));
            }
            SelectRelated::List(value, existing) => {
                let add: Vec<String> = missing
                    .select
                    .iter()
                    .filter(|l| !existing.contains(l))
                    .cloned()
                    .collect();
                edits.push(extend_list(ctx, *value, &add).ok_or("cannot extend the list")?);
                let q: Vec<String> = add.iter().map(|l| ctx.string_literal(l)).collect();
                messages.push(format!("Add {} to `list_select_related`", q.join(", ")));
            }
        }
    }
    if !missing.prefetch.is_empty() {
        let (e, m) = prefetch_in_get_queryset(ctx, class, model, &missing.prefetch, &[])?;
        edits.extend(e);
        messages.push(m);
    }
    Ok((edits, messages.join("; ")))
}

/// Add lookups to the admin's `get_queryset()` (or a new one that calls `super()`).
fn prefetch_in_get_queryset<'a>(
    ctx: &FileContext<'a>,
    class: &ClassView<'a>,
    model: ModelId,
    prefetch: &[String],
    select: &[String],
) -> Result<(Vec<Edit>, String), String> {
    let wanted = Missing {
        select: select.to_vec(),
        prefetch: prefetch.to_vec(),
        needs: Vec::new(),
    };
    if let Some(function) = class.method("get_queryset") {
        let ret = single_return(function).ok_or("`get_queryset()` has several `return`s")?;
        let qs = returned_queryset(ctx, function, ret, Some(model))
            .ok_or("djopt cannot read what `get_queryset()` returns")?;
        if qs.blocker().is_some() || qs.defers_fields() {
            return Err("`get_queryset()` uses only()/defer()/values()/union()".into());
        }
        return queryset_edits(ctx, &qs, &wanted).ok_or_else(|| "no place to add the call".into());
    }
    let mut call = String::from("super().get_queryset(request)");
    for (method, list) in [("select_related", select), ("prefetch_related", prefetch)] {
        if !list.is_empty() {
            let q: Vec<String> = list.iter().map(|l| ctx.string_literal(l)).collect();
            call.push_str(&format!(".{method}({})", q.join(", ")));
        }
    }
    let lines = vec![
        "def get_queryset(self, request):".to_string(),
        format!("return {call}"),
    ];
    let edit = method_at_end(ctx.src, class.node, &lines).ok_or("the class has no body")?;
    Ok((
        vec![edit],
        format!("Add a `get_queryset()` returning `{call}`"),
    ))
}

/// Insert lookups at the end of a list or tuple of strings.
fn extend_list(ctx: &FileContext, value: Node, add: &[String]) -> Option<Edit> {
    let mut cursor = value.walk();
    let items: Vec<Node> = value
        .named_children(&mut cursor)
        .filter(|n| n.node_kind() != "comment")
        .collect();
    let quoted: Vec<String> = add.iter().map(|l| ctx.string_literal(l)).collect();
    match items.last() {
        Some(last) => Some(Edit::insertion(
            last.end_byte(),
            format!(", {}", quoted.join(", ")),
        )),
        None => {
            let trailing = if value.node_kind() == "tuple" && add.len() == 1 {
                ","
            } else {
                ""
            };
            Some(Edit::insertion(
                value.start_byte() + 1,
                format!("{}{trailing}", quoted.join(", ")),
            ))
        }
    }
}

/// A `list_display`/`readonly_fields` entry.
enum Entry<'t> {
    /// A string: a field, a lookup, a method of the admin or of the model.
    Name(String),
    /// A function of the module or a lambda.
    Callable(Node<'t>),
}

fn entries<'t>(value: Node<'t>, src: &str) -> Option<Vec<Entry<'t>>> {
    if !matches!(value.node_kind(), "list" | "tuple") {
        return None;
    }
    let mut out = Vec::new();
    let mut cursor = value.walk();
    for item in value.named_children(&mut cursor) {
        if item.node_kind() == "comment" {
            continue;
        }
        match string_value(item, src) {
            Some(s) => out.push(Entry::Name(s)),
            None => out.push(Entry::Callable(item)),
        }
    }
    Some(out)
}

fn string_list(value: Node, src: &str) -> Option<Vec<String>> {
    if !matches!(value.node_kind(), "list" | "tuple") {
        return None;
    }
    let mut cursor = value.walk();
    value
        .named_children(&mut cursor)
        .filter(|n| n.node_kind() != "comment")
        .map(|n| string_value(n, src))
        .collect()
}

/// Record what a column reads per row; true when it is a ForeignKey column (which turns on
/// Django's automatic join).
fn entry_needs(
    ctx: &FileContext,
    class: &ClassView,
    model: ModelId,
    entry: &Entry,
    cursor: &Cursor,
    out: &mut Vec<Need>,
) -> bool {
    let index = ctx.index;
    let src = ctx.src;
    match entry {
        Entry::Name(name) if name == "__str__" => {
            follow(
                index,
                cursor,
                &[STR.to_string()],
                &format!("{}.__str__", model_name(ctx, model)),
                out,
            );
            false
        }
        Entry::Name(name) => {
            let origin = |n: &str| format!("\"{n}\"");
            if let Some(method) = class.method(name) {
                method_needs(ctx, method, cursor, out);
                return false;
            }
            if name.contains("__") {
                let mut names: Vec<String> = name.split("__").map(String::from).collect();
                names.push(STR.to_string());
                follow(index, cursor, &names, &origin(name), out);
                return false;
            }
            match index.field(model, name) {
                Some(f) if matches!(f.kind, FieldKind::ForeignKey | FieldKind::OneToOne) => {
                    follow(
                        index,
                        cursor,
                        &[name.clone(), STR.to_string()],
                        &origin(name),
                        out,
                    );
                    true
                }
                Some(_) => false,
                None => {
                    follow(
                        index,
                        cursor,
                        std::slice::from_ref(name),
                        &origin(name),
                        out,
                    );
                    false
                }
            }
        }
        Entry::Callable(node) => {
            let node = unparen(*node);
            match node.node_kind() {
                "lambda" => {
                    let param = node
                        .child_by_field_id(crate::field!("parameters"))
                        .and_then(|p| p.named_child(0))
                        .map(|p| text(p, src).to_string());
                    if let (Some(param), Some(body)) =
                        (param, node.child_by_field_id(crate::field!("body")))
                    {
                        for r in reads_from(body, &param, src) {
                            follow(
                                index,
                                cursor,
                                &r.names,
                                &format!("line {}: {}", r.line, r.text),
                                out,
                            );
                        }
                    }
                }
                "identifier" => {
                    if let Some(function) = module_function(ctx, text(node, src))
                        && let Some(param) = parameter_names(function, src).first()
                        && let Some(body) = function.child_by_field_id(crate::field!("body"))
                    {
                        for r in reads_from(body, param, src) {
                            follow(
                                index,
                                cursor,
                                &r.names,
                                &format!("line {}: {}", r.line, r.text),
                                out,
                            );
                        }
                    }
                }
                _ => {}
            }
            false
        }
    }
}

fn model_name(ctx: &FileContext, model: ModelId) -> String {
    ctx.index.model(model).name.clone()
}

/// What an admin method `def col(self, obj)` reads from `obj`.
fn method_needs(ctx: &FileContext, method: Node, cursor: &Cursor, out: &mut Vec<Need>) {
    let params = parameter_names(method, ctx.src);
    let (Some(param), Some(body)) = (
        params.get(1),
        method.child_by_field_id(crate::field!("body")),
    ) else {
        return;
    };
    for r in reads_from(body, param, ctx.src) {
        let origin = format!("line {}: {}", r.line, r.text);
        follow(ctx.index, cursor, &r.names, &origin, out);
    }
}

/// A function defined at the top level of this file.
fn module_function<'t>(ctx: &FileContext<'t>, name: &str) -> Option<Node<'t>> {
    let root = ctx.tree.root_node();
    let mut cursor = root.walk();
    root.named_children(&mut cursor).find_map(|n| {
        let def = match n.node_kind() {
            "function_definition" => Some(n),
            "decorated_definition" => n.child_by_field_id(crate::field!("definition")),
            _ => None,
        }?;
        (def.node_kind() == "function_definition"
            && def
                .child_by_field_id(crate::field!("name"))
                .is_some_and(|x| text(x, ctx.src) == name))
        .then_some(def)
    })
}

/// An inline shows `__str__` of each row and its read-only fields: load what they read through
/// `get_queryset()`.
fn inline<'a>(checker: &mut Checker<'_, 'a>, class: &ClassView<'a>) {
    let ctx = checker.ctx;
    let Some(model) = class
        .attr("model")
        .and_then(|(v, _)| dotted_name(v, ctx.src))
        .and_then(|n| ctx.model_named(crate::syntax::last_segment(&n)))
        .map(|r| r.id())
    else {
        return;
    };
    let cursor = Cursor::root(model, true);
    let mut needs = Vec::new();
    entry_needs(
        ctx,
        class,
        model,
        &Entry::Name("__str__".into()),
        &cursor,
        &mut needs,
    );
    if let Some((value, _)) = class.attr("readonly_fields") {
        let Some(list) = entries(value, ctx.src) else {
            return;
        };
        for entry in &list {
            entry_needs(ctx, class, model, entry, &cursor, &mut needs);
        }
    }
    let Some(cov) = base_coverage(ctx, class, model) else {
        return;
    };
    let missing = missing(&needs, &cov);
    if missing.is_empty() {
        return;
    }
    let fix = prefetch_in_get_queryset(ctx, class, model, &missing.prefetch, &missing.select);
    let reason = unsafe_reason(ctx, class, model);
    let name = &ctx.index.model(model).name;
    let message = format!(
        "the inline `{}` reads {} for each `{name}` row it shows; load {} with {} in `get_queryset()`",
        class.name,
        missing.origins(),
        if missing.select.len() + missing.prefetch.len() == 1 {
            "it"
        } else {
            "them"
        },
        missing.calls()
    );
    let at = class
        .attr("model")
        .map(|(_, stmt)| stmt)
        .unwrap_or(class.node);
    report(checker, at, message, fix, reason);
}
