//! Shared by the framework rules (ORM301 serializers, ORM302 admin, ORM303 templates): reading a
//! view or admin class, finding the queryset it uses (`get_queryset()` wins over `queryset`,
//! which wins over `model`), and the edits that load the missing paths there.

use super::Checker;
use super::queryset_edits::{add_lookups, manager_blocks};
use crate::analysis::queryset::Coverage;
use crate::analysis::{FileContext, Queryset, queryset::QuerysetResolver};
use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::index::ModelId;
use crate::index::frameworks::{Need, minimal_lookups, site_reads_method};
use crate::parse::NodeKind;
use crate::syntax::{call_args, dotted_name, method_call, string_quote, text, unparen};
use tree_sitter::Node;

/// Queryset methods that keep a queryset of the same model (for chains on `super()`).
const CHAIN: &[&str] = &[
    "all",
    "filter",
    "exclude",
    "order_by",
    "select_related",
    "prefetch_related",
    "distinct",
    "annotate",
    "alias",
    "only",
    "defer",
    "using",
    "reverse",
    "select_for_update",
    "complex_filter",
    "values",
    "values_list",
    "union",
];

/// A class body as the framework rules read it.
pub struct ClassView<'t> {
    pub node: Node<'t>,
    pub name: String,
    pub bases: Vec<String>,
    /// `name = value` at class level: (name, value, statement).
    pub attrs: Vec<(String, Node<'t>, Node<'t>)>,
    /// Methods: (name, function definition).
    pub methods: Vec<(String, Node<'t>)>,
    /// Decorators of the class (`@admin.register(Book)`).
    pub decorators: Vec<Node<'t>>,
    /// The text of each statement of its body but methods and comments.
    statements: Vec<&'t [u8]>,
}

impl<'t> ClassView<'t> {
    pub fn read(node: Node<'t>, src: &'t str) -> Option<ClassView<'t>> {
        if node.node_kind() != "class_definition" {
            return None;
        }
        let mut view = ClassView {
            node,
            name: text(node.child_by_field_id(crate::field!("name"))?, src).to_string(),
            bases: Vec::new(),
            attrs: Vec::new(),
            methods: Vec::new(),
            decorators: Vec::new(),
            statements: Vec::new(),
        };
        if let Some(supers) = node.child_by_field_id(crate::field!("superclasses")) {
            let mut cursor = supers.walk();
            for base in supers.named_children(&mut cursor) {
                if let Some(name) = dotted_name(base, src) {
                    view.bases.push(name);
                }
            }
        }
        if let Some(parent) = node
            .parent()
            .filter(|p| p.node_kind() == "decorated_definition")
        {
            let mut cursor = parent.walk();
            for d in parent.named_children(&mut cursor) {
                if d.node_kind() == "decorator" {
                    view.decorators.push(d);
                }
            }
        }
        let body = node.child_by_field_id(crate::field!("body"))?;
        let mut cursor = body.walk();
        for stmt in body.named_children(&mut cursor) {
            let method = stmt.node_kind() == "function_definition"
                || stmt
                    .child_by_field_id(crate::field!("definition"))
                    .is_some_and(|d| d.node_kind() == "function_definition");
            if !method && stmt.node_kind() != "comment" {
                view.statements.push(&src.as_bytes()[stmt.byte_range()]);
            }
            match stmt.node_kind() {
                "expression_statement" => {
                    if let Some(assign) = stmt
                        .named_child(0)
                        .filter(|a| a.node_kind() == "assignment")
                        && let (Some(left), Some(right)) = (
                            assign.child_by_field_id(crate::field!("left")),
                            assign.child_by_field_id(crate::field!("right")),
                        )
                        && left.node_kind() == "identifier"
                    {
                        view.attrs
                            .push((text(left, src).to_string(), unparen(right), stmt));
                    }
                }
                "function_definition" => {
                    if let Some(n) = stmt.child_by_field_id(crate::field!("name")) {
                        view.methods.push((text(n, src).to_string(), stmt));
                    }
                }
                "decorated_definition" => {
                    if let Some(def) = stmt
                        .child_by_field_id(crate::field!("definition"))
                        .filter(|d| d.node_kind() == "function_definition")
                        && let Some(n) = def.child_by_field_id(crate::field!("name"))
                    {
                        view.methods.push((text(n, src).to_string(), def));
                    }
                }
                _ => {}
            }
        }
        Some(view)
    }

    pub fn attr(&self, name: &str) -> Option<(Node<'t>, Node<'t>)> {
        self.attrs
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, s)| (*v, *s))
    }

    /// The method named `name` (the last one defined). Phase 2 may have parsed only the
    /// methods the framework rules read: [`SITE_METHODS`] and those the class's statements
    /// name; asking for another could miss it.
    pub fn method(&self, name: &str) -> Option<Node<'t>> {
        debug_assert!(
            site_reads_method(name.as_bytes(), self.statements.iter().copied()),
            "phase 2 may leave the method `{name}` out of `{}`: add it to SITE_METHODS",
            self.name
        );
        self.methods
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, f)| *f)
    }
}

