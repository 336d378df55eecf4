//! Phase 1 for the code that runs queries without showing a loop: DRF serializers, what model
//! methods and properties read (`__str__` above all), the settings' template folders and the
//! templates themselves. Rules for views, admins and templates ask this part of the index which
//! relation paths a serializer, a `__str__` or a template reads per row.

pub mod admin;
pub mod drf;
pub mod forms;
pub mod settings;
pub mod templates;

use super::paths::{Cursor, Need};
use super::{FileFacts, ModelId, ProjectIndex};
use crate::index::reads::{ROWS, RawRead, STR};
use crate::syntax::NodeKind;
use crate::syntax::text;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tree_sitter::{Node, Tree};

/// Per-file facts for this part of the index (kept in [`FileFacts`]).
#[derive(Clone, Debug, Default)]
pub struct FrameworkFacts {
    pub classes: Vec<RawClass>,
    /// `TEMPLATES`/`INSTALLED_APPS` and the module-level names their paths use.
    pub settings: Option<settings::RawSettings>,
}

/// A class as this part of the index needs it: bases, class-level calls, `Meta`, and what each
/// method reads from `self` and from its first argument after `self`.
#[derive(Clone, Debug, Default)]
pub struct RawClass {
    pub name: String,
    pub line: usize,
    pub bases: Vec<String>,
    pub calls: Vec<drf::RawFieldCall>,
    pub meta: drf::RawMeta,
    pub methods: Vec<RawMethod>,
}

#[derive(Clone, Debug, Default)]
pub struct RawMethod {
    pub name: String,
    /// Reads from `self`.
    pub self_reads: Vec<RawRead>,
    /// Reads from the first parameter after `self` (`obj`, `instance`).
    pub arg_reads: Vec<RawRead>,
    /// A method phase 1 did not parse: its `self_reads` are read when asked.
    pub lazy: Option<std::sync::Arc<crate::index::lazy::LazyMethod>>,
}

/// What each framework module declares: the words a file holds when its rules can find
/// something, its site classes (views, admins: classes through which the framework runs
/// queries) by base name, and the methods of a site class its rules read by name. Phase 2's
/// prefilter reads these declarations; it restates none of them.
pub struct Framework {
    pub name: &'static str,
    /// One of these words is in a file where the framework's rules can find something.
    pub words: &'static [&'static [u8]],
    /// Is a base class (its last segment) one of the framework's site classes?
    pub site_base: fn(&str) -> bool,
    /// The methods of a site class the rules read by name. They also read the methods its
    /// statements name (`list_display = ("title", "author_name")`); phase 2's prefilter
    /// leaves its other methods out unless the loop rules can find something in them
    /// (`ClassView::method` checks this in debug builds, with [`site_reads_method`]).
    pub site_methods: &'static [&'static str],
}

/// The registry: one line per framework module.
pub const FRAMEWORKS: &[&Framework] = &[
    &drf::FRAMEWORK,
    &admin::FRAMEWORK,
    &templates::FRAMEWORK,
    &forms::FRAMEWORK,
];

/// Do the framework rules read the method `name` of a site class whose other statements are
/// `statements`? (A framework's `site_methods`, or a word of the statements.)
pub fn site_reads_method<'s>(name: &[u8], mut statements: impl Iterator<Item = &'s [u8]>) -> bool {
    FRAMEWORKS
        .iter()
        .any(|f| f.site_methods.iter().any(|m| m.as_bytes() == name))
        || statements.any(|text| crate::text::identifiers(text).any(|w| &text[w] == name))
}

/// The resolved part of the index.
#[derive(Debug, Default)]
pub struct Frameworks {
    pub serializers: Vec<drf::Serializer>,
    serializers_by_name: HashMap<String, Vec<usize>>,
    /// What a model's methods and properties read from `self`, by model and member name.
    members: HashMap<(ModelId, String), Vec<RawRead>>,
    /// The same for the methods phase 1 did not parse.
    lazy_members: HashMap<(ModelId, String), std::sync::Arc<crate::index::lazy::LazyMethod>>,
    /// Names of project classes that some other project class derives from.
    pub subclassed: HashSet<String>,
    /// Project class name → the last segments of its bases (every class of that name).
    class_bases: HashMap<String, Vec<String>>,
    /// Project class name → the names of the methods it defines (every class of that name).
    class_methods: HashMap<String, Vec<String>>,
    pub templates: templates::TemplateSet,
}

