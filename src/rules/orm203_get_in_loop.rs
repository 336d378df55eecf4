//! ORM203: `Model.objects.get(pk=id)` per id in a loop → one `in_bulk(ids)` before it.

use super::shared::messages::{compact, no_fix};
use super::{Captures, Checker};
use crate::analysis::FileContext;
use crate::diagnostic::Diagnostic;
use crate::django::WRITE_METHODS;
use crate::fix::{Applicability, Edit, Fix};
use crate::index::ModelId;
use crate::syntax::NodeKind;
use crate::syntax::{call_args, method_call, text, unparen, walk_named};
use crate::text::trigger::Trigger;
use tree_sitter::Node;

/// One per-id fetch in the loop body.
struct Fetch<'t> {
    /// The whole expression to replace (`Book.objects.get(pk=i)`, or `….filter(pk=i).first()`).
    node: Node<'t>,
    /// `get` raises when missing; `first` returns None.
    raises: bool,
    model: ModelId,
    /// `Book.objects` as written.
    manager_text: String,
}

/// What the prefilter must see before this rule can find anything: a fetch by id in a loop.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset, Trigger::FetchInLoop];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    let (Some(loop_node), Some(row), Some(iterable)) = (
        captures.get("loop"),
        captures.get("row"),
        captures.get("iterable"),
    ) else {
        return;
    };
    let ctx = checker.ctx;
    let row = unparen(row);
    if row.node_kind() != "identifier" {
        return;
    }
    let var = text(row, ctx.src);
    let body: Vec<Node> = match loop_node.node_kind() {
        "for_statement" => loop_node
            .child_by_field_id(crate::field!("body"))
            .into_iter()
            .collect(),
        _ => {
            let mut cursor = loop_node.walk();
            loop_node
                .named_children(&mut cursor)
                .filter(|c| c.node_kind() != "for_in_clause")
                .collect()
        }
    };
    let mut fetches = Vec::new();
    for part in &body {
        collect_fetches(ctx, *part, var, &mut fetches);
    }
    // Comprehensions nested in the loop have their own matches; one model at a time.
    let Some(model) = fetches.first().map(|f| f.model) else {
        return;
    };
    fetches.retain(|f| f.model == model);
    let first = &fetches[0];
    let model_name = &ctx.index.model(model).name;
    let fix = build_fix(ctx, loop_node, iterable, &fetches);
    let mut message = format!(
        "`{}` runs a query for each id of the loop on line {}; fetch them all with `{}.in_bulk(...)` before the loop",
        compact(text(first.node, ctx.src), 60, " "),
        loop_node.start_position().row + 1,
        first.manager_text,
    );
    match &fix {
        Err(reason) => message.push_str(&no_fix(reason)),
        Ok(_) => message.push_str(&format!(
            " (unsafe fix: a missing id raises KeyError instead of {model_name}.DoesNotExist)"
        )),
    }
    checker.report(Diagnostic {
        kind: crate::diagnostic::Kind::Finding,
        rule: checker.rule.meta.code.as_str(),
        message,
        start: first.node.start_byte(),
        end: first.node.end_byte(),
        also_suppressed_at: vec![loop_node.start_byte()],
        fix: fix.ok(),
    });
}

/// `<Model>.<manager>.get(pk=var)` and `<Model>.<manager>.filter(pk=var).first()`.
fn collect_fetches<'t>(ctx: &FileContext, node: Node<'t>, var: &str, out: &mut Vec<Fetch<'t>>) {
    // Most loop bodies call neither.
    let bytes = &ctx.src.as_bytes()[node.byte_range()];
    if !crate::text::has_word(bytes, crate::finder!(b"get"))
        && !crate::text::has_word(bytes, crate::finder!(b"first"))
    {
        return;
    }
    walk_named(node, |n| {
        if matches!(
            n.node_kind(),
            "function_definition" | "class_definition" | "lambda"
        ) {
            return false;
        }
        if let Some(fetch) = fetch(ctx, n, var) {
            out.push(fetch);
            return false;
        }
        true
    });
}

fn fetch<'t>(ctx: &FileContext, call: Node<'t>, var: &str) -> Option<Fetch<'t>> {
    let (object, method) = method_call(call, ctx.src)?;
    let (lookup_call, raises) = match method.as_str() {
        "get" => (call, true),
        "first" if call_args(call, ctx.src).positional.is_empty() => {
            let inner = unparen(object);
            let (_, m) = method_call(inner, ctx.src)?;
            if m != "filter" {
                return None;
            }
            (inner, false)
        }
        _ => return None,
    };
    let args = call_args(lookup_call, ctx.src);
    if !args.positional.is_empty() || args.splat || args.keywords.len() != 1 {
        return None;
    }
    let (key, value) = &args.keywords[0];
    if !matches!(key.as_str(), "pk" | "id") || text(*value, ctx.src) != var {
        return None;
    }
    // `<Model>.<manager>` directly.
    let (manager_node, _) = method_call(lookup_call, ctx.src)?;
    let manager_node = unparen(manager_node);
    if manager_node.node_kind() != "attribute" {
        return None;
    }
    let model_node = manager_node.child_by_field_id(crate::field!("object"))?;
    let manager = text(
        manager_node.child_by_field_id(crate::field!("attribute"))?,
        ctx.src,
    );
    if model_node.node_kind() != "identifier" {
        return None;
    }
    let model = ctx.model_named(text(model_node, ctx.src))?.id();
    if !ctx.index.is_manager_name(model, manager) || ctx.index.model(model).is_abstract {
        return None;
    }
    if key == "id" && ctx.index.field(model, "id").is_none() {
        return None;
    }
    Some(Fetch {
        node: call,
        raises,
        model,
        manager_text: text(manager_node, ctx.src).to_string(),
    })
}

