//! Phase 1: what the project defines. Models, their fields and relations (forward and reverse),
//! managers and what their `get_queryset` already loads. Built without importing Django.

mod builtin;
pub mod exports;
mod extract;
pub mod first_party;
pub mod helpers;
pub mod imports;
pub mod reads;
pub use extract::relation_kind_of;
pub mod frameworks;
pub mod lazy;
pub mod paths;
mod resolve;

use serde::Serialize;
use std::collections::HashMap;

pub use extract::{
    Import, QuerysetMethod, SelfRead, extract_file, imports_from, lazy_facts, may_define_models,
    module_name,
};
pub use resolve::build_index;

/// Does phase 1 take anything from this file: what `may_define_models` accepts, re-exports
/// (`exports`), module-level functions (`helpers`)? The cache's key covers these files.
pub fn phase1_reads(path: &std::path::Path, bytes: &[u8]) -> bool {
    let is_package = path.file_name().is_some_and(|n| n == "__init__.py");
    may_define_models(bytes) || exports::may_reexport(bytes, is_package) || helpers::has_defs(bytes)
}

/// The index of one models file at `path` (for tests of the layers above).
#[cfg(test)]
pub fn index_of(path: &str, models: &str) -> ProjectIndex {
    let tree = crate::syntax::parse::parse(models).expect("the models parse");
    build_index(&[extract_file(std::path::Path::new(path), models, &tree)])
}

/// What phase 1 reads of one file (extracted in parallel; the index is resolved from all
/// of them).
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    pub path: String,
    pub module: String,
    /// The app this file belongs to (the folder holding `models.py` or the `models/` package).
    pub app_label: String,
    pub imports: Vec<Import>,
    pub classes: Vec<extract::RawClass>,
    /// `AUTH_USER_MODEL = "app.Model"` found at module level.
    pub auth_user_model: Option<String>,
    /// Module-level functions that return `Model.<manager>…` querysets.
    pub queryset_functions: Vec<extract::RawQuerysetFunction>,
    /// Module-level manager classes made of a queryset class: `BookManager =
    /// models.Manager.from_queryset(BookQuerySet)` gives (`BookManager`, `models.Manager`,
    /// `BookQuerySet`).
    pub manager_aliases: Vec<(String, String, String)>,
    /// Serializers, model members, settings' templates (see `frameworks`).
    pub frameworks: frameworks::FrameworkFacts,
}

pub type ModelId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A column that is not a relation.
    Plain,
    ForeignKey,
    OneToOne,
    ManyToMany,
    GenericForeignKey,
    GenericRelation,
    /// `author.book_set` / `related_name` of a ForeignKey.
    ReverseForeignKey,
    /// The other side of a OneToOneField (also the child accessor of multi-table inheritance).
    ReverseOneToOne,
    ReverseManyToMany,
}

impl FieldKind {
    /// One related object per row: can be `select_related`.
    pub fn is_single(self) -> bool {
        matches!(
            self,
            FieldKind::ForeignKey | FieldKind::OneToOne | FieldKind::ReverseOneToOne
        )
    }

    /// A related manager: needs `prefetch_related`.
    pub fn is_multi(self) -> bool {
        matches!(
            self,
            FieldKind::ManyToMany
                | FieldKind::ReverseForeignKey
                | FieldKind::ReverseManyToMany
                | FieldKind::GenericRelation
        )
    }

