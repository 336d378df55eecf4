//! Per-file facts for the index: classes, their bases, field declarations, managers, imports.
//! Runs in parallel over files; keeps no syntax tree.

pub use super::FileFacts;
pub use super::imports::{Import, imports_from};
pub use super::reads::SelfRead;
use super::reads::{WriteTarget, self_reads, write_target};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, dotted_name, is_true, last_segment, string_value, text, unparen};
use std::path::Path;
use tree_sitter::{Node, Tree};

#[derive(Clone, Debug, Default)]
pub struct RawClass {
    pub name: String,
    pub line: usize,
    pub bases: Vec<String>,
    pub fields: Vec<RawField>,
    pub is_abstract: bool,
    /// `Meta.ordering` is set.
    pub ordered: bool,
    pub app_label: Option<String>,
    pub proxy: bool,
    pub managers: Vec<(String, String)>,
    pub get_queryset: Option<RawGetQueryset>,
    /// Methods, properties and other class attributes that are not fields: they shadow any
    /// inherited field or reverse accessor of the same name.
    pub members: Vec<String>,
    /// What each method or property reads from `self`: attribute chains (`self.author.name` →
    /// `["author", "name"]`), with whether the last name is called.
    pub member_reads: Vec<(String, Vec<SelfRead>)>,
    /// Methods that return a queryset built from `self` (custom QuerySet/Manager methods).
    pub queryset_methods: Vec<QuerysetMethod>,
    /// Methods whose body writes to the database (`save()`, `delete()`, `update()`…), with
    /// what each write is called on.
    pub writing_members: Vec<(String, Vec<WriteTarget>)>,
    /// Methods phase 1 did not parse (their names are in `members`): read when asked.
    pub lazy_methods: Vec<std::sync::Arc<super::lazy::LazyMethod>>,
    /// Where each of `members` is defined (byte offset), to add the lazy ones in order.
    member_starts: Vec<usize>,
}

impl RawClass {
    /// Adds a method phase 1 did not parse, defined at byte `start`.
    pub fn add_lazy_method(
        &mut self,
        start: usize,
        method: std::sync::Arc<super::lazy::LazyMethod>,
    ) {
        let at = self.member_starts.partition_point(|&s| s < start);
        self.members.insert(at, method.name.clone());
        self.member_starts.insert(at, start);
        self.lazy_methods.push(method);
    }
}

/// `def published_books(): return Book.objects.filter(...)` at module level.
#[derive(Clone, Debug)]
pub struct RawQuerysetFunction {
    pub name: String,
    /// The model's class name as written (`Book`, `models.Book`).
    pub model: String,
    pub manager: String,
    /// What the chain already loads, and whether it narrows rows (`only()`, `values()`…).
    pub summary: QuerysetMethod,
}

#[derive(Clone, Debug, Default)]
pub struct QuerysetMethod {
    pub name: String,
    /// Lookups it already passes to `select_related` / `prefetch_related`.
    pub select_related: Vec<String>,
    pub prefetch_related: Vec<String>,
    /// Uses `only()`/`values()`/`union()`…, after which lookups cannot be added safely.
    pub blocks: bool,
}

#[derive(Clone, Debug, Default)]
pub struct RawGetQueryset {
    pub select_related: Vec<String>,
    pub select_related_all: bool,
    pub prefetch_related: Vec<String>,
    pub filters: bool,
    pub blocks: bool,
}