fn build_fix(
    ctx: &FileContext,
    loop_node: Node,
    iterable: Node,
    fetches: &[Fetch],
) -> Result<Fix, String> {
    let first = fetches.first().ok_or("nothing to fix")?;
    if !re_evaluable(iterable, ctx.src) {
        return Err("the ids come from an expression that may not give the same ids twice".into());
    }
    let model_name = ctx.index.model(first.model).name.clone();
    if writes_model(ctx, loop_node, &model_name) {
        return Err(format!(
            "the loop writes {model_name} rows, which a fetch before it would not see"
        ));
    }
    // The statement the new line goes before, and its indentation.
    let statement = enclosing_statement(loop_node).ok_or("the loop is not a plain statement")?;
    let line_start = ctx.src[..statement.start_byte()]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent = &ctx.src[line_start..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return Err("the loop does not start its line".into());
    }
    let scope = crate::analysis::resolve::scope_of(loop_node);
    let name = free_name(&format!("{}_by_pk", snake(&model_name)), scope, ctx.src);
    let line_ending = if ctx.src.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut edits = vec![Edit::insertion(
        line_start,
        format!(
            "{indent}{name} = {}.in_bulk({}){line_ending}",
            first.manager_text,
            text(iterable, ctx.src)
        ),
    )];
    let var_text = |f: &Fetch| {
        // The loop variable as written in the lookup.
        let lookup_call = if f.raises {
            f.node
        } else {
            method_call(f.node, ctx.src)
                .map(|(o, _)| unparen(o))
                .unwrap_or(f.node)
        };
        call_args(lookup_call, ctx.src)
            .keywords
            .first()
            .map(|(_, v)| text(*v, ctx.src).to_string())
            .unwrap_or_default()
    };
    for f in fetches {
        let key = var_text(f);
        let replacement = if f.raises {
            format!("{name}[{key}]")
        } else {
            format!("{name}.get({key})")
        };
        edits.push(Edit::replacement(
            f.node.start_byte(),
            f.node.end_byte(),
            replacement,
        ));
    }
    // One in_bulk per function and pass: the next pass sees the name taken and picks another,
    // so nested loops never share (and overwrite) one dict.
    Ok(Fix::new(
        edits,
        Applicability::Unsafe,
        format!(
            "Fetch the objects with `{}.in_bulk(...)` before the loop",
            first.manager_text
        ),
    )
    .with_group(format!("in_bulk@{}", scope.start_byte())))
}

/// A name, attribute or subscript: evaluating it twice gives the same collection.
fn re_evaluable(iterable: Node, src: &str) -> bool {
    let node = unparen(iterable);
    match node.node_kind() {
        "identifier" | "attribute" | "list" | "tuple" | "set" => {
            let mut ok = true;
            walk_named(node, |n| {
                if matches!(
                    n.node_kind(),
                    "call" | "generator_expression" | "await" | "named_expression"
                ) {
                    ok = false;
                }
                ok
            });
            ok && !text(node, src).is_empty()
        }
        "subscript" => {
            let mut ok = true;
            walk_named(node, |n| {
                if matches!(n.node_kind(), "call" | "generator_expression" | "await") {
                    ok = false;
                }
                ok
            });
            ok
        }
        _ => false,
    }
}

/// Does the loop write rows of this model (`Model.objects.create`, `obj.delete()`…)?
fn writes_model(ctx: &FileContext, loop_node: Node, model_name: &str) -> bool {
    let mut writes = false;
    walk_named(loop_node, |n| {
        if let Some((object, method)) = method_call(n, ctx.src)
            && WRITE_METHODS.contains(&method.as_str())
            && method != "save"
        {
            let receiver = text(object, ctx.src);
            if receiver.starts_with(model_name) || method == "delete" {
                writes = true;
            }
        }
        !writes
    });
    writes
}

/// The statement holding the loop, directly in a block or the module.
fn enclosing_statement(loop_node: Node) -> Option<Node> {
    let mut node = loop_node;
    loop {
        let parent = node.parent()?;
        if matches!(parent.node_kind(), "block" | "module") {
            return match node.node_kind() {
                "for_statement" | "expression_statement" | "return_statement" => Some(node),
                _ => None,
            };
        }
        // A comprehension in a condition or loop header may run more than once.
        if matches!(
            parent.node_kind(),
            "while_statement" | "lambda" | "function_definition" | "elif_clause"
        ) {
            return None;
        }
        node = parent;
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `base`, or `base_2`… if the scope already uses the name.
fn free_name(base: &str, scope: Node, src: &str) -> String {
    let mut used = Vec::new();
    walk_named(scope, |n| {
        if n.node_kind() == "identifier" {
            used.push(text(n, src).to_string());
        }
        true
    });
    if !used.iter().any(|u| u == base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|c| !used.iter().any(|u| u == c))
        .expect("a free name")
}