/// Where a class-based view or admin gets its rows.
pub enum Site<'t> {
    /// An expression that can take more calls (the `queryset` attribute, or what
    /// `get_queryset()` returns); with the node to report at, and whether its model is only
    /// assumed from the class's `queryset`/`model` (rows of a related manager of something
    /// djopt cannot type, such as `self.request.user.books.all()`).
    Queryset(Queryset<'t>, Node<'t>, bool),
    /// Only `model = Book`: a `queryset = Book.objects...` line can be added after it.
    ModelOnly {
        model: ModelId,
        name: String,
        statement: Node<'t>,
    },
}

impl<'t> Site<'t> {
    pub fn model(&self) -> ModelId {
        match self {
            Site::Queryset(qs, _, _) => qs.model,
            Site::ModelOnly { model, .. } => *model,
        }
    }

    pub fn report_node(&self) -> Node<'t> {
        match self {
            Site::Queryset(_, node, _) => *node,
            Site::ModelOnly { statement, .. } => *statement,
        }
    }
}

/// The queryset a view class uses: `get_queryset()` (one `return`), else `queryset = …`, else
/// `model = …`. `base_model` is the model `super().get_queryset()` returns rows of.
pub fn class_site<'a: 't, 't>(
    ctx: &FileContext<'a>,
    class: &ClassView<'t>,
) -> Result<Site<'t>, String> {
    let resolver = QuerysetResolver::new(ctx);
    let attr_qs = class
        .attr("queryset")
        .and_then(|(value, _)| resolver.resolve(value, value.start_byte()));
    let model_attr = class.attr("model").and_then(|(value, stmt)| {
        let name = dotted_name(value, ctx.src)?;
        let model = ctx.model_named(&name)?.id();
        Some((model, name, stmt))
    });
    if class.method("get_queryset").is_none()
        && ctx
            .index
            .frameworks
            .inherits_method(&class.bases, "get_queryset")
    {
        return Err("a base class of the project overrides `get_queryset()`".into());
    }
    if let Some(function) = class.method("get_queryset") {
        let base = attr_qs
            .as_ref()
            .map(|q| q.model)
            .or(model_attr.as_ref().map(|m| m.0));
        let Some(ret) = single_return(function) else {
            return Err("`get_queryset()` has several `return`s".into());
        };
        if let Some(qs) = returned_queryset(ctx, function, ret, base) {
            return Ok(Site::Queryset(qs, ret, false));
        }
        return declared_rows(ctx, ret, base)
            .map(|qs| Site::Queryset(qs, ret, true))
            .ok_or_else(|| "djopt cannot read what `get_queryset()` returns".into());
    }
    if let Some((value, _)) = class.attr("queryset") {
        return attr_qs
            .map(|qs| Site::Queryset(qs, value, false))
            .ok_or_else(|| "djopt cannot read the `queryset` attribute".into());
    }
    if let Some((model, name, statement)) = model_attr {
        return Ok(Site::ModelOnly {
            model,
            name,
            statement,
        });
    }
    Err("the class sets neither `queryset`, `get_queryset()` nor `model`".into())
}

/// The value of the only `return` of a function (nested functions aside).
pub fn single_return(function: Node) -> Option<Node> {
    let returns = crate::syntax::returns(function.child_by_field_id(crate::field!("body"))?);
    match returns.values.as_slice() {
        [value] if !returns.bare => Some(unparen(*value)),
        _ => None,
    }
}