#[derive(Clone, Debug)]
pub struct RawField {
    pub name: String,
    pub callee: String,
    pub target: Option<RawTarget>,
    pub related_name: Option<String>,
    pub related_query_name: Option<String>,
    pub null: bool,
    pub through: Option<String>,
    pub symmetrical: Option<bool>,
    pub parent_link: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawTarget {
    /// `"Model"`, `"app.Model"`, `"self"`.
    String(String),
    /// `Model` or `module.Model` as a name.
    Name(String),
    /// `settings.AUTH_USER_MODEL` / `get_user_model()`.
    AuthUser,
}

/// `pkg/app/models.py` → `pkg.app.models`; `pkg/app/__init__.py` → `pkg.app`.
pub fn module_name(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if let Some(last) = parts.last_mut()
        && let Some(stem) = last.strip_suffix(".py")
    {
        *last = stem.to_string();
    }
    if parts.last().is_some_and(|p| p == "__init__") {
        parts.pop();
    }
    parts.join(".")
}

fn app_label_for(relative: &Path) -> String {
    let comps: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    // The folder that holds `models.py` or the `models/` package; else the file's folder.
    if let Some(pos) = comps
        .iter()
        .rposition(|c| c == "models" || c == "models.py")
        && pos > 0
    {
        return comps[pos - 1].clone();
    }
    if comps.len() >= 2 {
        return comps[comps.len() - 2].clone();
    }
    comps
        .first()
        .map(|c| c.trim_end_matches(".py").to_string())
        .unwrap_or_default()
}

/// Cheap byte test: can this file define anything the index records?
pub fn may_define_models(bytes: &[u8]) -> bool {
    crate::finder!(b"class ").find(bytes).is_some()
        || crate::finder!(b"AUTH_USER_MODEL").find(bytes).is_some()
        // `def published(): return Book.objects…` (functions returning querysets)
        || crate::finder!(b".objects").find(bytes).is_some()
        || super::frameworks::may_define(bytes)
}

pub fn extract_file(relative: &Path, src: &str, tree: &Tree) -> FileFacts {
    let module = module_name(relative);
    let mut facts = FileFacts {
        path: relative.to_string_lossy().into_owned(),
        app_label: app_label_for(relative),
        module: module.clone(),
        ..FileFacts::default()
    };
    let is_package = relative.file_name().is_some_and(|n| n == "__init__.py");
    let root = tree.root_node();
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        top_level(node, src, &module, is_package, &mut facts);
    }
    facts.frameworks = super::frameworks::extract(relative, src, tree);
    facts
}

fn top_level(node: Node, src: &str, module: &str, is_package: bool, facts: &mut FileFacts) {
    match node.node_kind() {
        "import_from_statement" => imports_from(node, src, module, is_package, &mut facts.imports),
        "import_statement" => super::imports::imports_plain(node, src, &mut facts.imports),
        "class_definition" => facts.classes.push(class(node, src)),
        "function_definition" => {
            if let Some(f) = queryset_function(node, src) {
                facts.queryset_functions.push(f);
            }
        }
        "decorated_definition" => {
            if let Some(def) = node.child_by_field_id(crate::field!("definition"))
                && def.node_kind() == "class_definition"
            {
                facts.classes.push(class(def, src));
            }
        }
        "expression_statement" => {
            if let Some(assign) = node.named_child(0)
                && assign.node_kind() == "assignment"
                && let (Some(left), Some(right)) = (
                    assign.child_by_field_id(crate::field!("left")),
                    assign.child_by_field_id(crate::field!("right")),
                )
            {
                if text(left, src) == "AUTH_USER_MODEL" {
                    facts.auth_user_model = string_value(right, src);
                } else if left.node_kind() == "identifier"
                    && let Some((base, qs)) = from_queryset_call(right, src)
                {
                    facts
                        .manager_aliases
                        .push((text(left, src).to_string(), base, qs));
                }
            }
        }
        "if_statement" | "try_statement" => {
            // Conditional imports and definitions: look one level in.
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if child.node_kind() == "block" {
                    let mut inner = child.walk();
                    for stmt in child.named_children(&mut inner) {
                        top_level(stmt, src, module, is_package, facts);
                    }
                } else if matches!(
                    child.node_kind(),
                    "else_clause" | "except_clause" | "elif_clause" | "finally_clause"
                ) {
                    top_level(child, src, module, is_package, facts);
                }
            }
        }
        "else_clause" | "except_clause" | "elif_clause" | "finally_clause" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if child.node_kind() == "block" {
                    let mut inner = child.walk();
                    for stmt in child.named_children(&mut inner) {
                        top_level(stmt, src, module, is_package, facts);
                    }
                }
            }
        }
        _ => {}
    }
}