    pub fn is_relation(self) -> bool {
        self != FieldKind::Plain
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    /// Related model, when it is a relation and we could resolve it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<ModelId>,
    /// Target as written, for messages and `djopt models`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    pub null: bool,
    /// The model that declared the field (differs for inherited fields and reverse accessors).
    #[serde(skip)]
    pub declared_on: ModelId,
    /// `through=` model of a many-to-many field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
    /// `related_name=` with `%(class)s` / `%(app_label)s` filled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_name: Option<String>,
    /// `symmetrical=` of a many-to-many field, when written.
    #[serde(skip)]
    pub symmetrical: Option<bool>,
    /// The lookup on the target model that leads back here (`Book.objects.filter(author=…)` for
    /// `author.books`): the forward field's name for a reverse accessor, the related query name
    /// for a forward relation.
    #[serde(skip)]
    pub remote_query: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Manager {
    pub name: String,
    /// Manager class name as written (`models.Manager`, `BookManager`, `BookQuerySet.as_manager`).
    pub class: String,
    /// Lookups its `get_queryset` already passes to `select_related`.
    pub select_related: Vec<String>,
    /// True when its `get_queryset` calls `select_related()` with no argument.
    pub select_related_all: bool,
    /// Lookups its `get_queryset` already passes to `prefetch_related`.
    pub prefetch_related: Vec<String>,
    /// True when its `get_queryset` filters rows (a count through it can differ).
    pub filters: bool,
    /// Its `get_queryset` uses `only()`/`defer()`/`values()`/`union()`…: adding lookups may fail.
    pub blocks: bool,
    /// We read the manager's class (or it is Django's own); false for a class from elsewhere.
    pub resolved: bool,
    /// Custom methods that return a queryset (its own and its QuerySet class's).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "method_names")]
    pub methods: Vec<QuerysetMethod>,
}

fn method_names<S: serde::Serializer>(methods: &[QuerysetMethod], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(methods.len()))?;
    for m in methods {
        seq.serialize_element(&m.name)?;
    }
    seq.end()
}

#[derive(Clone, Debug, Serialize)]
pub struct Model {
    pub name: String,
    pub app_label: String,
    /// Dotted module (`library.models`), relative to the project root.
    pub module: String,
    pub path: String,
    pub line: usize,
    #[serde(rename = "abstract")]
    pub is_abstract: bool,
    /// `Meta.ordering` is set (here or on a base): `first()` follows it instead of the pk.
    pub ordered: bool,
    /// True for Django's contrib models known without reading site-packages.
    pub builtin: bool,
    /// Concrete parents (multi-table inheritance).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    pub fields: Vec<Field>,
    pub managers: Vec<Manager>,
    /// Methods, properties and attributes that are not fields (they shadow inherited names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// What methods, properties and `__str__` read from `self`.
    #[serde(skip)]
    pub member_reads: HashMap<String, Vec<SelfRead>>,
    /// `member_reads` of the methods phase 1 did not parse (read when asked).
    #[serde(skip)]
    pub lazy_reads: HashMap<String, std::sync::Arc<lazy::LazyMethod>>,
    /// Methods that write to the database, with what their writes are called on.
    #[serde(skip)]
    pub writing_members: Vec<(String, Vec<reads::WriteTarget>)>,
    /// The methods phase 1 did not parse, of this class and its abstract bases.
    #[serde(skip)]
    pub lazy_methods: Vec<std::sync::Arc<lazy::LazyMethod>>,
    #[serde(skip)]
    pub parent_ids: Vec<ModelId>,
    #[serde(skip)]
    field_index: HashMap<String, usize>,
}

impl Model {
    pub fn own_field(&self, name: &str) -> Option<&Field> {
        self.field_index.get(name).map(|&i| &self.fields[i])
    }

    pub fn manager(&self, name: &str) -> Option<&Manager> {
        self.managers.iter().find(|m| m.name == name)
    }

    pub fn label(&self) -> String {
        format!("{}.{}", self.app_label, self.name)
    }
}

/// What a name in some file refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Unique(ModelId),
    /// Several models share the name and the imports did not decide: a guess.
    Ambiguous(ModelId),
}

impl Resolution {
    pub fn id(self) -> ModelId {
        match self {
            Resolution::Unique(id) | Resolution::Ambiguous(id) => id,
        }
    }
}

/// A module-level function that returns a queryset (`def published(): return Book.objects…`).
#[derive(Clone, Debug)]
pub struct QuerysetFunction {
    pub model: ModelId,
    pub manager: String,
    /// What its chain already loads and whether it narrows rows.
    pub summary: QuerysetMethod,
}

#[derive(Debug, Default, Serialize)]
pub struct ProjectIndex {
    pub models: Vec<Model>,
    /// (module, function name) → the queryset it returns.
    #[serde(skip)]
    pub functions: HashMap<(String, String), QuerysetFunction>,
    #[serde(skip)]
    by_name: HashMap<String, Vec<ModelId>>,
    /// DRF serializers, model members, templates (see `frameworks`).
    #[serde(skip)]
    pub frameworks: frameworks::Frameworks,
    /// What modules re-export (`from .x import *`, `__all__`): names resolve through them.
    #[serde(skip)]
    pub exports: exports::Exports,
    /// Module-level functions a loop may pass its row to (read when first called so).
    #[serde(skip)]
    pub helpers: helpers::Helpers,
    /// The project's own top-level module names (where an added import goes).
    #[serde(skip)]
    pub first_party: first_party::FirstParty,
}