/// The queryset an expression returned by `get_queryset()` is: a chain the resolver reads
/// (`Book.objects…`), or one on `super().get_queryset(…)`, `self.queryset`, `self.model.objects`
/// (rows of `base`), directly or through a name bound in the function.
pub fn returned_queryset<'a: 't, 't>(
    ctx: &FileContext<'a>,
    function: Node<'t>,
    expr: Node<'t>,
    base: Option<ModelId>,
) -> Option<Queryset<'t>> {
    let resolver = QuerysetResolver::new(ctx);
    if let Some(qs) = resolver.resolve(expr, expr.start_byte()) {
        return Some(qs);
    }
    let base = base?;
    let src = ctx.src;
    // Calls from the expression down to its root, outermost first.
    let (root, calls) = chain_calls(expr, src)?;
    let mut qs = if is_base_queryset(root, src) {
        Queryset::rooted(base, root)
    } else if root.node_kind() == "identifier" {
        // `qs = super().get_queryset(); return qs.filter(...)`: one binding, at the top level.
        let name = text(root, src);
        let body = function.child_by_field_id(crate::field!("body"))?;
        let mut cursor = body.walk();
        let bindings: Vec<Node> = body
            .named_children(&mut cursor)
            .filter_map(|stmt| {
                stmt.named_child(0)
                    .filter(|a| a.node_kind() == "assignment")
            })
            .filter(|a| {
                a.child_by_field_id(crate::field!("left"))
                    .is_some_and(|l| text(l, src) == name)
            })
            .collect();
        let mut assignments = 0;
        crate::syntax::walk_named(body, |n| {
            if n.node_kind() == "assignment"
                && n.child_by_field_id(crate::field!("left"))
                    .is_some_and(|l| text(l, src) == name)
            {
                assignments += 1;
            }
            true
        });
        if bindings.len() != 1 || assignments != 1 {
            return None;
        }
        let value = unparen(bindings[0].child_by_field_id(crate::field!("right"))?);
        returned_queryset(ctx, function, value, Some(base))?
    } else {
        return None;
    };
    for (method, call) in calls.into_iter().rev() {
        qs.push_call(&method, call);
    }
    Some(qs)
}

/// `self.request.user.books.order_by("title")`: queryset calls on something djopt cannot type,
/// taken as rows of the model the class declares (`queryset = Book.objects.none()`, `model`).
fn declared_rows<'t>(
    ctx: &FileContext,
    expr: Node<'t>,
    base: Option<ModelId>,
) -> Option<Queryset<'t>> {
    let base = base?;
    let (root, calls) = chain_calls(expr, ctx.src)?;
    if calls.is_empty() || root.node_kind() != "attribute" {
        return None;
    }
    let mut qs = Queryset::rooted(base, root);
    for (method, call) in calls.into_iter().rev() {
        qs.push_call(&method, call);
    }
    Some(qs)
}

/// `a.filter(x).order_by(y)` → (`a`, [(order_by, …), (filter, …)]).
fn chain_calls<'t>(expr: Node<'t>, src: &str) -> Option<(Node<'t>, Vec<(String, Node<'t>)>)> {
    let mut calls = Vec::new();
    let mut node = unparen(expr);
    loop {
        match method_call(node, src) {
            Some((object, method)) if CHAIN.contains(&method.as_str()) => {
                calls.push((method, node));
                node = unparen(object);
            }
            _ => return Some((node, calls)),
        }
    }
}

/// `super().get_queryset(...)`, `self.queryset`, `self.model.objects`, `self.model._default_manager`.
fn is_base_queryset(node: Node, src: &str) -> bool {
    if let Some((object, method)) = method_call(node, src)
        && method == "get_queryset"
    {
        let object = unparen(object);
        return object.node_kind() == "call"
            && object
                .child_by_field_id(crate::field!("function"))
                .is_some_and(|f| text(f, src) == "super");
    }
    matches!(
        text(node, src),
        "self.queryset" | "self.model.objects" | "self.model._default_manager"
    )
}

/// `.values()`, `.values_list()`, `.dates()`: rows are not model instances, nothing is lazy.
pub fn rows_are_not_instances(qs: &Queryset) -> bool {
    qs.blocker().is_some_and(|b| b.method.starts_with("values"))
        || qs.has_call("dates")
        || qs.has_call("datetimes")
}

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
    let mut out = format!("{name}.{manager}");
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
        Err(reason) => message.push_str(&format!(" (no automatic fix: {reason})")),
        Ok((_, Some(reason))) => message.push_str(&format!(" (unsafe fix: {reason})")),
        Ok(_) => {}
    }
    checker.report(Diagnostic {
        rule: checker.rule.meta.code.as_str(),
        message,
        start: node.start_byte(),
        end: node.end_byte(),
        also_suppressed_at: Vec::new(),
        fix: fix.ok().map(|(f, _)| f),
    });
}