fn class(node: Node, src: &str) -> RawClass {
    let mut raw = RawClass {
        name: node
            .child_by_field_id(crate::field!("name"))
            .map(|n| text(n, src).to_string())
            .unwrap_or_default(),
        line: node.start_position().row + 1,
        ..RawClass::default()
    };
    if let Some(supers) = node.child_by_field_id(crate::field!("superclasses")) {
        let mut cursor = supers.walk();
        for base in supers.named_children(&mut cursor) {
            if let Some(name) = crate::syntax::base_name(base, src) {
                raw.bases.push(name);
            } else if base.node_kind() == "call" {
                // `Manager.from_queryset(QS)` as a base: the manager gets QS's methods too.
                if let Some(f) = base.child_by_field_id(crate::field!("function"))
                    && let Some(name) = dotted_name(f, src)
                {
                    raw.bases.push(name);
                    if let Some(qs) = call_args(base, src)
                        .positional
                        .first()
                        .and_then(|a| dotted_name(*a, src))
                    {
                        raw.bases.push(qs);
                    }
                }
            }
        }
    }
    let Some(body) = node.child_by_field_id(crate::field!("body")) else {
        return raw;
    };
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
        match stmt.node_kind() {
            "expression_statement" => {
                if let Some(assign) = stmt.named_child(0)
                    && assign.node_kind() == "assignment"
                {
                    let before = raw.fields.len() + raw.managers.len();
                    class_assignment(assign, src, &mut raw);
                    if raw.fields.len() + raw.managers.len() == before
                        && let Some(left) = assign.child_by_field_id(crate::field!("left"))
                        && left.node_kind() == "identifier"
                    {
                        raw.members.push(text(left, src).to_string());
                        raw.member_starts.push(stmt.start_byte());
                    }
                }
            }
            "class_definition"
                if stmt
                    .child_by_field_id(crate::field!("name"))
                    .is_some_and(|n| text(n, src) == "Meta") =>
            {
                meta(stmt, src, &mut raw);
            }
            "function_definition" => {
                if let Some(n) = stmt.child_by_field_id(crate::field!("name")) {
                    raw.members.push(text(n, src).to_string());
                    raw.member_starts.push(stmt.start_byte());
                }
                method(stmt, src, &mut raw);
            }
            "decorated_definition" => {
                if let Some(def) = stmt.child_by_field_id(crate::field!("definition"))
                    && def.node_kind() == "function_definition"
                {
                    if let Some(n) = def.child_by_field_id(crate::field!("name")) {
                        raw.members.push(text(n, src).to_string());
                        raw.member_starts.push(stmt.start_byte());
                    }
                    method(def, src, &mut raw);
                }
            }
            _ => {}
        }
    }
    raw
}

/// `Base.from_queryset(QS)` (not called): (`Base`, `QS`) as dotted names.
fn from_queryset_call(call: Node, src: &str) -> Option<(String, String)> {
    let call = unparen(call);
    if call.node_kind() != "call" {
        return None;
    }
    let function = call.child_by_field_id(crate::field!("function"))?;
    if function.node_kind() != "attribute" {
        return None;
    }
    let base = function.child_by_field_id(crate::field!("object"))?;
    let method = function.child_by_field_id(crate::field!("attribute"))?;
    if text(method, src) != "from_queryset" {
        return None;
    }
    let qs = call_args(call, src)
        .positional
        .first()
        .and_then(|a| dotted_name(*a, src))?;
    Some((dotted_name(base, src)?, qs))
}

