//! Edits that make names from `django.db.models` available in a file.

use crate::analysis::FileContext;
use crate::fix::Edit;
use crate::syntax::NodeKind;
use crate::syntax::text;

/// How to spell `Count`, `Exists`… in this file, and the import edits that make it work:
/// `models.Count` when the file has `from django.db import models`; else the bare names,
/// added to an existing `from django.db.models import …` or in a new import line.
pub fn db_models_names(ctx: &FileContext, names: &[&str]) -> (String, Vec<Edit>) {
    let root = ctx.tree.root_node();
    let mut cursor = root.walk();
    let mut last_import_end = None;
    let mut existing_from_models = None;
    for node in root.named_children(&mut cursor) {
        if !matches!(
            node.node_kind(),
            "import_statement" | "import_from_statement" | "future_import_statement"
        ) {
            continue;
        }
        last_import_end = Some(end_of_line_statements(node));
        if node.node_kind() != "import_from_statement" {
            continue;
        }
        let module = node
            .child_by_field_id(crate::field!("module_name"))
            .map(|m| text(m, ctx.src))
            .unwrap_or("");
        let mut names_cursor = node.walk();
        let imported: Vec<(String, String, usize)> = node
            .children_by_field_name("name", &mut names_cursor)
            .filter_map(|n| match n.node_kind() {
                "dotted_name" => Some((
                    text(n, ctx.src).to_string(),
                    text(n, ctx.src).to_string(),
                    n.end_byte(),
                )),
                "aliased_import" => Some((
                    text(n.child_by_field_id(crate::field!("name"))?, ctx.src).to_string(),
                    text(n.child_by_field_id(crate::field!("alias"))?, ctx.src).to_string(),
                    n.end_byte(),
                )),
                _ => None,
            })
            .collect();
        if module == "django.db"
            && let Some((_, local, _)) = imported.iter().find(|(name, _, _)| name == "models")
        {
            return (format!("{local}."), Vec::new());
        }
        if module == "django.db.models" && !imported.is_empty() {
            existing_from_models = Some(imported);
        }
    }
    if let Some(imported) = existing_from_models {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| {
                !imported
                    .iter()
                    .any(|(name, local, _)| name == n && local == n)
            })
            .collect();
        if missing.is_empty() {
            return (String::new(), Vec::new());
        }
        let end = imported.last().map(|(_, _, e)| *e).expect("not empty");
        let text: String = missing.iter().map(|n| format!(", {n}")).collect();
        return (String::new(), vec![Edit::insertion(end, text)]);
    }
    let line = format!(
        "from django.db.models import {}{}",
        names.join(", "),
        line_ending(ctx)
    );
    let at = match last_import_end {
        Some(end) => after_line(ctx.src, end),
        None => start_after_docstring(ctx),
    };
    let line = if at == ctx.src.len() && !ctx.src.is_empty() && !ctx.src.ends_with('\n') {
        format!("{}{line}", line_ending(ctx))
    } else {
        line
    };
    (String::new(), vec![Edit::insertion(at, line)])
}

fn line_ending(ctx: &FileContext) -> &'static str {
    if ctx.src.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Where the statements that share the line `node` ends on end: `import os; X = (\n 1,\n)`
/// goes on past the import's own line, and a new line after the import's would split `X`
/// (found by fuzzing: a fix that broke the syntax, rolled back).
fn end_of_line_statements(node: tree_sitter::Node) -> usize {
    let mut last = node;
    while let Some(next) = last.next_named_sibling()
        && next.start_position().row == last.end_position().row
    {
        last = next;
    }
    last.end_byte()
}

/// The offset just past the end of the line holding `offset`.
fn after_line(src: &str, offset: usize) -> usize {
    match src[offset..].find('\n') {
        Some(i) => offset + i + 1,
        None => src.len(),
    }
}

fn start_after_docstring(ctx: &FileContext) -> usize {
    let root = ctx.tree.root_node();
    let first = root.named_child(0);
    match first {
        Some(n)
            if n.node_kind() == "expression_statement"
                && n.named_child(0).is_some_and(|s| s.node_kind() == "string") =>
        {
            after_line(ctx.src, n.end_byte())
        }
        _ => 0,
    }
}
