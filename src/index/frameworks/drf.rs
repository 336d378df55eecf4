//! Django REST framework serializers: which fields they declare, what `Meta` adds, and the
//! relation paths serializing a row reads (DJANGO.md 16).
//!
//! What DRF does per field, and so what a row costs:
//! - a ForeignKey left to `ModelSerializer` at `depth = 0` is a `PrimaryKeyRelatedField`, which
//!   reads `author_id` (no query); a many-to-many or reverse relation named in `fields` runs
//!   `.all()` per row;
//! - `depth = n` nests every forward relation as a serializer of all its fields, n levels deep;
//! - `source="author.name"` follows the dotted path; `StringRelatedField` calls `__str__`;
//!   `SlugRelatedField` reads its `slug_field` on the related object;
//! - a nested serializer (`many=True` or not) adds its own paths under the relation;
//! - `SerializerMethodField` runs `get_<name>(self, obj)`.

use super::{ClassTable, follow};
use crate::index::paths::{Cursor, Need, concrete_fields};
use crate::index::reads::{ROWS, RawRead, STR};
use crate::index::{FieldKind, FileFacts, ModelId, ProjectIndex};
use crate::syntax::NodeKind;
use crate::syntax::{call_args, dotted_name, is_true, last_segment, string_value, text, unparen};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use tree_sitter::Node;

pub const FRAMEWORK: super::Framework = super::Framework {
    name: "drf",
    words: &[b"Serializer", b"serializer"],
    site_base: |base| VIEWS.contains(&base),
    site_methods: &["get_queryset", "get_serializer_class"],
};

/// `name = SomeField(...)` at class level.
#[derive(Clone, Debug, Default)]
pub struct RawFieldCall {
    pub name: String,
    pub callee: String,
    pub line: usize,
    pub source: Option<String>,
    pub many: bool,
    pub slug_field: Option<String>,
    pub method_name: Option<String>,
    /// `write_only=True`, or a `HiddenField`: never read when a row is serialized.
    pub write_only: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FieldList {
    #[default]
    Unset,
    All,
    Names(Vec<String>),
    /// Written, but not as a literal we can read.
    Unknown,
}

/// What a `class Meta` says (models use other keys; only these matter here).
#[derive(Clone, Debug, Default)]
pub struct RawMeta {
    pub present: bool,
    pub model: Option<String>,
    pub fields: FieldList,
    pub exclude: Vec<String>,
    pub depth: u32,
}

pub(super) fn field_call(assign: Node, src: &str) -> Option<RawFieldCall> {
    let left = assign.child_by_field_id(crate::field!("left"))?;
    let right = unparen(assign.child_by_field_id(crate::field!("right"))?);
    if left.node_kind() != "identifier" || right.node_kind() != "call" {
        return None;
    }
    let callee = dotted_name(right.child_by_field_id(crate::field!("function"))?, src)?;
    let args = call_args(right, src);
    Some(RawFieldCall {
        name: text(left, src).to_string(),
        line: assign.start_position().row + 1,
        source: args.keyword_string("source", src),
        many: args.keyword("many").is_some_and(is_true),
        slug_field: args.keyword_string("slug_field", src),
        method_name: args.keyword_string("method_name", src),
        write_only: args.keyword("write_only").is_some_and(is_true)
            || last_segment(&callee) == "HiddenField",
        callee,
    })
}

pub(super) fn meta(node: Node, src: &str) -> RawMeta {
    let mut meta = RawMeta {
        present: true,
        ..RawMeta::default()
    };
    let Some(body) = node.child_by_field_id(crate::field!("body")) else {
        return meta;
    };
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
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
        let right = unparen(right);
        match text(left, src) {
            "model" => meta.model = dotted_name(right, src),
            "fields" => meta.fields = field_list(right, src),
            "exclude" => {
                if let FieldList::Names(names) = field_list(right, src) {
                    meta.exclude = names;
                }
            }
            "depth" => meta.depth = text(right, src).parse().unwrap_or(0).min(10),
            _ => {}
        }
    }
    meta
}

