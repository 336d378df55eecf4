//! Shared by the framework rules (ORM301 serializers, ORM302 admin, ORM303 templates): reading a
//! view or admin class, finding the queryset it uses (`get_queryset()` wins over `queryset`,
//! which wins over `model`), and the edits that load the missing paths there.

use super::edits::{add_lookups, manager_blocks};
use crate::analysis::queryset::Coverage;
use crate::analysis::sites::Site;
use crate::analysis::{FileContext, Queryset};
use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::index::ModelId;
use crate::index::paths::{Need, minimal_lookups};
use crate::rules::Checker;
use crate::syntax::NodeKind;
use crate::syntax::{call_args, string_quote};
use tree_sitter::Node;

/// Is this need served by what the queryset loads? (The loop rules ask the same question.)
pub fn covered(need: &Need, cov: &Coverage) -> bool {
    cov.serves(
        &need.lookup(),
        need.multi,
        need.forward,
        need.forward_non_null,
    )
}

/// The needs the queryset does not serve, as (select_related, prefetch_related) lookups, each
/// with the needs behind it (for the message). Only needs read once per row count.
pub struct Missing<'n> {
    pub select: Vec<String>,
    pub prefetch: Vec<String>,
    pub needs: Vec<&'n Need>,
}

pub fn missing<'n>(needs: &'n [Need], cov: &Coverage) -> Missing<'n> {
    let mut select = Vec::new();
    let mut prefetch = Vec::new();
    let mut kept = Vec::new();
    for need in needs {
        if !need.repeated || covered(need, cov) {
            continue;
        }
        kept.push(need);
        let list = if need.multi {
            &mut prefetch
        } else {
            &mut select
        };
        list.push(need.lookup());
    }
    Missing {
        select: minimal_lookups(&select),
        prefetch: minimal_lookups(&prefetch),
        needs: kept,
    }
}

impl Missing<'_> {
    pub fn is_empty(&self) -> bool {
        self.select.is_empty() && self.prefetch.is_empty()
    }

    /// "load them with `select_related("author")` and `prefetch_related("tags")`".
    pub fn calls(&self) -> String {
        let mut parts = Vec::new();
        for (method, list) in [
            ("select_related", &self.select),
            ("prefetch_related", &self.prefetch),
        ] {
            if !list.is_empty() {
                let quoted: Vec<String> = list.iter().map(|l| format!("\"{l}\"")).collect();
                parts.push(format!("`{method}({})`", quoted.join(", ")));
            }
        }
        parts.join(" and ")
    }

    /// Up to three reads that need the paths, `where what` each.
    pub fn origins(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for n in &self.needs {
            if !seen.contains(&n.origin.as_str()) {
                seen.push(&n.origin);
            }
        }
        let more = seen.len().saturating_sub(3);
        let mut shown: Vec<String> = seen.iter().take(3).map(|o| format!("`{o}`")).collect();
        if more > 0 {
            shown.push(format!("{more} more"));
        }
        shown.join(", ")
    }
}

/// Edits that add the missing lookups to a queryset expression (one insertion when both calls
/// are new). What is read under a multi-valued relation and starts with single-valued ones goes
/// in a `Prefetch(..., queryset=Model.objects.select_related(...))` (see `nested_prefetch`).
pub fn queryset_edits(
    ctx: &FileContext,
    qs: &Queryset,
    missing: &Missing,
) -> Option<(Vec<Edit>, String)> {
    if qs.iterator.is_none()
        && let Some(nested) = super::nested_prefetch::nested_prefetches(
            ctx,
            qs.model,
            &missing.prefetch,
            &qs.coverage(ctx),
        )
    {
        return nested_edits(ctx, qs, missing, nested);
    }
    plain_queryset_edits(ctx, qs, missing)
}