fn class_assignment(assign: Node, src: &str, raw: &mut RawClass) {
    let (Some(left), Some(right)) = (
        assign.child_by_field_id(crate::field!("left")),
        assign.child_by_field_id(crate::field!("right")),
    ) else {
        return;
    };
    if left.node_kind() != "identifier" {
        return;
    }
    let name = text(left, src).to_string();
    let right = unparen(right);
    if right.node_kind() != "call" {
        return;
    }
    let Some(function) = right.child_by_field_id(crate::field!("function")) else {
        return;
    };
    // `Manager.from_queryset(QS)()`: behaves like `QS.as_manager()`.
    if function.node_kind() == "call" {
        if let Some(inner) = function.child_by_field_id(crate::field!("function"))
            && let Some(callee) = dotted_name(inner, src)
            && callee.ends_with("from_queryset")
        {
            let qs = call_args(function, src)
                .positional
                .first()
                .and_then(|a| dotted_name(*a, src));
            match qs {
                Some(qs) => raw.managers.push((name, format!("{qs}.as_manager"))),
                None => raw.managers.push((name, callee)),
            }
        }
        return;
    }
    let Some(callee) = dotted_name(function, src) else {
        return;
    };
    let last = last_segment(&callee);
    // `TaggableManager()` is a relation (django-taggit), not a manager of rows.
    if (last.ends_with("Manager") && relation_kind_of(last).is_none()) || last == "as_manager" {
        raw.managers.push((name, callee));
        return;
    }
    if !is_field_callee(last) {
        return;
    }
    let args = call_args(right, src);
    let target = if last == "TaggableManager" {
        // django-taggit: its first argument is a verbose name; the tags are `taggit.Tag`
        // unless `to=` names another model (a custom `through=` is read when resolving).
        Some(
            args.keyword("to")
                .and_then(|n| raw_target(n, src))
                .unwrap_or_else(|| RawTarget::String("taggit.Tag".into())),
        )
    } else {
        let target_node = args
            .keyword("to")
            .or_else(|| args.positional.first().copied());
        target_node.and_then(|n| raw_target(n, src))
    };
    let related_name = args
        .keyword("related_name")
        .and_then(|n| string_value(n, src));
    raw.fields.push(RawField {
        name,
        callee: callee.clone(),
        target: if relation_kind_of(last).is_some() {
            target
        } else {
            None
        },
        related_name,
        related_query_name: args
            .keyword("related_query_name")
            .and_then(|n| string_value(n, src)),
        null: args.keyword("null").is_some_and(is_true),
        through: args.keyword("through").and_then(|n| {
            string_value(n, src).or_else(|| dotted_name(n, src).map(|d| last_segment(&d).into()))
        }),
        symmetrical: args.keyword("symmetrical").map(is_true),
        parent_link: args.keyword("parent_link").is_some_and(is_true),
    });
}

/// Field classes by their name. Relations first; anything `*Field` is a plain column.
pub fn relation_kind_of(callee_last: &str) -> Option<super::FieldKind> {
    use super::FieldKind::*;
    Some(match callee_last {
        "ForeignKey" | "ParentalKey" | "TreeForeignKey" | "ForeignObject" => ForeignKey,
        "OneToOneField" => OneToOne,
        "ManyToManyField"
        | "ParentalManyToManyField"
        | "TreeManyToManyField"
        | "TaggableManager" => ManyToMany,
        "GenericForeignKey" => GenericForeignKey,
        "GenericRelation" => GenericRelation,
        _ => return None,
    })
}

fn is_field_callee(last: &str) -> bool {
    relation_kind_of(last).is_some() || last.ends_with("Field")
}

fn raw_target(node: Node, src: &str) -> Option<RawTarget> {
    let node = unparen(node);
    if let Some(s) = string_value(node, src) {
        return Some(RawTarget::String(s));
    }
    if node.node_kind() == "call" {
        let callee = node
            .child_by_field_id(crate::field!("function"))
            .and_then(|f| dotted_name(f, src))?;
        return (last_segment(&callee) == "get_user_model").then_some(RawTarget::AuthUser);
    }
    let dotted = dotted_name(node, src)?;
    if dotted.ends_with("AUTH_USER_MODEL") {
        return Some(RawTarget::AuthUser);
    }
    Some(RawTarget::Name(dotted))
}

fn meta(node: Node, src: &str, raw: &mut RawClass) {
    let Some(body) = node.child_by_field_id(crate::field!("body")) else {
        return;
    };
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
        let Some(assign) = stmt.named_child(0) else {
            continue;
        };
        if assign.node_kind() != "assignment" {
            continue;
        }
        let (Some(left), Some(right)) = (
            assign.child_by_field_id(crate::field!("left")),
            assign.child_by_field_id(crate::field!("right")),
        ) else {
            continue;
        };
        match text(left, src) {
            "abstract" => raw.is_abstract = is_true(right),
            "proxy" => raw.proxy = is_true(right),
            "ordering" => {
                raw.ordered = !matches!(right.node_kind(), "none") && text(right, src) != "[]"
            }
            "app_label" => raw.app_label = string_value(right, src),
            _ => {}
        }
    }
}

