//! Turn per-file facts into the project index: which classes are models, what their fields point
//! to, inherited fields, parent links, reverse accessors and managers.

use super::builtin::{BUILTIN_MODELS, is_django_model_base};
use super::extract::{FileFacts, RawClass, RawField, RawTarget, relation_kind_of};
use super::lazy::LazyMethod;
use super::{Field, FieldKind, Manager, Model, ModelId, ProjectIndex, module_matches};
use crate::syntax::last_segment;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;

type ClassRef = (usize, usize);

struct Resolver<'f> {
    files: &'f [FileFacts],
    classes_by_name: FxHashMap<&'f str, Vec<ClassRef>>,
    /// The files that assign a manager class at module level, by its name.
    manager_aliases: FxHashMap<&'f str, Vec<usize>>,
    is_model: FxHashMap<ClassRef, bool>,
    index: ProjectIndex,
    model_of_class: FxHashMap<ClassRef, ModelId>,
    builtin_by_name: FxHashMap<&'static str, ModelId>,
    auth_user: Option<String>,
}

pub fn build_index(files: &[FileFacts]) -> ProjectIndex {
    let mut classes_by_name: FxHashMap<&str, Vec<ClassRef>> = FxHashMap::default();
    for (fi, file) in files.iter().enumerate() {
        for (ci, class) in file.classes.iter().enumerate() {
            classes_by_name
                .entry(&class.name)
                .or_default()
                .push((fi, ci));
        }
    }
    let mut manager_aliases: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (fi, file) in files.iter().enumerate() {
        for (name, _, _) in &file.manager_aliases {
            manager_aliases.entry(name).or_default().push(fi);
        }
    }
    let auth_user = files.iter().find_map(|f| f.auth_user_model.clone());
    let mut r = Resolver {
        files,
        classes_by_name,
        manager_aliases,
        is_model: FxHashMap::default(),
        index: ProjectIndex::default(),
        model_of_class: FxHashMap::default(),
        builtin_by_name: FxHashMap::default(),
        auth_user,
    };
    r.add_builtins();
    r.add_project_models();
    r.add_parent_links();
    r.add_reverse_accessors();
    r.index.reindex_fields();
    r.add_queryset_functions();
    r.index
}