fn field_list(node: Node, src: &str) -> FieldList {
    if let Some(s) = string_value(node, src) {
        return if s == "__all__" {
            FieldList::All
        } else {
            FieldList::Unknown
        };
    }
    if !matches!(node.node_kind(), "list" | "tuple") {
        return FieldList::Unknown;
    }
    let mut names = Vec::new();
    let mut cursor = node.walk();
    for item in node.named_children(&mut cursor) {
        match string_value(item, src) {
            Some(s) => names.push(s),
            None if item.node_kind() == "comment" => {}
            None => return FieldList::Unknown,
        }
    }
    FieldList::Names(names)
}

/// How a declared serializer field reads its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Another serializer of the project (by index in [`super::Frameworks::serializers`]).
    Nested(usize),
    /// `PrimaryKeyRelatedField`, `HyperlinkedRelatedField`: only the key of the last hop.
    KeyOnly,
    Slug,
    /// `StringRelatedField`: `__str__` of the related object.
    StringRelated,
    Method,
    /// `CharField`: the value turned into text.
    Text,
    /// Reads nothing beyond its source (`HyperlinkedIdentityField`, `SerializerMethodField`
    /// without a readable method…) or a plain value field.
    Value,
    /// A field class we do not know (a project field, a third-party one): could read anything.
    Unknown,
    /// `write_only=True` or a `HiddenField`: read from the input only, never from the row.
    WriteOnly,
}