/// Cheap byte test for phase 1: can the file hold anything this part of the index records?
pub fn may_define(bytes: &[u8]) -> bool {
    crate::finder!(b"TEMPLATES").find(bytes).is_some()
        || crate::finder!(b"INSTALLED_APPS").find(bytes).is_some()
}

/// Cheap byte test for phase 2: can the framework rules find anything in this file? (A word
/// some framework declares.)
pub fn may_have_findings(bytes: &[u8]) -> bool {
    static FINDERS: crate::text::needle::Finders = crate::text::needle::Finders::new(|| {
        FRAMEWORKS
            .iter()
            .flat_map(|f| f.words)
            .map(|n| memchr::memmem::Finder::new(*n))
            .collect()
    });
    FINDERS.any_in(bytes)
}

/// Extract this part of the per-file facts from a parsed file.
pub fn extract(relative: &Path, src: &str, tree: &Tree) -> FrameworkFacts {
    let mut facts = FrameworkFacts::default();
    let root = tree.root_node();
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        let class = crate::syntax::defined_class(node);
        if let Some(class) = class {
            facts.classes.push(raw_class(class, src));
        }
    }
    facts.settings = settings::extract(relative, root, src);
    facts
}

fn raw_class(node: Node, src: &str) -> RawClass {
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
                    && let Some(call) = drf::field_call(assign, src)
                {
                    raw.calls.push(call);
                }
            }
            "class_definition"
                if stmt
                    .child_by_field_id(crate::field!("name"))
                    .is_some_and(|n| text(n, src) == "Meta") =>
            {
                raw.meta = drf::meta(stmt, src);
            }
            "function_definition" => raw.methods.push(raw_method(stmt, src)),
            "decorated_definition" => {
                if let Some(def) = stmt
                    .child_by_field_id(crate::field!("definition"))
                    .filter(|d| d.node_kind() == "function_definition")
                {
                    raw.methods.push(raw_method(def, src));
                }
            }
            _ => {}
        }
    }
    raw
}

pub(crate) fn raw_method(node: Node, src: &str) -> RawMethod {
    let name = node
        .child_by_field_id(crate::field!("name"))
        .map(|n| text(n, src).to_string())
        .unwrap_or_default();
    let params = crate::index::reads::parameter_names(node, src);
    let body = node.child_by_field_id(crate::field!("body"));
    let reads_of = |param: Option<&String>| match (param, body) {
        (Some(p), Some(b)) => crate::index::reads::reads_from(b, p, src),
        _ => Vec::new(),
    };
    // Only what some reader can call: a member read without arguments (`__str__`, a property,
    // `obj.label()` from a template) and a serializer's `get_<field>(self, obj)` or
    // `to_representation(self, instance)`. Reading every body would cost a fifth of phase 1.
    let member = params.len() <= 1 || name == "__str__";
    let serializer_hook =
        params.len() == 2 && (name.starts_with("get_") || name == "to_representation");
    RawMethod {
        self_reads: if member {
            reads_of(params.first())
        } else {
            Vec::new()
        },
        arg_reads: if serializer_hook {
            reads_of(params.get(1))
        } else {
            Vec::new()
        },
        name,
        lazy: None,
    }
}

/// What this part of the index needs before the models are known: every project class's
/// bases and methods by name (computed while the models resolve; see `attach`).
pub struct ClassMaps {
    class_bases: HashMap<String, Vec<String>>,
    class_methods: HashMap<String, Vec<String>>,
    subclassed: HashSet<String>,
}

impl ClassMaps {
    pub fn new(files: &[FileFacts]) -> ClassMaps {
        let mut maps = ClassMaps {
            class_bases: HashMap::new(),
            class_methods: HashMap::new(),
            subclassed: HashSet::new(),
        };
        for file in files {
            for class in &file.frameworks.classes {
                let bases = maps.class_bases.entry(class.name.clone()).or_default();
                for base in &class.bases {
                    let last = crate::syntax::last_segment(base).to_string();
                    if !bases.contains(&last) {
                        bases.push(last.clone());
                    }
                    maps.subclassed.insert(last);
                }
                let methods = maps.class_methods.entry(class.name.clone()).or_default();
                methods.extend(class.methods.iter().map(|m| m.name.clone()));
            }
        }
        maps
    }
}

