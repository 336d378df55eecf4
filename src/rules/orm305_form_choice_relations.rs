//! ORM305: a form's model choice field renders one option per row of its queryset, and each
//! option's label (`str(obj)`, or a project `label_from_instance`) reads relations the queryset
//! does not load.

use super::shared::framework::{call_fix, missing, report};
use super::{Captures, Checker};
use crate::analysis::FileContext;
use crate::analysis::classes::ClassView;
use crate::analysis::resolve::QuerysetResolver;
use crate::index::frameworks::forms::CHOICE_FIELDS;
use crate::index::frameworks::{follow, stringify};
use crate::index::paths::{Cursor, Need};
use crate::index::reads::{parameter_names, reads_from};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, dotted_name, last_segment, string_value, text, unparen};
use crate::text::trigger::Trigger;
use tree_sitter::Node;

/// What the prefilter must see before this rule can find anything: a choice field or a
/// field's queryset set, where a queryset is built; and the choice field classes of the project
/// (their `label_from_instance`).
pub const TRIGGERS: &[Trigger] = &[
    Trigger::WithQuerysetSource(choice_field),
    Trigger::SiteClass,
];

fn choice_field(text: &[u8]) -> bool {
    // `ModelChoiceField(...)`, a project field's `queryset=...`, `self.fields[...].queryset`.
    crate::finder!(b"ModelChoiceField").find(text).is_some()
        || crate::finder!(b"ModelMultipleChoiceField")
            .find(text)
            .is_some()
        || (crate::finder!(b"queryset=").find(text).is_some()
            && crate::finder!(b"Field(").find(text).is_some())
        || (crate::finder!(b"fields[").find(text).is_some()
            && crate::finder!(b".queryset").find(text).is_some())
}

/// Django's widgets that render every row of the queryset as an option.
const OPTION_WIDGETS: &[&str] = &[
    "Select",
    "SelectMultiple",
    "RadioSelect",
    "CheckboxSelectMultiple",
];

/// How a field labels its options.
enum Label<'t> {
    /// `str(obj)`: Django's `label_from_instance`.
    Str,
    /// A project `label_from_instance(self, obj)`, read in this file.
    Method(Node<'t>),
}

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    if let (Some(call), Some(callee)) = (captures.get("call"), captures.get("callee")) {
        field_call(checker, call, callee);
    } else if let (Some(assign), Some(value)) = (captures.get("assign"), captures.get("value")) {
        fields_assignment(checker, assign, value);
    } else if let Some(class) = captures.get("class") {
        model_form(checker, class);
    }
}