impl<'f> Resolver<'f> {
    fn class(&self, c: ClassRef) -> &'f RawClass {
        &self.files[c.0].classes[c.1]
    }

    fn import_module(&self, fi: usize, local: &str) -> Option<&'f str> {
        self.files[fi]
            .imports
            .iter()
            .find(|i| i.local == local)
            .map(|i| i.module.as_str())
    }

    /// The project class a base or target name refers to, from file `fi`.
    fn resolve_class(&self, fi: usize, dotted: &str) -> Option<ClassRef> {
        let name = last_segment(dotted);
        let candidates = self.classes_by_name.get(name)?;
        if let Some(c) = candidates.iter().find(|c| c.0 == fi) {
            return Some(*c);
        }
        let head = dotted.split('.').next().unwrap_or(dotted);
        if let Some(module) = self.import_module(fi, head) {
            let module = if dotted.contains('.') {
                // `from shop import models` then `models.Book`
                format!("{module}.{head}")
            } else {
                module.to_string()
            };
            let parent = module.rsplit_once('.').map_or("", |x| x.0);
            if let Some(c) = candidates.iter().find(|c| {
                module_matches(&self.files[c.0].module, &module)
                    || module_matches(&self.files[c.0].module, parent)
            }) {
                return Some(*c);
            }
            // Imported from a module outside the project: not one of ours, whatever its name.
            return None;
        }
        if candidates.len() == 1 {
            return Some(candidates[0]);
        }
        // Prefer a class that is a model.
        candidates
            .iter()
            .copied()
            .find(|c| self.is_model.get(c) == Some(&true))
    }

    fn builtin_base(&self, dotted: &str) -> Option<ModelId> {
        let name = last_segment(dotted);
        self.builtin_by_name.get(name).copied()
    }

    fn compute_is_model(&mut self, c: ClassRef, depth: usize) -> bool {
        if let Some(&known) = self.is_model.get(&c) {
            return known;
        }
        if depth > 32 {
            return false;
        }
        self.is_model.insert(c, false); // cycle guard
        let class = self.class(c);
        // Columns declared as `models.XField(...)`: a model, even if its base is from a package
        // we do not read (`django_otp.models.Device`).
        let mut result = class
            .fields
            .iter()
            .any(|f| f.callee.starts_with("models.") && !class.bases.is_empty());
        for base in &class.bases {
            let head = base.split('.').next().unwrap_or(base);
            if is_django_model_base(base, self.import_module(c.0, head)) {
                result = true;
                break;
            }
            if let Some(parent) = self.resolve_class(c.0, base)
                && parent != c
                && self.compute_is_model(parent, depth + 1)
            {
                result = true;
                break;
            }
            if self.builtin_base(base).is_some() && self.resolve_class(c.0, base).is_none() {
                result = true;
                break;
            }
        }
        self.is_model.insert(c, result);
        result
    }

    fn add_builtins(&mut self) {
        for b in BUILTIN_MODELS {
            let id = self.index.push_model(Model {
                name: b.name.to_string(),
                app_label: b.app_label.to_string(),
                module: b.module.to_string(),
                path: String::new(),
                line: 0,
                is_abstract: b.is_abstract,
                ordered: false,
                builtin: true,
                parents: Vec::new(),
                fields: Vec::new(),
                managers: vec![default_manager()],
                members: Vec::new(),
                member_reads: HashMap::new(),
                lazy_reads: HashMap::new(),
                writing_members: Vec::new(),
                lazy_methods: Vec::new(),
                parent_ids: Vec::new(),
                field_index: HashMap::new(),
            });
            self.builtin_by_name.insert(b.name, id);
        }
    }

    fn add_project_models(&mut self) {
        let refs: Vec<ClassRef> = self
            .files
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| (0..f.classes.len()).map(move |ci| (fi, ci)))
            .collect();
        for &c in &refs {
            self.compute_is_model(c, 0);
        }
        for &c in &refs {
            if self.is_model[&c] {
                let class = self.class(c);
                let file = &self.files[c.0];
                let id = self.index.push_model(Model {
                    name: class.name.clone(),
                    app_label: class
                        .app_label
                        .clone()
                        .unwrap_or_else(|| file.app_label.clone()),
                    module: file.module.clone(),
                    path: file.path.clone(),
                    line: class.line,
                    is_abstract: class.is_abstract,
                    ordered: class.ordered,
                    builtin: false,
                    parents: Vec::new(),
                    fields: Vec::new(),
                    managers: Vec::new(),
                    members: Vec::new(),
                    member_reads: HashMap::new(),
                    lazy_reads: HashMap::new(),
                    writing_members: Vec::new(),
                    lazy_methods: Vec::new(),
                    parent_ids: Vec::new(),
                    field_index: HashMap::new(),
                });
                self.model_of_class.insert(c, id);
            }
        }
        // Built-in fields, now that every model has an id (targets name models by label).
        for (bi, b) in BUILTIN_MODELS.iter().enumerate() {
            let id = self.builtin_by_name[b.name];
            debug_assert_eq!(id, bi);
            let fields = b
                .fields
                .iter()
                .map(|(name, kind, target, null, related_name)| {
                    let target_id = match *target {
                        "" => None,
                        "AUTH_USER_MODEL" => self.auth_user_model(),
                        label => self.by_label(label, None),
                    };
                    let mut field = plain_field(name, id);
                    field.kind = *kind;
                    field.null = *null;
                    field.target = target_id;
                    field.target_name = (!target.is_empty()).then(|| target.to_string());
                    field.related_name =
                        (!related_name.is_empty()).then(|| related_name.to_string());
                    (field, ())
                })
                .collect::<Vec<_>>();
            self.index.models[id].fields = fields.iter().map(|(f, _)| f.clone()).collect();
        }
        let mut ordered: Vec<(ClassRef, ModelId)> = self
            .model_of_class
            .iter()
            .map(|(c, id)| (*c, *id))
            .collect();
        ordered.sort_by_key(|(_, id)| *id);
        for (c, id) in ordered {
            let mut fields = Vec::new();
            let mut managers = Vec::new();
            let mut parents = Vec::new();
            let mut seen = Vec::new();
            self.collect_inherited(c, id, &mut fields, &mut managers, &mut parents, &mut seen);
            // Members of this class and of its abstract bases.
            let members: Vec<String> = seen
                .iter()
                .flat_map(|&s| self.class(s).members.iter().cloned())
                .collect();
            let ordered_by_base = seen.iter().any(|&s| self.class(s).ordered)
                || parents
                    .iter()
                    .any(|&p: &ModelId| self.index.models[p].ordered);
            let writing_members: Vec<(String, Vec<super::reads::WriteTarget>)> = seen
                .iter()
                .flat_map(|&s| self.class(s).writing_members.iter().cloned())
                .collect();
            // The class's own definitions win over its abstract bases' (seen lists it first),
            // whether phase 1 read them or left them for later.
            let mut member_reads: HashMap<String, Vec<crate::index::SelfRead>> = HashMap::new();
            let mut lazy_reads: HashMap<String, Arc<LazyMethod>> = HashMap::new();
            for &s in &seen {
                let class = self.class(s);
                for (name, reads) in &class.member_reads {
                    if !lazy_reads.contains_key(name) {
                        member_reads
                            .entry(name.clone())
                            .or_insert_with(|| reads.clone());
                    }
                }
                for lazy in &class.lazy_methods {
                    if !member_reads.contains_key(&lazy.name) {
                        lazy_reads
                            .entry(lazy.name.clone())
                            .or_insert_with(|| lazy.clone());
                    }
                }
            }
            let lazy_methods: Vec<Arc<LazyMethod>> = seen
                .iter()
                .flat_map(|&s| self.class(s).lazy_methods.iter().cloned())
                .collect();
            if managers.is_empty() {
                managers.push(default_manager());
            }
            if !fields.iter().any(|f: &Field| f.name == "id") && parents.is_empty() {
                fields.insert(0, plain_field("id", id));
            }
            let parent_names = parents
                .iter()
                .map(|&p: &ModelId| self.index.models[p].name.clone())
                .collect();
            let model = &mut self.index.models[id];
            model.fields = fields;
            model.managers = managers;
            model.members = members;
            model.ordered |= ordered_by_base;
            model.member_reads = member_reads;
            model.lazy_reads = lazy_reads;
            model.writing_members = writing_members;
            model.lazy_methods = lazy_methods;
            model.parents = parent_names;
            self.index.models[id].parent_ids = parents;
        }
    }

    /// Fields and managers of class `c` for the concrete model `owner`: abstract bases first
    /// (their fields are copied), then its own. Concrete bases become parents.
    fn collect_inherited(
        &self,
        c: ClassRef,
        owner: ModelId,
        fields: &mut Vec<Field>,
        managers: &mut Vec<Manager>,
        parents: &mut Vec<ModelId>,
        seen: &mut Vec<ClassRef>,
    ) {
        if seen.contains(&c) || seen.len() > 32 {
            return;
        }
        seen.push(c);
        let class = self.class(c);
        for base in &class.bases {
            if let Some(parent) = self.resolve_class(c.0, base)
                && parent != c
                && self.is_model.get(&parent) == Some(&true)
            {
                let parent_class = self.class(parent);
                if parent_class.is_abstract {
                    self.collect_inherited(parent, owner, fields, managers, parents, seen);
                } else if let Some(&pid) = self.model_of_class.get(&parent) {
                    parents.push(pid);
                }
            } else if self.resolve_class(c.0, base).is_none()
                && let Some(bid) = self.builtin_base(base)
            {
                let builtin = &self.index.models[bid];
                if builtin.is_abstract {
                    for f in &builtin.fields {
                        let mut f = f.clone();
                        f.declared_on = owner;
                        push_field(fields, f);
                    }
                } else {
                    parents.push(bid);
                }
            }
        }
        let owner_model = &self.index.models[owner];
        let (owner_name, owner_app) = (owner_model.name.clone(), owner_model.app_label.clone());
        for raw in &class.fields {
            let field = self.resolve_field(c.0, raw, owner, &owner_name, &owner_app);
            push_field(fields, field);
        }
        for (name, callee) in &class.managers {
            let manager = self.manager(c.0, name, callee);
            managers.retain(|m| m.name != manager.name);
            managers.push(manager);
        }
    }

    fn resolve_field(
        &self,
        fi: usize,
        raw: &RawField,
        owner: ModelId,
        owner_name: &str,
        owner_app: &str,
    ) -> Field {
        let kind = relation_kind_of(last_segment(&raw.callee)).unwrap_or(FieldKind::Plain);
        let mut field = plain_field(&raw.name, owner);
        field.kind = kind;
        field.null = raw.null;
        field.through = raw.through.clone();
        if let Some(target) = &raw.target {
            field.target_name = Some(match target {
                RawTarget::String(s) | RawTarget::Name(s) => s.clone(),
                RawTarget::AuthUser => "settings.AUTH_USER_MODEL".into(),
            });
            field.target = match target {
                RawTarget::String(s) if s == "self" => Some(owner),
                RawTarget::String(s) => self.by_label(s, Some(owner_app)),
                RawTarget::Name(n) => self
                    .resolve_class(fi, n)
                    .and_then(|c| self.model_of_class.get(&c).copied())
                    .or_else(|| self.builtin_base(n)),
                RawTarget::AuthUser => self.auth_user_model(),
            };
        }
        if kind == FieldKind::GenericForeignKey {
            field.target = None;
            field.target_name = None;
        }
        field.related_name = raw.related_name.as_ref().map(|rn| {
            rn.replace("%(class)s", &owner_name.to_lowercase())
                .replace("%(app_label)s", &owner_app.to_lowercase())
        });
        field.symmetrical = raw.symmetrical;
        let query_name = raw
            .related_query_name
            .clone()
            .or_else(|| field.related_name.clone().filter(|r| !r.ends_with('+')))
            .unwrap_or_else(|| owner_name.to_lowercase())
            .replace("%(class)s", &owner_name.to_lowercase())
            .replace("%(app_label)s", &owner_app.to_lowercase());
        field.remote_query = Some(query_name);
        field
    }

    fn by_label(&self, label: &str, default_app: Option<&str>) -> Option<ModelId> {
        match label.split_once('.') {
            Some((app, name)) => self.index.model_by_label(app, name).or_else(|| {
                // App label differs from the folder name we guessed: fall back to the name
                // (of a project model: a built-in one has its label).
                let mut project = self
                    .index
                    .models_named(name)
                    .iter()
                    .filter(|&&id| !self.index.models[id].builtin);
                match (project.next(), project.next()) {
                    (Some(one), None) => Some(*one),
                    _ => None,
                }
            }),
            None => {
                let candidates = self.index.models_named(label);
                if let Some(app) = default_app
                    && let Some(id) = candidates
                        .iter()
                        .find(|&&id| self.index.models[id].app_label == app)
                {
                    return Some(*id);
                }
                candidates
                    .iter()
                    .find(|&&id| !self.index.models[id].builtin)
                    .or(candidates.first())
                    .copied()
            }
        }
    }

    fn auth_user_model(&self) -> Option<ModelId> {
        match &self.auth_user {
            Some(label) => self.by_label(label, None),
            None => self.builtin_by_name.get("User").copied(),
        }
    }

    /// `BookManager` of `objects = BookManager()`, when a module assigns it `Base.from_queryset(
    /// QS)`: the file of that assignment, `Base` and `QS`. The file `fi` first, then a file it
    /// imports the name from, then the only module that defines one of that name.
    fn manager_alias(&self, fi: usize, callee: &str) -> Option<(usize, &str, &str)> {
        let name = last_segment(callee);
        let defining = self.manager_aliases.get(name)?;
        let in_file = |f: usize| {
            self.files[f]
                .manager_aliases
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, base, qs)| (f, base.as_str(), qs.as_str()))
        };
        if defining.contains(&fi) {
            return in_file(fi);
        }
        let head = callee.split('.').next().unwrap_or(callee);
        if let Some(module) = self.import_module(fi, head) {
            let module = if callee.contains('.') {
                format!("{module}.{head}")
            } else {
                module.to_string()
            };
            return defining
                .iter()
                .find(|&&f| module_matches(&self.files[f].module, &module))
                .and_then(|&f| in_file(f));
        }
        match defining.as_slice() {
            [only] => in_file(*only),
            _ => None,
        }
    }

    fn manager(&self, fi: usize, name: &str, callee: &str) -> Manager {
        // `BookManager = Manager.from_queryset(BookQuerySet)` then `objects = BookManager()`:
        // the queryset class's methods, and the base's get_queryset.
        if let Some((fa, base, qs)) = self.manager_alias(fi, callee) {
            let mut manager = if is_django_manager(base) {
                self.manager_class(fa, name, &format!("{qs}.as_manager"))
            } else {
                let mut m = self.manager_class(fa, name, base);
                m.methods.extend(self.queryset_methods(fa, qs));
                m
            };
            manager.class = callee.to_string();
            return manager;
        }
        self.manager_class(fi, name, callee)
    }

    /// The manager `name` of class (or `QS.as_manager`) `callee`, as written in file `fi`.
    fn manager_class(&self, fi: usize, name: &str, callee: &str) -> Manager {
        let mut manager = Manager {
            name: name.to_string(),
            class: callee.to_string(),
            select_related: Vec::new(),
            select_related_all: false,
            prefetch_related: Vec::new(),
            filters: false,
            blocks: false,
            resolved: is_django_manager(callee),
            methods: Vec::new(),
        };
        manager.methods = self.queryset_methods(fi, callee.trim_end_matches(".as_manager"));
        // Walk the manager class and its bases for a get_queryset.
        let mut current = self.resolve_class(fi, callee.trim_end_matches(".as_manager"));
        let mut hops = 0;
        while let Some(c) = current {
            let class = self.class(c);
            if let Some(gq) = &class.get_queryset {
                manager.select_related = gq.select_related.clone();
                manager.select_related_all = gq.select_related_all;
                manager.prefetch_related = gq.prefetch_related.clone();
                manager.filters = gq.filters;
                manager.blocks = gq.blocks;
                manager.resolved = true;
                break;
            }
            // A project class that reaches Django's Manager/QuerySet without overriding get_queryset.
            if class.bases.iter().any(|b| is_django_manager(b)) {
                manager.resolved = true;
            }
            hops += 1;
            current = class
                .bases
                .iter()
                .find_map(|b| self.resolve_class(c.0, b))
                .filter(|next| *next != c && hops < 16);
        }
        manager
    }

    fn add_queryset_functions(&mut self) {
        for (fi, file) in self.files.iter().enumerate() {
            for f in &file.queryset_functions {
                let model = self
                    .resolve_class(fi, &f.model)
                    .and_then(|c| self.model_of_class.get(&c).copied())
                    .or_else(|| self.builtin_base(&f.model));
                let Some(model) = model else { continue };
                if !self.index.is_manager_name(model, &f.manager) {
                    continue;
                }
                let manager = if f.manager.starts_with('_') {
                    "objects".to_string()
                } else {
                    f.manager.clone()
                };
                self.index.functions.insert(
                    (file.module.clone(), f.name.clone()),
                    crate::index::QuerysetFunction {
                        model,
                        manager,
                        summary: f.summary.clone(),
                    },
                );
            }
        }
    }

    /// Queryset-returning methods of a manager or QuerySet class and its project bases.
    fn queryset_methods(&self, fi: usize, class_name: &str) -> Vec<crate::index::QuerysetMethod> {
        let mut out: Vec<crate::index::QuerysetMethod> = Vec::new();
        let mut stack = vec![(fi, class_name.to_string())];
        let mut seen = Vec::new();
        while let Some((file, name)) = stack.pop() {
            let Some(c) = self.resolve_class(file, &name) else {
                continue;
            };
            if seen.contains(&c) || seen.len() > 32 {
                continue;
            }
            seen.push(c);
            let class = self.class(c);
            for m in &class.queryset_methods {
                if !out.iter().any(|o| o.name == m.name) {
                    out.push(m.clone());
                }
            }
            for base in &class.bases {
                stack.push((c.0, base.clone()));
            }
        }
        out
    }

    /// Multi-table inheritance: `<parent>_ptr` on the child, the child accessor on the parent.
    fn add_parent_links(&mut self) {
        for child in 0..self.index.models.len() {
            let parents = self.index.models[child].parent_ids.clone();
            if self.index.models[child].is_abstract {
                continue;
            }
            for parent in parents {
                let child_name = self.index.models[child].name.to_lowercase();
                let parent_name = self.index.models[parent].name.to_lowercase();
                let ptr = format!("{parent_name}_ptr");
                let has_link = self.index.models[child]
                    .fields
                    .iter()
                    .any(|f| f.kind == FieldKind::OneToOne && f.target == Some(parent));
                if !has_link {
                    let mut f = plain_field(&ptr, child);
                    f.kind = FieldKind::OneToOne;
                    f.target = Some(parent);
                    f.target_name = Some(self.index.models[parent].name.clone());
                    self.index.models[child].fields.push(f);
                    let mut back = plain_field(&child_name, parent);
                    back.kind = FieldKind::ReverseOneToOne;
                    back.target = Some(child);
                    back.target_name = Some(self.index.models[child].name.clone());
                    push_field(&mut self.index.models[parent].fields, back);
                }
            }
        }
    }

    fn add_reverse_accessors(&mut self) {
        let mut reverse: Vec<(ModelId, Field)> = Vec::new();
        for (id, model) in self.index.models.iter().enumerate() {
            if model.is_abstract {
                continue;
            }
            for f in &model.fields {
                let Some(target) = f.target else { continue };
                let (kind, default) = match f.kind {
                    FieldKind::ForeignKey => (
                        FieldKind::ReverseForeignKey,
                        format!("{}_set", model.name.to_lowercase()),
                    ),
                    FieldKind::OneToOne => (FieldKind::ReverseOneToOne, model.name.to_lowercase()),
                    FieldKind::ManyToMany => (
                        FieldKind::ReverseManyToMany,
                        format!("{}_set", model.name.to_lowercase()),
                    ),
                    _ => continue,
                };
                if f.kind == FieldKind::ManyToMany && target == id && f.symmetrical != Some(false) {
                    continue; // symmetrical self many-to-many: no reverse accessor
                }
                let name = f.related_name.clone().unwrap_or(default);
                if name.ends_with('+') {
                    continue;
                }
                let mut back = plain_field(&name, target);
                back.kind = kind;
                back.target = Some(id);
                back.target_name = Some(model.name.clone());
                back.remote_query = Some(f.name.clone());
                back.through = f.through.clone();
                reverse.push((target, back));
            }
        }
        for (target, field) in reverse {
            push_field(&mut self.index.models[target].fields, field);
        }
    }
}

fn plain_field(name: &str, owner: ModelId) -> Field {
    Field {
        name: name.to_string(),
        kind: FieldKind::Plain,
        target: None,
        target_name: None,
        null: false,
        declared_on: owner,
        through: None,
        related_name: None,
        symmetrical: None,
        remote_query: None,
    }
}

fn push_field(fields: &mut Vec<Field>, field: Field) {
    if let Some(existing) = fields.iter_mut().find(|f| f.name == field.name) {
        *existing = field;
    } else {
        fields.push(field);
    }
}

fn default_manager() -> Manager {
    Manager {
        name: "objects".into(),
        class: "models.Manager".into(),
        select_related: Vec::new(),
        select_related_all: false,
        prefetch_related: Vec::new(),
        filters: false,
        blocks: false,
        resolved: true,
        methods: Vec::new(),
    }
}

/// Django's own manager and queryset classes (their `get_queryset` adds nothing).
fn is_django_manager(dotted: &str) -> bool {
    matches!(last_segment(dotted), "Manager" | "BaseManager" | "QuerySet")
        || dotted.ends_with("Manager.from_queryset")
}