#[derive(Clone, Debug)]
pub struct SerializerField {
    pub name: String,
    pub kind: FieldType,
    pub source: Option<String>,
    pub many: bool,
    pub slug_field: Option<String>,
    pub method_name: Option<String>,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct Serializer {
    pub name: String,
    pub module: String,
    pub path: String,
    pub line: usize,
    pub model: Option<ModelId>,
    /// A `ModelSerializer` (fields come from `Meta` too).
    pub model_serializer: bool,
    /// Declared fields, inherited ones first, overridden by name.
    pub fields: Vec<SerializerField>,
    pub meta_fields: FieldList,
    pub exclude: Vec<String>,
    pub depth: u32,
    /// What each method reads from its first argument after `self` (`get_x(self, obj)`).
    pub methods: HashMap<String, Vec<RawRead>>,
}

/// DRF's generic views and viewsets: they serialize rows of `queryset`/`get_queryset()`.
pub const VIEWS: &[&str] = &[
    "GenericAPIView",
    "ListAPIView",
    "RetrieveAPIView",
    "ListCreateAPIView",
    "RetrieveUpdateAPIView",
    "RetrieveDestroyAPIView",
    "RetrieveUpdateDestroyAPIView",
    "CreateAPIView",
    "UpdateAPIView",
    "DestroyAPIView",
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
];

/// The views (and mixins) that serialize a list of rows, not one object.
pub const LIST_VIEWS: &[&str] = &[
    "ListAPIView",
    "ListCreateAPIView",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
    "ListModelMixin",
];

const MODEL_SERIALIZERS: &[&str] = &["ModelSerializer", "HyperlinkedModelSerializer"];
const SERIALIZER_BASES: &[&str] = &[
    "Serializer",
    "ModelSerializer",
    "HyperlinkedModelSerializer",
];

/// Which project classes are serializers, with their fields resolved.
pub(super) fn resolve(
    index: &ProjectIndex,
    files: &[FileFacts],
    classes: &ClassTable,
) -> Vec<Serializer> {
    // A class is a serializer when a base, followed through project classes, is one of DRF's.
    let mut kinds: FxHashMap<(usize, usize), Option<bool>> = FxHashMap::default();
    let refs: Vec<(usize, usize)> = files
        .iter()
        .enumerate()
        .flat_map(|(fi, f)| (0..f.frameworks.classes.len()).map(move |ci| (fi, ci)))
        .collect();
    for &c in &refs {
        serializer_kind(classes, c, &mut kinds, 0);
    }
    let ids: FxHashMap<(usize, usize), usize> = refs
        .iter()
        .filter(|c| kinds.get(c).copied().flatten().is_some())
        .enumerate()
        .map(|(i, c)| (*c, i))
        .collect();
    let mut ordered: Vec<(&(usize, usize), &usize)> = ids.iter().collect();
    ordered.sort_by_key(|(_, i)| **i);
    ordered
        .into_iter()
        .map(|(&c, _)| {
            let model_serializer = kinds[&c] == Some(true);
            build(index, classes, c, model_serializer, &ids)
        })
        .collect()
}

/// Some(true): a model serializer; Some(false): a plain serializer; None: not a serializer.
fn serializer_kind(
    classes: &ClassTable,
    c: (usize, usize),
    memo: &mut FxHashMap<(usize, usize), Option<bool>>,
    depth: usize,
) -> Option<bool> {
    if let Some(known) = memo.get(&c) {
        return *known;
    }
    memo.insert(c, None); // cycle guard
    let mut result = None;
    if depth < 32 {
        for base in &classes.class(c).bases {
            let last = last_segment(base);
            let project = classes.resolve(c.0, base).filter(|p| *p != c);
            let kind = match project {
                Some(p) => serializer_kind(classes, p, memo, depth + 1),
                None if MODEL_SERIALIZERS.contains(&last) => Some(true),
                None if SERIALIZER_BASES.contains(&last) => Some(false),
                None => None,
            };
            if kind == Some(true) {
                result = Some(true);
                break;
            }
            result = result.or(kind);
        }
    }
    memo.insert(c, result);
    result
}

fn build(
    index: &ProjectIndex,
    classes: &ClassTable,
    c: (usize, usize),
    model_serializer: bool,
    ids: &FxHashMap<(usize, usize), usize>,
) -> Serializer {
    let file = &classes.files[c.0];
    let class = classes.class(c);
    // The class and its project serializer bases, most derived first.
    let mut chain = vec![c];
    let mut i = 0;
    while i < chain.len() && chain.len() < 16 {
        let current = chain[i];
        for base in &classes.class(current).bases {
            if let Some(p) = classes.resolve(current.0, base)
                && ids.contains_key(&p)
                && !chain.contains(&p)
            {
                chain.push(p);
            }
        }
        i += 1;
    }
    let mut fields: Vec<SerializerField> = Vec::new();
    let mut methods: HashMap<String, Vec<RawRead>> = HashMap::new();
    for &k in chain.iter().rev() {
        let class = classes.class(k);
        for call in &class.calls {
            let kind = if call.write_only {
                Some(FieldType::WriteOnly)
            } else {
                field_type(classes, k.0, &call.callee, ids)
            };
            let Some(kind) = kind else { continue };
            fields.retain(|f| f.name != call.name);
            fields.push(SerializerField {
                name: call.name.clone(),
                kind,
                source: call.source.clone(),
                many: call.many,
                slug_field: call.slug_field.clone(),
                method_name: call.method_name.clone(),
                line: call.line,
            });
        }
        for m in &class.methods {
            methods.insert(m.name.clone(), m.arg_reads.clone());
        }
    }
    // Meta: the nearest class that has one.
    let meta_owner = chain
        .iter()
        .copied()
        .find(|&k| classes.class(k).meta.present);
    let meta = meta_owner.map(|k| (k, &classes.class(k).meta));
    let model = meta.and_then(|(k, m)| {
        let dotted = m.model.as_deref()?;
        let f = &classes.files[k.0];
        let name = last_segment(dotted);
        let head = dotted.split('.').next().unwrap_or(dotted);
        let from = f
            .imports
            .iter()
            .find(|i| i.local == head)
            .map(|i| i.module.as_str());
        index.resolve_name(name, &f.module, from).map(|r| r.id())
    });
    Serializer {
        name: class.name.clone(),
        module: file.module.clone(),
        path: file.path.clone(),
        line: class.line,
        model,
        model_serializer,
        fields,
        meta_fields: meta.map(|(_, m)| m.fields.clone()).unwrap_or_default(),
        exclude: meta.map(|(_, m)| m.exclude.clone()).unwrap_or_default(),
        depth: meta.map_or(0, |(_, m)| m.depth),
        methods,
    }
}

/// The kind of a class-level call, or None when it is not a serializer field.
fn field_type(
    classes: &ClassTable,
    fi: usize,
    callee: &str,
    ids: &FxHashMap<(usize, usize), usize>,
) -> Option<FieldType> {
    if let Some(c) = classes.resolve(fi, callee)
        && let Some(&id) = ids.get(&c)
    {
        return Some(FieldType::Nested(id));
    }
    let kind = known_field_type(last_segment(callee));
    if kind == Some(FieldType::Unknown) {
        // A project field class: what its DRF base does (`EventSlugField(SlugRelatedField)`).
        let mut current = classes.resolve(fi, callee);
        let mut hops = 0;
        while let Some(c) = current
            && hops < 8
        {
            let class = classes.class(c);
            if let Some(base) = class.bases.first() {
                let base_kind = known_field_type(last_segment(base));
                if base_kind.is_some() && base_kind != Some(FieldType::Unknown) {
                    return base_kind;
                }
                current = classes.resolve(c.0, base).filter(|n| *n != c);
            } else {
                current = None;
            }
            hops += 1;
        }
    }
    kind
}

/// The kind of a DRF field class by its name.
fn known_field_type(last: &str) -> Option<FieldType> {
    Some(match last {
        "PrimaryKeyRelatedField" | "HyperlinkedRelatedField" => FieldType::KeyOnly,
        "SlugRelatedField" => FieldType::Slug,
        "StringRelatedField" => FieldType::StringRelated,
        "SerializerMethodField" => FieldType::Method,
        "CharField" => FieldType::Text,
        "HyperlinkedIdentityField" => FieldType::Value,
        "ReadOnlyField" | "IntegerField" | "FloatField" | "DecimalField" | "BooleanField"
        | "DateTimeField" | "DateField" | "TimeField" | "EmailField" | "URLField" | "UUIDField"
        | "SlugField" | "JSONField" | "DictField" | "ListField" | "ChoiceField"
        | "DurationField" | "IPAddressField" | "FileField" | "ImageField" | "HiddenField"
        | "ModelField" => FieldType::Value,
        _ if last.ends_with("Field") || last.ends_with("Serializer") => FieldType::Unknown,
        _ => return None,
    })
}

/// Why a serializer's paths cannot be computed completely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opaque {
    /// `Meta.fields` is not a literal we read.
    Fields(String),
    /// A field class we do not know.
    FieldClass(String),
}