/// A `ModelForm` whose `Meta.fields` names a ForeignKey or ManyToManyField it does not declare
/// and whose queryset it never sets: the form's `ModelChoiceField` over the related model's
/// default manager. The fix sets the queryset in a new `__init__` (after Django's, which has
/// applied `limit_choices_to`).
fn model_form<'a>(checker: &mut Checker<'_, 'a>, node: Node<'a>) {
    let ctx = checker.ctx;
    let src = ctx.src;
    let fw = &ctx.index.frameworks;
    let Some(header) = ClassView::read(node, src) else {
        return;
    };
    let bases = fw.all_bases(&header.bases);
    if !bases.iter().any(|b| b == "ModelForm") || fw.has_project_base(&header.bases) {
        return; // a project base may declare the field, set its queryset or its widget
    }
    let Some((tree, class_src)) = reparse(src, node) else {
        return;
    };
    if class_src.contains(".queryset") || class_src.contains("__init__") {
        return; // it sets querysets (read on their own), or may change the fields
    }
    let Some(class) = class_of(&tree, class_src) else {
        return;
    };
    let Some(meta) = inner_meta(&class, class_src) else {
        return;
    };
    let Some(model) = meta
        .attr("model")
        .and_then(|(m, _)| dotted_name(m, class_src))
        .and_then(|m| ctx.model_named(last_segment(&m)))
        .map(|r| r.id())
    else {
        return;
    };
    let Some((fields_value, _)) = meta.attr("fields") else {
        return;
    };
    let Some(names) = crate::analysis::classes::string_items(fields_value, class_src) else {
        return; // `"__all__"` or a name: not read
    };
    let mut lines: Vec<String> = Vec::new();
    let mut messages: Vec<String> = Vec::new();
    for name in &names {
        if class.attr(name).is_some() {
            continue; // declared: read where it is built
        }
        let Some(field) = ctx.index.field(model, name) else {
            continue;
        };
        if !matches!(
            field.kind,
            crate::index::FieldKind::ForeignKey
                | crate::index::FieldKind::OneToOne
                | crate::index::FieldKind::ManyToMany
        ) {
            continue;
        }
        let Some(target) = field.target else { continue };
        match meta_widget(class_src, &class, name) {
            Some(Some(widget)) if !renders_options(class_src, Some(widget)) => continue,
            None => return, // `Meta.widgets` that cannot be read
            _ => {}
        }
        let target_name = ctx.index.model(target).name.clone();
        let mut needs: Vec<Need> = Vec::new();
        stringify(
            ctx.index,
            &Cursor::root(target, true),
            &format!("{target_name}.__str__"),
            &mut needs,
        );
        let coverage = super::shared::framework::manager_coverage(ctx, target);
        let missing = missing(&needs, &coverage);
        if missing.is_empty() {
            continue;
        }
        if ctx
            .index
            .model(target)
            .managers
            .first()
            .is_some_and(|m| m.blocks || !m.resolved)
        {
            return; // the default manager's get_queryset is unknown or narrows the rows
        }
        let calls = super::shared::framework::calls_text(ctx, &missing);
        let key = ctx.string_literal(name);
        lines.push(format!(
            "self.fields[{key}].queryset = self.fields[{key}].queryset{calls}"
        ));
        messages.push(format!(
            "`{name}` renders an option for each `{target_name}` row, and each label ({}) runs a query; load {} with {}",
            missing.origins(),
            if missing.select.len() + missing.prefetch.len() == 1 { "it" } else { "them" },
            missing.calls()
        ));
    }
    if lines.is_empty() {
        return;
    }
    let mut method = vec![
        "def __init__(self, *args, **kwargs):".to_string(),
        "super().__init__(*args, **kwargs)".to_string(),
    ];
    method.extend(lines);
    let parsed_class = tree
        .root_node()
        .named_child(0)
        .and_then(crate::syntax::defined_class);
    let fix = parsed_class
        .and_then(|c| super::shared::framework::method_at_end(class_src, c, &method))
        .map(|mut e| {
            e.start += node.start_byte();
            e.end += node.start_byte();
            let applicability = if fw.subclassed.contains(&class.name) {
                crate::fix::Applicability::Unsafe
            } else {
                crate::fix::Applicability::Safe
            };
            (
                crate::fix::Fix::new(
                    vec![e],
                    applicability,
                    "Set the fields' querysets in a new `__init__`".to_string(),
                ),
                (applicability == crate::fix::Applicability::Unsafe)
                    .then_some("another form of the project derives from this one"),
            )
        })
        .ok_or_else(|| "there is no place to add the method".to_string());
    let message = format!("the `ModelForm` `{}`: {}", class.name, messages.join("; "));
    let at = header
        .node
        .child_by_field_id(crate::field!("name"))
        .unwrap_or(node);
    report(checker, at, message, fix);
}

/// A top-level class parsed again from its own text (phase 2 may have parsed only parts of
/// it), with that text.
fn reparse<'s>(src: &'s str, class: Node) -> Option<(tree_sitter::Tree, &'s str)> {
    if class.start_position().column != 0 {
        return None;
    }
    let class_src = &src[class.start_byte()..class.end_byte()];
    Some((crate::syntax::parse::parse(class_src)?, class_src))
}

/// The class a [`reparse`] tree holds.
fn class_of<'t>(tree: &'t tree_sitter::Tree, src: &'t str) -> Option<ClassView<'t>> {
    tree.root_node()
        .named_child(0)
        .and_then(crate::syntax::defined_class)
        .and_then(|c| ClassView::read(c, src))
}