/// A method left for later, read when first asked (see [`super::lazy`]): its reads from
/// `self`, whether it writes, and what the framework rules read through it.
pub fn lazy_facts(def: Node, src: &str) -> super::lazy::LazyFacts {
    let (reads, writes) = method_facts(def, src);
    let framework_reads = super::frameworks::raw_method(def, src).self_reads;
    super::lazy::LazyFacts {
        reads,
        writes: writes.is_some(),
        write_targets: writes.unwrap_or_default(),
        framework_reads,
    }
}

/// What the index reads of one method: its reads from `self`, and what it writes to (None
/// when it does not write).
fn method_facts(node: Node, src: &str) -> (Vec<SelfRead>, Option<Vec<WriteTarget>>) {
    let mut raw = RawClass::default();
    method(node, src, &mut raw);
    let reads = raw.member_reads.pop().map(|(_, r)| r).unwrap_or_default();
    (reads, raw.writing_members.pop().map(|(_, t)| t))
}

fn method(node: Node, src: &str, raw: &mut RawClass) {
    let Some(name) = node.child_by_field_id(crate::field!("name")) else {
        return;
    };
    let name = text(name, src);
    if let Some(body) = node.child_by_field_id(crate::field!("body")) {
        let reads = self_reads(body, src);
        if !reads.is_empty() {
            raw.member_reads.push((name.to_string(), reads));
        }
        if let Some(targets) = write_targets(body, src) {
            raw.writing_members.push((name.to_string(), targets));
        }
        if name != "get_queryset"
            && !name.starts_with("__")
            && let Some(qm) = queryset_method(name, body, src)
        {
            raw.queryset_methods.push(qm);
        }
    }
    if name != "get_queryset" {
        return;
    }
    let Some(body) = node.child_by_field_id(crate::field!("body")) else {
        return;
    };
    let mut gq = RawGetQueryset::default();
    crate::syntax::walk_named(body, |n| {
        if let Some((_, method)) = crate::syntax::method_call(n, src) {
            let args = call_args(n, src);
            match method.as_str() {
                "select_related" => {
                    if args.positional.is_empty() {
                        gq.select_related_all = true;
                    }
                    gq.select_related
                        .extend(args.positional.iter().filter_map(|a| string_value(*a, src)));
                }
                "prefetch_related" => {
                    for a in &args.positional {
                        if let Some(s) = string_value(*a, src) {
                            gq.prefetch_related.push(s);
                        } else if a.node_kind() == "call" {
                            // Prefetch("lookup", ...)
                            let inner = call_args(*a, src);
                            if let Some(s) =
                                inner.positional.first().and_then(|f| string_value(*f, src))
                            {
                                gq.prefetch_related.push(s);
                            }
                        }
                    }
                }
                m if crate::django::FILTERING.contains(&m) => gq.filters = true,
                m if crate::django::NARROWING.contains(&m) => gq.blocks = true,
                _ => {}
            }
        }
        true
    });
    raw.get_queryset = Some(gq);
}

/// A module-level function whose every `return` is `Model.<manager>.<chain>`.
fn queryset_function(node: Node, src: &str) -> Option<RawQuerysetFunction> {
    let name = text(node.child_by_field_id(crate::field!("name"))?, src).to_string();
    let body = node.child_by_field_id(crate::field!("body"))?;
    let returns = crate::syntax::returns(body).only_values()?;
    let mut found: Option<(String, String)> = None;
    let mut summary = QuerysetMethod {
        name: name.clone(),
        ..QuerysetMethod::default()
    };
    for value in returns {
        let mut node = unparen(value);
        let mut calls = Vec::new();
        while node.node_kind() == "call" {
            let function = node.child_by_field_id(crate::field!("function"))?;
            if function.node_kind() != "attribute" {
                return None;
            }
            calls.push((
                text(function.child_by_field_id(crate::field!("attribute"))?, src),
                node,
            ));
            node = unparen(function.child_by_field_id(crate::field!("object"))?);
        }
        // node: `Model.manager`
        if node.node_kind() != "attribute" {
            return None;
        }
        let model = dotted_name(node.child_by_field_id(crate::field!("object"))?, src)?;
        let manager = text(node.child_by_field_id(crate::field!("attribute"))?, src).to_string();
        match &found {
            Some(f) if *f != (model.clone(), manager.clone()) => return None,
            _ => found = Some((model, manager)),
        }
        for (method, call) in calls {
            let args = call_args(call, src);
            match method {
                "select_related" => summary
                    .select_related
                    .extend(args.positional.iter().filter_map(|a| string_value(*a, src))),
                "prefetch_related" => summary
                    .prefetch_related
                    .extend(args.positional.iter().filter_map(|a| string_value(*a, src))),
                m if crate::django::NARROWING.contains(&m) => summary.blocks = true,
                m if crate::django::KEEPS_ROWS.contains(&m) => {}
                _ => return None, // get(), first(), count()… or a custom method: not followed
            }
        }
    }
    let (model, manager) = found?;
    Some(RawQuerysetFunction {
        name,
        model,
        manager,
        summary,
    })
}