/// The relation paths serializing one object at `cursor` with serializer `id` reads.
pub fn serializer_needs(
    index: &ProjectIndex,
    id: usize,
    cursor: &Cursor,
    out: &mut Vec<Need>,
    opaque: &mut Vec<Opaque>,
) {
    needs_depth(index, id, cursor, out, opaque, 0);
}

fn needs_depth(
    index: &ProjectIndex,
    id: usize,
    cursor: &Cursor,
    out: &mut Vec<Need>,
    opaque: &mut Vec<Opaque>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    let s = &index.frameworks.serializers[id];
    let file = s.path.rsplit('/').next().unwrap_or(&s.path);
    let origin = |what: &str, line: usize| format!("{file}:{line} {}.{what}", s.name);
    let mut declared: Vec<&SerializerField> = Vec::new();
    for f in &s.fields {
        let included = match &s.meta_fields {
            FieldList::Names(names) if s.model_serializer => names.contains(&f.name),
            _ => !s.exclude.contains(&f.name),
        };
        if included {
            declared.push(f);
        }
    }
    for f in declared {
        field_needs(
            index,
            s,
            f,
            cursor,
            &origin(&f.name, f.line),
            out,
            opaque,
            depth,
        );
    }
    if let Some(reads) = s.methods.get("to_representation") {
        for r in reads {
            follow(
                index,
                cursor,
                &r.names,
                &origin("to_representation", r.line),
                out,
            );
        }
    }
    if !s.model_serializer {
        return;
    }
    let names: Vec<String> = match &s.meta_fields {
        FieldList::Names(names) => names.clone(),
        FieldList::All | FieldList::Unset => concrete_fields(index, cursor.model)
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FieldKind::ForeignKey | FieldKind::OneToOne | FieldKind::ManyToMany
                ) && !s.exclude.contains(&f.name)
            })
            .map(|f| f.name.clone())
            .collect(),
        FieldList::Unknown => {
            opaque.push(Opaque::Fields(s.name.clone()));
            return;
        }
    };
    for name in names {
        if s.fields.iter().any(|f| f.name == name) {
            continue;
        }
        let origin = origin(&format!("Meta.fields[{name:?}]"), s.line);
        model_field_needs(index, &name, s.depth, cursor, &origin, out);
    }
}