/// The `class Meta` of a class.
fn inner_meta<'t>(class: &ClassView<'t>, src: &'t str) -> Option<ClassView<'t>> {
    let body = class.node.child_by_field_id(crate::field!("body"))?;
    let mut cursor = body.walk();
    let meta = body
        .named_children(&mut cursor)
        .filter_map(crate::syntax::defined_class)
        .find(|c| {
            c.child_by_field_id(crate::field!("name"))
                .is_some_and(|n| text(n, src) == "Meta")
        })?;
    ClassView::read(meta, src)
}

/// `ModelChoiceField(queryset=..., widget=...)` (or a project subclass).
fn field_call<'a>(checker: &mut Checker<'_, 'a>, call: Node<'a>, callee: Node<'a>) {
    let ctx = checker.ctx;
    if !matches!(callee.node_kind(), "identifier" | "attribute") {
        return;
    }
    let Some(callee) = dotted_name(callee, ctx.src) else {
        return;
    };
    let class = last_segment(&callee);
    let Some(label) = label_of(ctx, class) else {
        return;
    };
    let args = call_args(call, ctx.src);
    if args.splat {
        return;
    }
    let Some(queryset) = args
        .keyword("queryset")
        .or_else(|| args.positional.first().copied())
    else {
        return;
    };
    if !renders_options(ctx.src, args.keyword("widget")) {
        return;
    }
    if replaced_in_class(ctx, call) {
        return;
    }
    finding(checker, call, queryset, &label, class);
}

/// A field declared in a class body (`author = ModelChoiceField(...)`) whose queryset the
/// class sets again (`self.fields["author"].queryset = ...` in `__init__`): the declared one
/// is never shown (the assignment is read on its own).
fn replaced_in_class(ctx: &FileContext, call: Node) -> bool {
    let Some(assignment) = call.parent().filter(|p| p.node_kind() == "assignment") else {
        return false;
    };
    let Some(class) = assignment
        .parent()
        .filter(|p| p.node_kind() == "expression_statement")
        .and_then(|s| s.parent())
        .filter(|b| b.node_kind() == "block")
        .and_then(|b| b.parent())
        .filter(|c| c.node_kind() == "class_definition")
    else {
        return false;
    };
    let Some(name) = assignment
        .child_by_field_id(crate::field!("left"))
        .filter(|l| l.node_kind() == "identifier")
    else {
        return false;
    };
    // From the text: phase 2 may not have parsed `__init__`.
    let class_text = &ctx.src[class.start_byte()..class.end_byte()];
    sets_field_attr(class_text, text(name, ctx.src), "queryset")
}

/// Does `class_text` set `fields["key"].attr` (either quote)?
fn sets_field_attr(class_text: &str, key: &str, attr: &str) -> bool {
    class_text.contains(&format!("fields[\"{key}\"].{attr}"))
        || class_text.contains(&format!("fields['{key}'].{attr}"))
}