fn nested_edits(
    ctx: &FileContext,
    qs: &Queryset,
    missing: &Missing,
    nested: super::nested_prefetch::Nested,
) -> Option<(Vec<Edit>, String)> {
    let mut edits: Vec<Edit> = Vec::new();
    let mut messages = Vec::new();
    if !missing.select.is_empty() {
        let (new, message) = add_lookups(ctx, qs, "select_related", &missing.select)?;
        edits.extend(new);
        messages.push(message);
    }
    let existing = qs.last_call("prefetch_related").filter(|call| {
        let args = call_args(call.node, ctx.src);
        !args.splat
            && !args.positional.is_empty()
            && args.keywords.is_empty()
            && args.positional.iter().all(|a| a.node_kind() == "string")
    });
    let quote = existing
        .and_then(|c| call_args(c.node, ctx.src).positional.last().copied())
        .and_then(|a| string_quote(a, ctx.src))
        .unwrap_or(ctx.quote());
    let mut items: Vec<String> = missing
        .prefetch
        .iter()
        .filter(|l| !nested.replaced.contains(l))
        .map(|l| format!("{quote}{l}{quote}"))
        .collect();
    items.extend(nested.expressions);
    let list = items.join(", ");
    let edit = match existing {
        Some(call) => {
            let last = *call_args(call.node, ctx.src).positional.last()?;
            messages.push(format!(
                "Add {list} to the existing `prefetch_related(...)`"
            ));
            Edit::insertion(last.end_byte(), format!(", {list}"))
        }
        None => {
            let call = format!(".prefetch_related({list})");
            messages.push(format!("Add `{call}`"));
            Edit::insertion(qs.insert_at?, call)
        }
    };
    match edits
        .iter_mut()
        .find(|x| x.start == edit.start && x.end == edit.end && x.start == x.end)
    {
        Some(same) => same.content.push_str(&edit.content),
        None => edits.push(edit),
    }
    edits.extend(nested.imports);
    Some((edits, messages.join("; ")))
}

fn plain_queryset_edits(
    ctx: &FileContext,
    qs: &Queryset,
    missing: &Missing,
) -> Option<(Vec<Edit>, String)> {
    let mut edits: Vec<Edit> = Vec::new();
    let mut messages = Vec::new();
    for (method, list) in [
        ("select_related", &missing.select),
        ("prefetch_related", &missing.prefetch),
    ] {
        if list.is_empty() {
            continue;
        }
        let (new, message) = add_lookups(ctx, qs, method, list)?;
        for e in new {
            match edits
                .iter_mut()
                .find(|x| x.start == e.start && x.end == e.end && x.start == x.end)
            {
                Some(same) => same.content.push_str(&e.content),
                None => edits.push(e),
            }
        }
        messages.push(message);
    }
    Some((edits, messages.join("; ")))
}

/// `Book.objects.select_related(...).prefetch_related(...)` for a `queryset = ` line.
pub fn new_queryset_text(
    ctx: &FileContext,
    model: ModelId,
    name: &str,
    missing: &Missing,
) -> String {
    let manager = match ctx.index.model(model).managers.first() {
        Some(m) if m.name != "objects" => "_default_manager",
        _ => "objects",
    };
    format!("{name}.{manager}{}", calls_text(ctx, missing))
}

/// `.select_related(...).prefetch_related(...)` for what is missing, in the file's quotes.
pub fn calls_text(ctx: &FileContext, missing: &Missing) -> String {
    let mut out = String::new();
    for (method, list) in [
        ("select_related", &missing.select),
        ("prefetch_related", &missing.prefetch),
    ] {
        if !list.is_empty() {
            let quoted: Vec<String> = list.iter().map(|l| ctx.string_literal(l)).collect();
            out.push_str(&format!(".{method}({})", quoted.join(", ")));
        }
    }
    out
}

/// The file's line ending.
pub fn line_ending(src: &str) -> &'static str {
    if src.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The whitespace before a statement on its line.
pub fn indentation<'s>(src: &'s str, node: Node) -> &'s str {
    let start = node.start_byte();
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    &src[line_start..start]
}

/// Where a new line can go after a statement: the end of its last line when only a comment
/// follows it there (the comment stays on its line), else right after the statement.
fn after_statement(src: &str, statement: Node) -> usize {
    let mut end = statement.end_byte();
    if src[..end].ends_with('\r') {
        end -= 1; // a trailing comment's token can take the `\r` of a CRLF line ending
    }
    let rest = &src[end..];
    let line_end = rest.find(['\r', '\n']).unwrap_or(rest.len());
    let tail = rest[..line_end].trim_start();
    if tail.is_empty() || tail.starts_with('#') {
        end + line_end
    } else {
        end
    }
}