/// Resolve this part of the index once the models are known, with the class maps and the
/// templates the settings point to (both made meanwhile: `ClassMaps::new`,
/// `templates::TemplateSet::load`).
pub fn attach(
    index: &mut ProjectIndex,
    files: &[FileFacts],
    maps: ClassMaps,
    templates: templates::TemplateSet,
) {
    let mut fw = Frameworks {
        class_bases: maps.class_bases,
        class_methods: maps.class_methods,
        subclassed: maps.subclassed,
        ..Frameworks::default()
    };
    let exports = std::mem::take(&mut index.exports);
    let classes = ClassTable::new(files, &exports);
    // Model members: by the model's file and class name.
    for (id, model) in index.models.iter().enumerate() {
        if model.builtin {
            continue;
        }
        let Some(class) = classes.find(&model.path, &model.name) else {
            continue;
        };
        for method in &class.methods {
            if let Some(lazy) = &method.lazy {
                fw.lazy_members
                    .insert((id, method.name.clone()), lazy.clone());
            } else if !method.self_reads.is_empty() {
                fw.members
                    .insert((id, method.name.clone()), method.self_reads.clone());
            }
        }
    }
    fw.serializers = drf::resolve(index, files, &classes);
    for (i, s) in fw.serializers.iter().enumerate() {
        fw.serializers_by_name
            .entry(s.name.clone())
            .or_default()
            .push(i);
    }
    fw.templates = templates;
    index.frameworks = fw;
    drop(classes);
    index.exports = exports;
}

/// Every framework class of the project, by name.
pub struct ClassTable<'f> {
    pub files: &'f [FileFacts],
    exports: &'f super::exports::Exports,
    by_name: rustc_hash::FxHashMap<&'f str, Vec<(usize, usize)>>,
}

impl<'f> ClassTable<'f> {
    fn new(files: &'f [FileFacts], exports: &'f super::exports::Exports) -> ClassTable<'f> {
        let mut by_name: rustc_hash::FxHashMap<&str, Vec<(usize, usize)>> =
            rustc_hash::FxHashMap::default();
        for (fi, f) in files.iter().enumerate() {
            for (ci, c) in f.frameworks.classes.iter().enumerate() {
                by_name.entry(c.name.as_str()).or_default().push((fi, ci));
            }
        }
        ClassTable {
            files,
            exports,
            by_name,
        }
    }

    pub fn class(&self, c: (usize, usize)) -> &'f RawClass {
        &self.files[c.0].frameworks.classes[c.1]
    }

    fn find(&self, path: &str, name: &str) -> Option<&'f RawClass> {
        self.by_name
            .get(name)?
            .iter()
            .find(|c| self.files[c.0].path == path)
            .map(|&c| self.class(c))
    }

    /// The project class a (dotted) name used in file `fi` refers to.
    pub fn resolve(&self, fi: usize, dotted: &str) -> Option<(usize, usize)> {
        let name = crate::syntax::last_segment(dotted);
        let candidates = self.by_name.get(name)?;
        if let Some(c) = candidates.iter().find(|c| c.0 == fi) {
            return Some(*c);
        }
        let head = dotted.split('.').next().unwrap_or(dotted);
        let file = &self.files[fi];
        if let Some(import) = file.imports.iter().find(|i| i.local == head) {
            let module = if dotted.contains('.') {
                format!("{}.{}", import.module, import.name)
            } else {
                import.module.clone()
            };
            return candidates
                .iter()
                .find(|c| self.exports.matches(&self.files[c.0].module, &module, name))
                .copied();
        }
        (candidates.len() == 1).then(|| candidates[0])
    }
}