impl ProjectIndex {
    pub fn model(&self, id: ModelId) -> &Model {
        &self.models[id]
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    pub fn models_named(&self, name: &str) -> &[ModelId] {
        self.by_name.get(name).map_or(&[], |v| v.as_slice())
    }

    /// A field of the model or of its concrete parents (Django reaches both through the instance).
    pub fn field(&self, model: ModelId, name: &str) -> Option<&Field> {
        let mut seen = Vec::new();
        self.field_inner(model, name, &mut seen)
    }

    fn field_inner(&self, model: ModelId, name: &str, seen: &mut Vec<ModelId>) -> Option<&Field> {
        if seen.contains(&model) {
            return None;
        }
        seen.push(model);
        let m = &self.models[model];
        if let Some(f) = m.own_field(name) {
            return Some(f);
        }
        if m.members.iter().any(|member| member == name) {
            return None; // a property or method of that name hides the relation
        }
        m.parent_ids
            .iter()
            .find_map(|&p| self.field_inner(p, name, seen))
    }

    /// What a method or property of the model (or of a concrete parent) reads from `self`.
    pub fn member_reads(&self, model: ModelId, name: &str) -> Option<&[SelfRead]> {
        let mut current = Some(model);
        let mut hops = 0;
        while let Some(id) = current {
            let m = &self.models[id];
            if m.own_field(name).is_some() {
                return None;
            }
            if let Some(reads) = m.member_reads.get(name) {
                return Some(reads);
            }
            if let Some(lazy) = m.lazy_reads.get(name) {
                return Some(&lazy.facts().reads);
            }
            if m.members.iter().any(|member| member == name) {
                return Some(&[]);
            }
            current = m.parent_ids.first().copied();
            hops += 1;
            if hops > 16 {
                break;
            }
        }
        None
    }

    /// Does a method of the model (or of a concrete parent) write to the database? What its
    /// writes are called on when it does.
    pub fn member_writes(&self, model: ModelId, name: &str) -> Option<&[reads::WriteTarget]> {
        let mut current = Some(model);
        let mut hops = 0;
        while let Some(id) = current {
            let m = &self.models[id];
            if let Some((_, targets)) = m.writing_members.iter().find(|(w, _)| w == name) {
                return Some(targets);
            }
            if let Some(lazy) = m.lazy_methods.iter().find(|l| l.name == name)
                && lazy.facts().writes
            {
                return Some(&lazy.facts().write_targets);
            }
            if m.members.iter().any(|member| member == name) {
                return None;
            }
            current = m.parent_ids.first().copied();
            hops += 1;
            if hops > 16 {
                break;
            }
        }
        None
    }

    /// A function of `module` (as imported: re-exports and other roots match too).
    pub fn queryset_function(&self, module: &str, name: &str) -> Option<&QuerysetFunction> {
        if let Some(f) = self.functions.get(&(module.to_string(), name.to_string())) {
            return Some(f);
        }
        let mut matching = self
            .functions
            .iter()
            .filter(|((m, n), _)| n == name && self.exports.matches(m, module, name));
        let first = matching.next()?;
        // Two functions of that name that both match: do not guess.
        matching.next().is_none().then_some(first.1)
    }

    /// Is `name` the attname of a forward single-valued field (`author_id`)?
    pub fn is_fk_attname(&self, model: ModelId, name: &str) -> bool {
        name.strip_suffix("_id")
            .and_then(|base| self.field(model, base))
            .is_some_and(|f| matches!(f.kind, FieldKind::ForeignKey | FieldKind::OneToOne))
    }

    /// The manager `name` of a model, or Django's default `objects`.
    pub fn manager(&self, model: ModelId, name: &str) -> Option<&Manager> {
        let mut current = Some(model);
        let mut hops = 0;
        while let Some(id) = current {
            let m = &self.models[id];
            if let Some(manager) = m.manager(name) {
                return Some(manager);
            }
            current = m.parent_ids.first().copied();
            hops += 1;
            if hops > 16 {
                break;
            }
        }
        None
    }

    /// Could `attr` on the class be a manager? (`objects`, `_default_manager`, declared ones.)
    pub fn is_manager_name(&self, model: ModelId, attr: &str) -> bool {
        matches!(attr, "objects" | "_default_manager" | "_base_manager")
            || self.manager(model, attr).is_some()
    }

    /// Resolve a class name used in `module`, given where that module imports it from.
    pub fn resolve_name(
        &self,
        name: &str,
        module: &str,
        imported_from: Option<&str>,
    ) -> Option<Resolution> {
        let candidates = self.models_named(name);
        if let Some(from) = imported_from
            && !candidates
                .iter()
                .any(|&id| self.exports.matches(&self.models[id].module, from, name))
        {
            return None; // imported from outside the project
        }
        match candidates {
            [] => None,
            [only] => Some(Resolution::Unique(*only)),
            many => {
                let same_module = many.iter().find(|&&id| self.models[id].module == module);
                if let Some(&id) = same_module {
                    return Some(Resolution::Unique(id));
                }
                if let Some(from) = imported_from {
                    let matching: Vec<ModelId> = many
                        .iter()
                        .copied()
                        .filter(|&id| self.exports.matches(&self.models[id].module, from, name))
                        .collect();
                    match matching.len() {
                        1 => return Some(Resolution::Unique(matching[0])),
                        0 => return None, // imported from outside the project
                        _ => {}
                    }
                }
                // Prefer project models over Django's built-in ones.
                let project: Vec<ModelId> = many
                    .iter()
                    .copied()
                    .filter(|&id| !self.models[id].builtin)
                    .collect();
                if project.len() == 1 {
                    return Some(Resolution::Unique(project[0]));
                }
                Some(Resolution::Ambiguous(many[0]))
            }
        }
    }

    /// Every model with this app label and name.
    pub fn model_by_label(&self, app_label: &str, name: &str) -> Option<ModelId> {
        self.models_named(name)
            .iter()
            .copied()
            .find(|&id| self.models[id].app_label.eq_ignore_ascii_case(app_label))
    }

    pub(crate) fn push_model(&mut self, model: Model) -> ModelId {
        let id = self.models.len();
        self.by_name.entry(model.name.clone()).or_default().push(id);
        self.models.push(model);
        id
    }

    pub(crate) fn reindex_fields(&mut self) {
        for m in &mut self.models {
            m.field_index = m
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), i))
                .collect();
        }
    }
}

