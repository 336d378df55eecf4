//! Sites: the classes and calls through which a framework runs queries without a loop in
//! sight (a DRF view, a `ModelAdmin`, a `ListView`), read as the rules and the loop analysis
//! need them: the class body, the queryset it uses (`get_queryset()` wins over `queryset`,
//! which wins over `model`), the models an admin is registered for and what its changelist
//! already loads.

use super::queryset::{Coverage, QuerysetResolver};
use super::{FileContext, Queryset};
use crate::index::ModelId;
use crate::index::frameworks::site_reads_method;
use crate::syntax::NodeKind;
use crate::syntax::{call_args, dotted_name, method_call, text, unparen};
use tree_sitter::Node;

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
                if let Some(name) = crate::syntax::base_name(base, src) {
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
// One `Site` per class read: its size does not matter.
#[allow(clippy::large_enum_variant)]
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
            Some((object, method)) if crate::django::SITE_CHAIN.contains(&method.as_str()) => {
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

/// The paths the manager and the admin's own `get_queryset()` already load (None: unreadable).
pub fn base_coverage(ctx: &FileContext, class: &ClassView, model: ModelId) -> Option<Coverage> {
    let mut cov = Coverage::default();
    if let Some(m) = ctx.index.model(model).managers.first() {
        cov.select = m.select_related.clone();
        cov.select_all = m.select_related_all;
        cov.prefetch = m.prefetch_related.clone();
    }
    if let Some(function) = class.method("get_queryset") {
        let ret = single_return(function)?;
        let qs = returned_queryset(ctx, function, ret, Some(model))?;
        let own = qs.coverage(ctx);
        cov.select.extend(own.select);
        cov.select_all |= own.select_all;
        cov.prefetch.extend(own.prefetch);
        cov.unknown |= own.unknown;
    }
    Some(cov)
}

/// The models an admin class is registered for: `@admin.register(Book)` on it, or
/// `admin.site.register(Book, BookAdmin)` in the same file.
pub fn registered_models(ctx: &FileContext, class: &ClassView) -> Vec<ModelId> {
    let src = ctx.src;
    let mut out = Vec::new();
    let add = |node: Node, out: &mut Vec<ModelId>| {
        let node = unparen(node);
        let items: Vec<Node> = if matches!(node.node_kind(), "list" | "tuple") {
            let mut c = node.walk();
            node.named_children(&mut c).collect()
        } else {
            vec![node]
        };
        for item in items {
            if let Some(name) = dotted_name(item, src)
                && let Some(r) = ctx.model_named(crate::syntax::last_segment(&name))
            {
                out.push(r.id());
            } else {
                out.push(usize::MAX); // something we cannot read: counts as another model
            }
        }
    };
    for d in &class.decorators {
        if let Some(call) = d.named_child(0).filter(|c| c.node_kind() == "call")
            && let Some(f) = call.child_by_field_id(crate::field!("function"))
            && dotted_name(f, src).is_some_and(|n| n.ends_with("register"))
        {
            for arg in call_args(call, src).positional {
                add(arg, &mut out);
            }
        }
    }
    crate::syntax::walk_named(ctx.tree.root_node(), |n| {
        if let Some((_, method)) = method_call(n, src)
            && method == "register"
        {
            let args = call_args(n, src);
            if args.positional.len() >= 2 && text(args.positional[1], src) == class.name {
                add(args.positional[0], &mut out);
            }
            return false;
        }
        !matches!(n.node_kind(), "function_definition")
    });
    if out.contains(&usize::MAX) {
        return vec![usize::MAX, usize::MAX];
    }
    out.sort();
    out.dedup();
    out
}

/// The rows an admin action receives as its `queryset` parameter: those of the admin's
/// changelist, that is its `get_queryset()` (or the model's default manager) with the
/// changelist's `list_select_related` joins. `params` is the parameter list of a method of a
/// `ModelAdmin` listed in its `actions`, and `name` its third parameter. None when it is not
/// one; `Err` when it is one whose rows djopt cannot read (the loop is then not analysed).
pub fn admin_action_queryset<'a: 't, 't>(
    ctx: &FileContext<'a>,
    params: Node<'t>,
    name: &str,
) -> Option<Result<Queryset<'t>, ()>> {
    let src = ctx.src;
    let function = params
        .parent()
        .filter(|f| f.node_kind() == "function_definition")?;
    let names = crate::index::frameworks::reads::parameter_names(function, src);
    if names.len() != 3 || names[0] != "self" || names[2] != name {
        return None;
    }
    let method = text(function.child_by_field_id(crate::field!("name"))?, src);
    let mut class = function.parent()?;
    while class.node_kind() != "class_definition" {
        class = class.parent().filter(|p| {
            matches!(
                p.node_kind(),
                "block" | "decorated_definition" | "class_definition"
            )
        })?;
    }
    let view = ClassView::read(class, src)?;
    let bases = ctx.index.frameworks.all_bases(&view.bases);
    let admin = bases
        .iter()
        .any(|b| b.ends_with("ModelAdmin") && b != "InlineModelAdmin")
        && !bases.iter().any(|b| b.ends_with("Inline"));
    if !admin {
        return None;
    }
    let (actions, _) = view.attr("actions")?;
    if !string_items(actions, src).is_some_and(|list| list.iter().any(|a| a == method)) {
        return None;
    }
    let models = registered_models(ctx, &view);
    let [model] = models.as_slice() else {
        return Some(Err(()));
    };
    let model = *model;
    if view.method("get_queryset").is_none()
        && ctx
            .index
            .frameworks
            .inherits_method(&view.bases, "get_queryset")
    {
        return Some(Err(())); // a base class of the project decides
    }
    let mut qs = match view.method("get_queryset") {
        Some(get_queryset) => {
            let Some(ret) = single_return(get_queryset) else {
                return Some(Err(()));
            };
            match returned_queryset(ctx, get_queryset, ret, Some(model)) {
                Some(qs) if qs.model == model => qs,
                _ => return Some(Err(())),
            }
        }
        None => Queryset::rooted(model, params),
    };
    if qs.manager.is_none() {
        // ModelAdmin.get_queryset starts from the model's default manager.
        qs.manager = ctx
            .index
            .model(model)
            .managers
            .first()
            .map(|m| m.name.clone());
    }
    // What the changelist joins before the action sees the rows (Django's
    // `ChangeList.apply_select_related`, when get_queryset did not select_related itself).
    if !qs.has_call("select_related") {
        match view.attr("list_select_related") {
            Some((value, _)) if value.node_kind() == "true" => qs.site_select_all = true,
            Some((value, _)) if value.node_kind() == "false" => {
                qs.site_select_all = lists_a_foreign_key(ctx, &view, model)
            }
            None => qs.site_select_all = lists_a_foreign_key(ctx, &view, model),
            Some((value, _)) => match string_items(value, src) {
                Some(list) => qs.site_select = list,
                None => return Some(Err(())),
            },
        }
    }
    Some(Ok(qs))
}

/// Does the admin's `list_display` name a ForeignKey of the model itself? (Then the changelist
/// calls `select_related()` on its own.) Unreadable counts as yes: the rows may be joined.
fn lists_a_foreign_key(ctx: &FileContext, view: &ClassView, model: ModelId) -> bool {
    let Some((value, _)) = view.attr("list_display") else {
        return false;
    };
    let Some(items) = string_items(value, ctx.src) else {
        return true;
    };
    items.iter().any(|item| {
        ctx.index.field(model, item).is_some_and(|f| {
            matches!(
                f.kind,
                crate::index::FieldKind::ForeignKey | crate::index::FieldKind::OneToOne
            )
        })
    })
}

/// The strings of a list or tuple literal (`["a", "b"]`); None for anything else or an item
/// that is not a plain string.
fn string_items(value: Node, src: &str) -> Option<Vec<String>> {
    let value = unparen(value);
    if !matches!(value.node_kind(), "list" | "tuple") {
        return None;
    }
    let mut cursor = value.walk();
    value
        .named_children(&mut cursor)
        .filter(|n| n.node_kind() != "comment")
        .map(|n| crate::syntax::string_value(n, src))
        .collect()
}