/// `self.fields["author"].queryset = <queryset>` in a form: the field the form declares under
/// that name, or the `ModelChoiceField` a `ModelForm` makes for a relation.
fn fields_assignment<'a>(checker: &mut Checker<'_, 'a>, assign: Node<'a>, value: Node<'a>) {
    let ctx = checker.ctx;
    let src = ctx.src;
    let Some(left) = assign.child_by_field_id(crate::field!("left")) else {
        return;
    };
    let Some(subscript) = left.child_by_field_id(crate::field!("object")) else {
        return;
    };
    let Some(key) = subscript
        .child_by_field_id(crate::field!("subscript"))
        .and_then(|k| string_value(k, src))
    else {
        return;
    };
    if subscript.node_kind() != "subscript" {
        return;
    }
    // `self.fields[...]`
    let Some(fields) = subscript
        .child_by_field_id(crate::field!("value"))
        .filter(|v| v.node_kind() == "attribute")
    else {
        return;
    };
    let named = |field, expected: &str| {
        fields
            .child_by_field_id(field)
            .is_some_and(|n| text(n, src) == expected)
    };
    if !named(crate::field!("object"), "self") || !named(crate::field!("attribute"), "fields") {
        return;
    }
    let Some(class_node) = enclosing_class(assign) else {
        return;
    };
    // Phase 2 may have parsed only the method: read the whole class (declared fields, `Meta`).
    let Some((class_tree, class_src)) = reparse(src, class_node) else {
        return;
    };
    let Some(class) = class_of(&class_tree, class_src) else {
        return;
    };
    let bases = ctx.index.frameworks.all_bases(&class.bases);
    if !bases.iter().any(|b| b.ends_with("Form")) || bases.iter().any(|b| b.contains("Serializer"))
    {
        return; // a form's fields only (a serializer's render no options outside the browsable API)
    }
    // Something else changes the field's widget: what it renders is not read here.
    if sets_field_attr(class_src, &key, "widget") {
        return;
    }
    let (label, name) = match class.attr(&key) {
        // Declared in the class: its own class and widget decide.
        Some((declared, _)) => {
            let declared = unparen(declared);
            if declared.node_kind() != "call" {
                return;
            }
            let Some(callee) = declared
                .child_by_field_id(crate::field!("function"))
                .and_then(|f| dotted_name(f, class_src))
            else {
                return;
            };
            let class_name = last_segment(&callee).to_string();
            let Some(label) = label_of(ctx, &class_name) else {
                return;
            };
            if !renders_options(class_src, call_args(declared, class_src).keyword("widget")) {
                return;
            }
            (label, class_name)
        }
        // Made by a ModelForm from the model's relation, with `Meta.widgets` if it names one.
        // A project base may declare it (netbox's forms declare their own field classes).
        None => {
            if !bases.iter().any(|b| b.ends_with("ModelForm"))
                || ctx.index.frameworks.has_project_base(&class.bases)
            {
                return;
            }
            match meta_widget(class_src, &class, &key) {
                Some(Some(widget)) if !renders_options(class_src, Some(widget)) => return,
                None => return, // `Meta.widgets` that cannot be read
                _ => {}
            }
            (Label::Str, "ModelChoiceField".to_string())
        }
    };
    finding(checker, assign, value, &label, &name);
}

/// The labels of a field class: Django's choice fields label with `str(obj)`; a project
/// subclass with its `label_from_instance` when this file defines it, else with whatever it
/// inherits. None when it is not a model choice field, or its `label_from_instance` is in
/// another module (not read here).
fn label_of<'t>(ctx: &FileContext<'t>, class: &str) -> Option<Label<'t>> {
    if CHOICE_FIELDS.contains(&class) {
        return Some(Label::Str);
    }
    let fw = &ctx.index.frameworks;
    // Most calls are of no project class: no walk of bases for them.
    if !fw.is_project_class(class) {
        return None;
    }
    let class_list = [class.to_string()];
    let chain = fw.all_bases(&class_list);
    if !chain.iter().any(|b| CHOICE_FIELDS.contains(&b.as_str())) {
        return None;
    }
    // A project field that overrides more than the label (netbox's `get_bound_field()` that
    // renders only the selected rows, a `to_python()` of an import-only field): what it
    // renders is not known.
    let overrides_more = chain.iter().any(|c| {
        fw.methods_of(c)
            .is_some_and(|methods| methods.iter().any(|m| m != "label_from_instance"))
    });
    if overrides_more {
        return None;
    }
    let mut current = class.to_string();
    for _ in 0..8 {
        if CHOICE_FIELDS.contains(&current.as_str()) {
            return Some(Label::Str);
        }
        let Some(view) = file_class(ctx, &current) else {
            // Defined in another module: only its inheriting nothing is known.
            let defines = fw.inherits_method(&[current.clone()], "label_from_instance");
            return (!defines).then_some(Label::Str);
        };
        if let Some(method) = view.method("label_from_instance") {
            return Some(Label::Method(method));
        }
        let next = view
            .bases
            .iter()
            .map(|b| last_segment(b).to_string())
            .find(|b| {
                fw.all_bases(std::slice::from_ref(b))
                    .iter()
                    .any(|x| CHOICE_FIELDS.contains(&x.as_str()))
            })?;
        current = next;
    }
    None
}