/// A method whose every `return` is a queryset built from `self` (`return self.filter(...)`,
/// `return self.get_queryset().filter(...)`, `return super().get_queryset()...`).
fn queryset_method(name: &str, body: Node, src: &str) -> Option<QuerysetMethod> {
    // No `return` in its text, no queryset returned: no walk.
    crate::finder!(b"return").find(&src.as_bytes()[body.start_byte()..body.end_byte()])?;
    let returns = crate::syntax::returns(body).only_values()?;
    let mut qm = QuerysetMethod {
        name: name.to_string(),
        ..QuerysetMethod::default()
    };
    for value in returns {
        let mut node = unparen(value);
        let mut calls = Vec::new();
        loop {
            match node.node_kind() {
                "call" => {
                    let function = node.child_by_field_id(crate::field!("function"))?;
                    if function.node_kind() == "attribute" {
                        let method =
                            text(function.child_by_field_id(crate::field!("attribute"))?, src);
                        calls.push((method.to_string(), node));
                        node = unparen(function.child_by_field_id(crate::field!("object"))?);
                    } else if text(function, src) == "super" {
                        break;
                    } else {
                        return None;
                    }
                }
                "identifier" if text(node, src) == "self" => break,
                _ => return None,
            }
        }
        // Every call must keep a queryset (`get_queryset`, `all`, `filter`…, or `_chain`).
        for (method, call) in &calls {
            let args = call_args(*call, src);
            match method.as_str() {
                "select_related" => qm
                    .select_related
                    .extend(args.positional.iter().filter_map(|a| string_value(*a, src))),
                "prefetch_related" => qm
                    .prefetch_related
                    .extend(args.positional.iter().filter_map(|a| string_value(*a, src))),
                m if crate::django::NARROWING.contains(&m) => qm.blocks = true,
                m if crate::django::KEEPS_ROWS_IN_CLASS.contains(&m) => {}
                m if crate::django::ENDS_CHAIN.contains(&m) => return None,
                // Another custom method of the class: it keeps a queryset if it is one of these
                // (checked when the index is built).
                _ => {}
            }
        }
    }
    Some(qm)
}

/// What the writes in `body` are called on; None when it does not write.
pub(crate) fn write_targets(body: Node, src: &str) -> Option<Vec<WriteTarget>> {
    // A write calls one of these by name: no walk for a body that does not mention one.
    let bytes = &src.as_bytes()[body.start_byte()..body.end_byte()];
    static FINDERS: crate::text::needle::Finders = crate::text::needle::Finders::new(|| {
        crate::django::WRITE_METHODS
            .iter()
            .map(|m| memchr::memmem::Finder::new(m.as_bytes()))
            .collect()
    });
    if !FINDERS.any_in(bytes) {
        return None;
    }
    let mut found: Option<Vec<WriteTarget>> = None;
    crate::syntax::walk_named(body, |n| {
        if let Some((object, method)) = crate::syntax::method_call(n, src)
            && crate::django::WRITE_METHODS.contains(&method.as_str())
        {
            let target = write_target(object, src);
            let targets = found.get_or_insert_with(Vec::new);
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(module_name(Path::new("shop/models.py")), "shop.models");
        assert_eq!(
            module_name(Path::new("shop/models/__init__.py")),
            "shop.models"
        );
        assert_eq!(app_label_for(Path::new("src/shop/models/book.py")), "shop");
        assert_eq!(app_label_for(Path::new("shop/admin.py")), "shop");
    }
}