/// Insert `line` (no indentation, no line ending) as a new line after `statement`, at the same
/// indentation; None when the statement does not start its line (`class A: x = 1`), where the
/// "indentation" would copy the class header (found by fuzzing: a fix that never settled).
pub fn line_after(src: &str, statement: Node, line: &str) -> Option<Edit> {
    let indent = indentation(src, statement);
    if !indent.chars().all(char::is_whitespace) {
        return None;
    }
    Some(Edit::insertion(
        after_statement(src, statement),
        format!("{}{indent}{line}", line_ending(src)),
    ))
}

/// Insert `line` as the first statement of a class body (after its docstring, if any).
pub fn line_at_class_start(src: &str, class: Node, line: &str) -> Option<Edit> {
    let body = class.child_by_field_id(crate::field!("body"))?;
    let mut cursor = body.walk();
    let first = body
        .named_children(&mut cursor)
        .find(|n| n.node_kind() != "comment")?;
    let docstring = first.node_kind() == "expression_statement"
        && first
            .named_child(0)
            .is_some_and(|n| n.node_kind() == "string");
    if docstring {
        return line_after(src, first, line);
    }
    let indent = indentation(src, first);
    if !indent.chars().all(char::is_whitespace) {
        return None; // `class A: x = 1` on one line
    }
    Some(Edit::insertion(
        first.start_byte(),
        format!("{line}{}{indent}", line_ending(src)),
    ))
}

/// Insert a method (lines without indentation; the first is the `def`) at the end of a class.
pub fn method_at_end(src: &str, class: Node, lines: &[String]) -> Option<Edit> {
    let body = class.child_by_field_id(crate::field!("body"))?;
    let first = body.named_child(0)?;
    let last = body.named_child(u32::try_from(body.named_child_count().checked_sub(1)?).ok()?)?;
    let indent = indentation(src, first);
    let class_indent = indentation(src, class);
    let unit = indent
        .strip_prefix(class_indent)
        .filter(|u| !u.is_empty())
        .unwrap_or("    ");
    let le = line_ending(src);
    let mut text = String::from(le);
    for (i, line) in lines.iter().enumerate() {
        let extra = if i == 0 { "" } else { unit };
        text.push_str(&format!("{le}{indent}{extra}{line}"));
    }
    Some(Edit::insertion(after_statement(src, last), text))
}

/// What the site loads already (for `model = X` only: the default manager's `get_queryset`).
pub fn site_coverage(ctx: &FileContext, site: &Site) -> Coverage {
    match site {
        Site::Queryset(qs, _, _) => qs.coverage(ctx),
        Site::ModelOnly { model, .. } => manager_coverage(ctx, *model),
    }
}

/// What the model's default manager (its first) already loads.
pub fn manager_coverage(ctx: &FileContext, model: ModelId) -> Coverage {
    let mut cov = Coverage::default();
    if let Some(m) = ctx.index.model(model).managers.first() {
        cov.select = m.select_related.clone();
        cov.select_all = m.select_related_all;
        cov.prefetch = m.prefetch_related.clone();
    }
    cov
}

/// The edits for a site, with the reason they are unsafe (if they are), or why there is none.
pub fn site_fix(
    ctx: &FileContext,
    site: &Site,
    missing: &Missing,
    coverage: &Coverage,
) -> Result<(Vec<crate::fix::Edit>, String, Option<&'static str>), String> {
    if coverage.select_all && !missing.select.is_empty() {
        return Err(
            "naming a path would turn off the bare `select_related()`'s other joins".into(),
        );
    }
    match site {
        Site::Queryset(qs, _, assumed) => {
            queryset_blockers(ctx, qs, missing)?;
            let (edits, message) = queryset_edits(ctx, qs, missing)
                .ok_or_else(|| "there is no place to add the call".to_string())?;
            let assumed = assumed.then_some(
                "`get_queryset()` returns rows djopt cannot type; their model is taken from the class",
            );
            Ok((edits, message, queryset_unsafe(ctx, qs).or(assumed)))
        }
        Site::ModelOnly {
            model,
            name,
            statement,
        } => {
            let m = ctx.index.model(*model);
            if m.managers.first().is_some_and(|mg| mg.blocks) {
                return Err("the manager's get_queryset uses only()/values()/union()".into());
            }
            let value = new_queryset_text(ctx, *model, name, missing);
            let line = format!("queryset = {value}");
            let edit = line_after(ctx.src, *statement, &line)
                .ok_or("the statement shares its line with another")?;
            let unsafe_reason = m.managers.first().is_some_and(|mg| !mg.resolved).then_some(
                "the manager's class is not in the project, so its get_queryset is unknown",
            );
            Ok((vec![edit], format!("Add `{line}`"), unsafe_reason))
        }
    }
}