/// The top-level class named `name` in this file.
fn file_class<'t>(ctx: &FileContext<'t>, name: &str) -> Option<ClassView<'t>> {
    let root = ctx.tree.root_node();
    let mut cursor = root.walk();
    let found = root
        .named_children(&mut cursor)
        .filter_map(crate::syntax::defined_class)
        .filter(|c| {
            c.child_by_field_id(crate::field!("name"))
                .is_some_and(|n| text(n, ctx.src) == name)
        })
        .last()?;
    ClassView::read(found, ctx.src)
}

/// Does a field with this `widget=` (None: the default `Select`) render its options?
fn renders_options(src: &str, widget: Option<Node>) -> bool {
    let Some(widget) = widget else {
        return true;
    };
    let widget = unparen(widget);
    let class = match widget.node_kind() {
        "call" => widget.child_by_field_id(crate::field!("function")),
        _ => Some(widget),
    };
    class
        .and_then(|c| dotted_name(c, src))
        .is_some_and(|name| OPTION_WIDGETS.contains(&last_segment(&name)))
}

/// The widget `Meta.widgets` gives field `key`: Some(None) when it gives none, None when
/// `widgets` is not a dict literal.
fn meta_widget<'t>(src: &'t str, class: &ClassView<'t>, key: &str) -> Option<Option<Node<'t>>> {
    let Some(meta) = inner_meta(class, src) else {
        return Some(None);
    };
    let Some((widgets, _)) = meta.attr("widgets") else {
        return Some(None);
    };
    let widgets = unparen(widgets);
    if widgets.node_kind() != "dictionary" {
        return None;
    }
    let mut cursor = widgets.walk();
    for pair in widgets.named_children(&mut cursor) {
        if pair.node_kind() != "pair" {
            return None; // `**others`
        }
        let name = pair
            .child_by_field_id(crate::field!("key"))
            .and_then(|k| string_value(k, src));
        if name.as_deref() == Some(key) {
            return Some(pair.child_by_field_id(crate::field!("value")));
        }
    }
    Some(None)
}

fn enclosing_class(node: Node) -> Option<Node> {
    let mut current = node.parent();
    while let Some(n) = current {
        if n.node_kind() == "class_definition" {
            return Some(n);
        }
        current = n.parent();
    }
    None
}

/// Report the option labels' reads the field's queryset does not load.
fn finding<'a>(
    checker: &mut Checker<'_, 'a>,
    at: Node<'a>,
    queryset: Node<'a>,
    label: &Label<'a>,
    field: &str,
) {
    let ctx = checker.ctx;
    let Some(qs) = QuerysetResolver::new(ctx).resolve(queryset, queryset.start_byte()) else {
        return;
    };
    if qs.single_row
        || qs.has_call("none")
        || qs.blocker().is_some_and(|b| b.method.starts_with("values"))
    {
        return; // no rows (a placeholder `__init__` replaces), or rows that are not instances
    }
    let model = ctx.index.model(qs.model).name.clone();
    let cursor = Cursor::root(qs.model, true);
    let mut needs: Vec<Need> = Vec::new();
    match label {
        Label::Str => stringify(ctx.index, &cursor, &format!("{model}.__str__"), &mut needs),
        Label::Method(def) => {
            let params = parameter_names(*def, ctx.src);
            let (Some(obj), Some(body)) =
                (params.get(1), def.child_by_field_id(crate::field!("body")))
            else {
                return;
            };
            for read in reads_from(body, obj, ctx.src) {
                let origin = format!("label_from_instance: {}", read.text);
                follow(ctx.index, &cursor, &read.names, &origin, &mut needs);
            }
        }
    }
    let coverage = qs.coverage(ctx);
    let missing = missing(&needs, &coverage);
    if missing.is_empty() {
        return;
    }
    let one = missing.select.len() + missing.prefetch.len() == 1;
    let message = format!(
        "`{field}` renders an option for each `{model}` row, and each label ({}) runs a query; load {} with {}",
        missing.origins(),
        if one { "it" } else { "them" },
        missing.calls(),
    );
    let fix = call_fix(ctx, &qs, at, &coverage, &missing);
    report(checker, queryset, message, fix);
}