/// Does a model's module match what an import names? Roots differ between projects
/// (`src.shop.models` vs `shop.models`), and `app.models` re-exports `app.models.book`.
///
/// Without allocating: phase 1's resolution asks this for every class of a name (thousands of
/// `Migration`s), and three `format!`s a call were most of its time.
pub fn module_matches(model_module: &str, imported: &str) -> bool {
    let imported = imported.trim_start_matches('.');
    let module = model_module.as_bytes();
    let dot_before = |at: usize| at > 0 && module[at - 1] == b'.';
    let dot_after = |at: usize| module.get(at + imported.len()) == Some(&b'.');
    model_module == imported
        // `….imported`
        || (model_module.len() > imported.len()
            && model_module.ends_with(imported)
            && dot_before(model_module.len() - imported.len()))
        // `imported.…`
        || (model_module.starts_with(imported) && dot_after(0))
        // `….imported.…`
        || model_module
            .match_indices(imported)
            .any(|(at, _)| dot_before(at) && dot_after(at))
}

#[cfg(test)]
mod tests {
    use super::module_matches;

    /// The definition, with the strings it builds.
    fn reference(model_module: &str, imported: &str) -> bool {
        let imported = imported.trim_start_matches('.');
        model_module == imported
            || model_module.ends_with(&format!(".{imported}"))
            || model_module.starts_with(&format!("{imported}."))
            || model_module.contains(&format!(".{imported}."))
    }

    #[test]
    fn module_matches_as_its_definition_says() {
        let modules = [
            "",
            "shop",
            "shop.models",
            "src.shop.models",
            "shop.models.book",
            "shopping.models",
            "a.shop.models.b",
            "models",
            "x.models",
            "shop..models",
            ".shop",
            "shop.",
        ];
        let imports = [
            "",
            ".",
            "..",
            "shop",
            ".models",
            "models",
            "shop.models",
            "..shop.models",
            "book",
            "shop.models.book",
            "hop.mod",
            "s",
            "shop.",
        ];
        for m in modules {
            for i in imports {
                assert_eq!(module_matches(m, i), reference(m, i), "{m:?} {i:?}");
            }
        }
        assert!(module_matches("src.shop.models", "shop.models"));
        assert!(!module_matches("shopping.models", "shop"));
    }
}