/// Why lookups cannot be added to this queryset at all.
pub fn queryset_blockers(
    ctx: &FileContext,
    qs: &Queryset,
    missing: &Missing,
) -> Result<(), String> {
    if let Some(b) = qs.blocker() {
        return Err(format!("rows come from `.{}()`", b.method));
    }
    if qs.defers_fields() {
        return Err(
            "the queryset uses `only()`/`defer()`; a deferred ForeignKey cannot be joined".into(),
        );
    }
    if manager_blocks(ctx, qs) {
        return Err("the manager's get_queryset uses only()/values()/union()".into());
    }
    if qs.has_call("select_for_update") && !missing.select.is_empty() {
        return Err("with `select_for_update()` a join would lock the related rows too".into());
    }
    Ok(())
}

/// Why a fix to this queryset is only unsafe.
pub fn queryset_unsafe(ctx: &FileContext, qs: &Queryset) -> Option<&'static str> {
    let manager_unknown = qs
        .manager
        .as_deref()
        .and_then(|m| ctx.index.manager(qs.model, m))
        .is_some_and(|m| !m.resolved);
    if manager_unknown {
        return Some("the manager's class is not in the project, so its get_queryset is unknown");
    }
    if qs.ambiguous {
        return Some("the model name is defined more than once in the project");
    }
    None
}

/// Report a finding at `node`, with its fix or the reason there is none.
pub fn report(
    checker: &mut Checker,
    node: Node,
    mut message: String,
    fix: Result<(Fix, Option<&'static str>), String>,
) {
    match &fix {
        Err(reason) => message.push_str(&super::messages::no_fix(reason)),
        Ok((_, Some(reason))) => message.push_str(&super::messages::unsafe_fix(reason)),
        Ok(_) => {}
    }
    checker.report(Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: checker.rule.meta.code.as_str(),
        message,
        start: node.start_byte(),
        end: node.end_byte(),
        also_suppressed_at: Vec::new(),
        fix: fix.ok().map(|(f, _)| f),
    });
}

/// The fix of a queryset a call hands its rows to (a serializer's `many=True`, a template's
/// context): the missing lookups added where the queryset is built, unsafe when the
/// queryset's name is also used where a change could clash (see `name_escapes`).
pub fn call_fix(
    ctx: &FileContext,
    qs: &Queryset,
    call: Node,
    coverage: &Coverage,
    missing: &Missing,
) -> Result<(Fix, Option<&'static str>), String> {
    let scope = crate::analysis::resolve::scope_of(call);
    let escapes = qs
        .names
        .iter()
        .any(|name| crate::analysis::resolve::name_escapes(scope, name, call, ctx.src));
    if coverage.select_all && !missing.select.is_empty() {
        return Err(
            "naming a path would turn off the bare `select_related()`'s other joins".to_string(),
        );
    }
    let (edits, message) = queryset_blockers(ctx, qs, missing).and_then(|()| {
        queryset_edits(ctx, qs, missing)
            .ok_or_else(|| "there is no place to add the call".to_string())
    })?;
    let reason = queryset_unsafe(ctx, qs).or(escapes
        .then_some("the queryset is also passed on or returned, where a caller may change it"));
    let applicability = if reason.is_some() {
        crate::fix::Applicability::Unsafe
    } else {
        crate::fix::Applicability::Safe
    };
    Ok((Fix::new(edits, applicability, message), reason))
}