impl Frameworks {
    /// What the model's method or property `name` reads from `self` (concrete parents too).
    pub fn member_reads<'s>(
        &'s self,
        index: &ProjectIndex,
        model: ModelId,
        name: &str,
    ) -> Option<&'s [RawRead]> {
        let mut current = Some(model);
        let mut hops = 0;
        while let Some(id) = current {
            let key = (id, name.to_string());
            if let Some(reads) = self.members.get(&key) {
                return Some(reads);
            }
            if let Some(lazy) = self.lazy_members.get(&key)
                && !lazy.facts().framework_reads.is_empty()
            {
                return Some(&lazy.facts().framework_reads);
            }
            current = index.models[id].parent_ids.first().copied();
            hops += 1;
            if hops > 16 {
                break;
            }
        }
        None
    }

    /// Does a project class among `bases` (or their own bases) define method `name`? A view
    /// or admin that inherits `get_queryset()` from the project does not get its rows from its
    /// own attributes.
    pub fn inherits_method(&self, bases: &[String], name: &str) -> bool {
        self.all_bases(bases).iter().any(|b| {
            self.class_methods
                .get(b)
                .is_some_and(|methods| methods.iter().any(|m| m == name))
        })
    }

    /// The methods the project's classes named `name` define (None: no such class).
    pub fn methods_of(&self, name: &str) -> Option<&[String]> {
        self.class_methods.get(name).map(Vec::as_slice)
    }

    /// Is `name` the name of a class of the project?
    pub fn is_project_class(&self, name: &str) -> bool {
        self.class_bases.contains_key(name)
    }

    /// Is any of `bases` (or their own bases) a class of the project?
    pub fn has_project_base(&self, bases: &[String]) -> bool {
        self.all_bases(bases)
            .iter()
            .any(|b| self.class_bases.contains_key(b))
    }

    /// A class the framework rules read, by its bases (as `all_bases` follows them): a DRF
    /// generic view or viewset (ORM301), a `ModelAdmin` or an inline (ORM302), a `ListView` or
    /// `DetailView` (ORM303). Phase 2's prefilter keeps its statements and the methods the rules
    /// read (each framework's `site_methods`, and those its statements name).
    pub fn is_site_class(&self, bases: &[String]) -> bool {
        self.all_bases(bases)
            .iter()
            .any(|b| FRAMEWORKS.iter().any(|f| (f.site_base)(b)))
    }

    /// Every base name reachable from `bases` through project classes (by name), `bases`
    /// included: a view deriving from a project `BaseListView(ListAPIView)` is a DRF view.
    pub fn all_bases(&self, bases: &[String]) -> Vec<String> {
        let mut out: Vec<String> = bases
            .iter()
            .map(|b| crate::syntax::last_segment(b).to_string())
            .collect();
        let mut i = 0;
        while i < out.len() && out.len() < 256 {
            if let Some(more) = self.class_bases.get(&out[i]) {
                for b in more {
                    if !out.contains(b) {
                        out.push(b.clone());
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// The serializer a name used in `module` refers to (by its imports, when given).
    pub fn serializer_named(
        &self,
        exports: &super::exports::Exports,
        name: &str,
        module: &str,
        imported_from: Option<&str>,
    ) -> Option<usize> {
        let candidates = self.serializers_by_name.get(name)?;
        if let Some(&same) = candidates
            .iter()
            .find(|&&i| self.serializers[i].module == module)
        {
            return Some(same);
        }
        if let Some(from) = imported_from {
            return candidates
                .iter()
                .find(|&&i| exports.matches(&self.serializers[i].module, from, name))
                .copied();
        }
        (candidates.len() == 1).then(|| candidates[0])
    }
}

/// How deep member reads (`__str__` calling a property reading a relation…) are followed.
const MEMBER_DEPTH: usize = 4;

/// Follow `names` from `cursor`, recording every relation they load. Returns where the chain
/// ends when it ends on a model object (for nested serializers), None otherwise.
pub fn follow(
    index: &ProjectIndex,
    cursor: &Cursor,
    names: &[String],
    origin: &str,
    out: &mut Vec<Need>,
) -> Option<Cursor> {
    follow_depth(index, cursor, names, origin, out, 0)
}

fn follow_depth(
    index: &ProjectIndex,
    cursor: &Cursor,
    names: &[String],
    origin: &str,
    out: &mut Vec<Need>,
    depth: usize,
) -> Option<Cursor> {
    let mut cur = cursor.clone();
    let mut i = 0;
    while i < names.len() {
        let seg = names[i].as_str();
        if seg == ROWS {
            cur.repeated = true;
            i += 1;
            continue;
        }
        let name = seg.strip_suffix("()").unwrap_or(seg);
        match index.field(cur.model, name) {
            Some(field) if field.kind.is_single() => {
                let next = cur.step(name, field)?;
                out.push(next.need(cur.repeated, origin));
                cur = next;
            }
            Some(field) if field.kind.is_multi() => {
                if names.get(i + 1).map(String::as_str) != Some(ROWS) {
                    return None; // `.count()`, `.filter()`…: a prefetch would not serve it
                }
                let mut next = cur.step(name, field)?;
                out.push(next.need(cur.repeated, origin));
                next.repeated = true;
                cur = next;
                i += 1;
            }
            Some(_) => return None,
            None => {
                if depth < MEMBER_DEPTH
                    && let Some(reads) = index.frameworks.member_reads(index, cur.model, name)
                {
                    for read in reads {
                        follow_depth(index, &cur, &read.names, origin, out, depth + 1);
                    }
                }
                return None;
            }
        }
        i += 1;
    }
    Some(cur)
}

/// The needs of turning the object at `cursor` into text (its model's `__str__`).
pub fn stringify(index: &ProjectIndex, cursor: &Cursor, origin: &str, out: &mut Vec<Need>) {
    follow(index, cursor, &[STR.to_string()], origin, out);
}
