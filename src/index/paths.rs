//! Relation paths over the model graph: where a chain of reads stands ([`Cursor`]), what it
//! needs loaded ([`Need`]), and the paths Django itself follows (`_meta.fields`, a bare
//! `select_related()`). The one home for stepping across a relation: the loop analysis, the
//! framework readers (serializers, `__str__`, templates) and the rules all step through here.

use super::{Field, FieldKind, ModelId, ProjectIndex};

/// A relation path some code needs loaded, from the root model of a queryset.
#[derive(Clone, Debug)]
pub struct Need {
    pub path: Vec<String>,
    /// Crosses a multi-valued relation: `prefetch_related`.
    pub multi: bool,
    /// Every hop is a forward ForeignKey or one-to-one.
    pub forward: bool,
    /// ... that cannot be null (a bare `select_related()` follows it).
    pub forward_non_null: bool,
    /// Read once per row of something: an N+1 when not loaded.
    pub repeated: bool,
    /// What reads it, for the message (`serializers.py:12 obj.author.name`).
    pub origin: String,
}

impl Need {
    pub fn lookup(&self) -> String {
        self.path.join("__")
    }
}

/// Where a chain of reads stands: the model reached and how.
#[derive(Clone, Debug)]
pub struct Cursor {
    pub model: ModelId,
    pub prefix: Vec<String>,
    pub multi: bool,
    pub forward: bool,
    pub forward_non_null: bool,
    /// The reads happen once per row (of the root queryset or of a related manager).
    pub repeated: bool,
}

impl Cursor {
    pub fn root(model: ModelId, repeated: bool) -> Cursor {
        Cursor {
            model,
            prefix: Vec::new(),
            multi: false,
            forward: true,
            forward_non_null: true,
            repeated,
        }
    }

    /// One relation further.
    pub fn step(&self, name: &str, field: &Field) -> Option<Cursor> {
        let target = field.target?;
        let mut next = self.clone();
        next.prefix.push(name.to_string());
        next.model = target;
        next.multi |= field.kind.is_multi();
        let forward = matches!(field.kind, FieldKind::ForeignKey | FieldKind::OneToOne);
        next.forward &= forward;
        next.forward_non_null &= forward && !field.null;
        Some(next)
    }

    pub fn need(&self, repeated: bool, origin: &str) -> Need {
        Need {
            path: self.prefix.clone(),
            multi: self.multi,
            forward: self.forward,
            forward_non_null: self.forward_non_null,
            repeated,
            origin: origin.to_string(),
        }
    }
}

/// Every non-null forward ForeignKey/one-to-one chain from `model`, as Django's bare
/// `select_related()` follows them (at most five levels), longest paths only.
pub fn bare_select_paths(index: &ProjectIndex, model: ModelId) -> Vec<String> {
    let mut out = Vec::new();
    bare_paths_from(index, model, &mut Vec::new(), &mut out);
    out
}

fn bare_paths_from(
    index: &ProjectIndex,
    model: ModelId,
    prefix: &mut Vec<String>,
    out: &mut Vec<String>,
) {
    let mut any = false;
    if prefix.len() < 5 {
        for field in concrete_fields(index, model) {
            if matches!(field.kind, FieldKind::ForeignKey | FieldKind::OneToOne)
                && !field.null
                && let Some(target) = field.target
            {
                any = true;
                prefix.push(field.name.clone());
                bare_paths_from(index, target, prefix, out);
                prefix.pop();
            }
        }
    }
    if !any && !prefix.is_empty() {
        out.push(prefix.join("__"));
    }
}

/// The model's own fields and those of its concrete parents (what `_meta.fields` lists).
pub fn concrete_fields(index: &ProjectIndex, model: ModelId) -> Vec<&Field> {
    let mut out: Vec<&Field> = Vec::new();
    let mut stack = vec![model];
    let mut seen = Vec::new();
    while let Some(id) = stack.pop() {
        if seen.contains(&id) || seen.len() > 16 {
            continue;
        }
        seen.push(id);
        for f in &index.models[id].fields {
            if !out.iter().any(|o| o.name == f.name) {
                out.push(f);
            }
        }
        stack.extend(index.models[id].parent_ids.iter().copied());
    }
    out
}

/// Lookups implied by no longer one, in first-seen order (`author` goes when `author__x` is there).
pub fn minimal_lookups(lookups: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lookups {
        let implied = lookups.iter().any(|o| o.starts_with(&format!("{l}__")));
        if !implied && !out.contains(l) {
            out.push(l.clone());
        }
    }
    out
}
