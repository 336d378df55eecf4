//! Sites: the classes and calls through which a framework runs queries without a loop in
//! sight (a DRF view, a `ModelAdmin`, a `ListView`), read as the rules and the loop analysis
//! need them: the class body, the queryset it uses (`get_queryset()` wins over `queryset`,
//! which wins over `model`), the models an admin is registered for and what its changelist
//! already loads.

use super::classes::ClassView;
use super::queryset::Coverage;
use super::resolve::{QuerysetResolver, chain_calls, returned_queryset, single_return};
use super::{FileContext, Queryset};
use crate::index::ModelId;
use crate::syntax::NodeKind;
use crate::syntax::dotted_name;
use tree_sitter::Node;

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