/// A field `ModelSerializer` builds from the model on its own.
fn model_field_needs(
    index: &ProjectIndex,
    name: &str,
    depth: u32,
    cursor: &Cursor,
    origin: &str,
    out: &mut Vec<Need>,
) {
    match index.field(cursor.model, name) {
        Some(field) if field.kind.is_multi() => {
            let names = vec![name.to_string(), ROWS.to_string()];
            if let Some(end) = follow(index, cursor, &names, origin, out)
                && depth > 0
            {
                nested_model_needs(index, &end, depth - 1, origin, out);
            }
        }
        Some(field) if field.kind.is_single() => {
            let keyed = depth == 0 && field.kind != FieldKind::ReverseOneToOne;
            if keyed {
                return; // PrimaryKeyRelatedField: `author_id`, no query
            }
            if let Some(end) = follow(index, cursor, &[name.to_string()], origin, out)
                && depth > 0
            {
                nested_model_needs(index, &end, depth - 1, origin, out);
            }
        }
        Some(_) => {}
        None => {
            // A property or method of the model (`ReadOnlyField`).
            follow(index, cursor, &[name.to_string()], origin, out);
        }
    }
}

/// `depth` nesting: every forward relation of the model, all fields.
fn nested_model_needs(
    index: &ProjectIndex,
    cursor: &Cursor,
    depth: u32,
    origin: &str,
    out: &mut Vec<Need>,
) {
    let names: Vec<String> = concrete_fields(index, cursor.model)
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FieldKind::ForeignKey | FieldKind::OneToOne | FieldKind::ManyToMany
            )
        })
        .map(|f| f.name.clone())
        .collect();
    if cursor.prefix.len() > 10 {
        return;
    }
    for name in names {
        model_field_needs(index, &name, depth, cursor, origin, out);
    }
}

#[allow(clippy::too_many_arguments)]
fn field_needs(
    index: &ProjectIndex,
    s: &Serializer,
    f: &SerializerField,
    cursor: &Cursor,
    origin: &str,
    out: &mut Vec<Need>,
    opaque: &mut Vec<Opaque>,
    depth: usize,
) {
    let source = f.source.clone().unwrap_or_else(|| f.name.clone());
    let mut names: Vec<String> = if source == "*" {
        Vec::new()
    } else {
        // `source="books.all"`: DRF calls `all`, which gives the rows.
        source
            .split('.')
            .map(|s| if s == "all" { ROWS } else { s }.to_string())
            .collect()
    };
    match &f.kind {
        FieldType::Nested(id) => {
            if f.many {
                names.push(ROWS.to_string());
            }
            if let Some(end) = follow(index, cursor, &names, origin, out) {
                needs_depth(index, *id, &end, out, opaque, depth + 1);
            }
        }
        FieldType::KeyOnly => {
            if f.many {
                names.push(ROWS.to_string());
                follow(index, cursor, &names, origin, out);
            } else if let Some(last) = names.pop() {
                // The key of the last hop is read from the object before it.
                let reverse_one = follow(index, cursor, &names, origin, out).and_then(|end| {
                    index
                        .field(end.model, &last)
                        .filter(|fl| fl.kind == FieldKind::ReverseOneToOne)
                        .map(|_| end)
                });
                if let Some(end) = reverse_one {
                    follow(index, &end, &[last], origin, out);
                }
            }
        }
        FieldType::Slug => {
            if f.many {
                names.push(ROWS.to_string());
            }
            if let Some(slug) = &f.slug_field {
                names.extend(slug.split("__").map(String::from));
            }
            follow(index, cursor, &names, origin, out);
        }
        FieldType::StringRelated | FieldType::Text => {
            if f.many {
                names.push(ROWS.to_string());
            }
            names.push(STR.to_string());
            follow(index, cursor, &names, origin, out);
        }
        FieldType::Method => {
            let method = f
                .method_name
                .clone()
                .unwrap_or_else(|| format!("get_{}", f.name));
            if let Some(reads) = s.methods.get(&method) {
                let file = s.path.rsplit('/').next().unwrap_or(&s.path);
                for r in reads {
                    let origin = format!("{file}:{} {}", r.line, r.text);
                    follow(index, cursor, &r.names, &origin, out);
                }
            }
        }
        FieldType::Value => {
            follow(index, cursor, &names, origin, out);
        }
        FieldType::WriteOnly => {}
        FieldType::Unknown => {
            // `many=True` exists only for related fields and serializers: both read the rows.
            if f.many {
                names.push(ROWS.to_string());
            }
            follow(index, cursor, &names, origin, out);
            opaque.push(Opaque::FieldClass(format!("{}.{}", s.name, f.name)));
        }
    }
}
