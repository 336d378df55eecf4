//! `Prefetch("books", queryset=Book.objects.select_related("editor"))`: when what is read under a
//! multi-valued relation starts with single-valued relations (a nested `many=True` serializer
//! following `editor`), the prefetch's own queryset joins them: one query per level instead of
//! one per relation (`"books__editor"` as a string lookup costs one more query).

use crate::analysis::FileContext;
use crate::analysis::queryset::Coverage;
use crate::index::ModelId;
use crate::index::paths::minimal_lookups;

/// Prefetch expressions for some of `lookups` (rows of `model`), and the lookups they replace.
pub struct Nested {
    pub expressions: Vec<String>,
    pub replaced: Vec<String>,
    /// What the file needs to spell `Prefetch`.
    pub imports: Vec<crate::fix::Edit>,
}

pub fn nested_prefetches(
    ctx: &FileContext,
    model: ModelId,
    lookups: &[String],
    cov: &Coverage,
) -> Option<Nested> {
    if cov.unknown {
        return None;
    }
    // Group by the path up to and including the first multi-valued hop.
    let mut groups: Vec<(String, ModelId, Vec<String>, Vec<String>)> = Vec::new();
    for lookup in lookups {
        let Some((prefix, target, rest)) = split_at_first_multi(ctx, model, lookup) else {
            continue;
        };
        let group = match groups.iter_mut().find(|g| g.0 == prefix) {
            Some(g) => g,
            None => {
                groups.push((prefix.clone(), target, Vec::new(), Vec::new()));
                groups.last_mut().expect("just pushed")
            }
        };
        group.3.push(lookup.clone());
        if let Some(rest) = rest {
            group.2.push(rest);
        }
    }
    let mut expressions = Vec::new();
    let mut replaced = Vec::new();
    let mut spelled: Option<(String, Vec<crate::fix::Edit>)> = None;
    for (prefix, target, rests, originals) in groups {
        let related = cov.prefetch.iter().chain(&cov.select).any(|l| {
            let l = l.trim_end_matches('\u{1}');
            l == prefix
                || l.starts_with(&format!("{prefix}__"))
                || prefix.starts_with(&format!("{l}__"))
        });
        if related {
            continue; // a second queryset for one lookup raises ValueError
        }
        let mut select = Vec::new();
        let mut prefetch = Vec::new();
        for rest in &rests {
            let singles = leading_single_hops(ctx, target, rest);
            if !singles.is_empty() {
                select.push(singles.clone());
            }
            if singles != *rest {
                prefetch.push(rest.clone());
            }
        }
        if select.is_empty() {
            continue; // nothing to join: the string lookups cost the same
        }
        let Some(name) = ctx.local_name_for(target) else {
            continue; // the related model is not importable here under a known name
        };
        let manager = match ctx.index.model(target).managers.first() {
            Some(m) if m.blocks || !m.resolved => continue,
            Some(m) if m.name != "objects" => "_default_manager",
            _ => "objects",
        };
        let prefix_name = spelled
            .get_or_insert_with(|| {
                crate::rules::shared::imports::db_models_names(ctx, &["Prefetch"])
            })
            .0
            .clone();
        let mut queryset = format!("{name}.{manager}");
        for (method, list) in [
            ("select_related", minimal_lookups(&select)),
            ("prefetch_related", minimal_lookups(&prefetch)),
        ] {
            if !list.is_empty() {
                let quoted: Vec<String> = list.iter().map(|l| ctx.string_literal(l)).collect();
                queryset.push_str(&format!(".{method}({})", quoted.join(", ")));
            }
        }
        expressions.push(format!(
            "{prefix_name}Prefetch({}, queryset={queryset})",
            ctx.string_literal(&prefix)
        ));
        replaced.extend(originals);
    }
    if expressions.is_empty() {
        return None;
    }
    Some(Nested {
        expressions,
        replaced,
        imports: spelled.map(|(_, e)| e).unwrap_or_default(),
    })
}

/// `author__books__editor` → (`author__books`, Book, Some(`editor`)).
fn split_at_first_multi(
    ctx: &FileContext,
    model: ModelId,
    lookup: &str,
) -> Option<(String, ModelId, Option<String>)> {
    let parts: Vec<&str> = lookup.split("__").collect();
    let mut current = model;
    for (i, part) in parts.iter().enumerate() {
        let field = ctx.index.field(current, part)?;
        current = field.target?;
        if field.kind.is_multi() {
            let prefix = parts[..=i].join("__");
            let rest = (i + 1 < parts.len()).then(|| parts[i + 1..].join("__"));
            return Some((prefix, current, rest));
        }
    }
    None
}

/// The leading single-valued hops of a lookup from `model` (`editor__books` → `editor`).
fn leading_single_hops(ctx: &FileContext, model: ModelId, lookup: &str) -> String {
    let mut current = model;
    let mut out = Vec::new();
    for part in lookup.split("__") {
        let Some(field) = ctx.index.field(current, part) else {
            break;
        };
        if !field.kind.is_single() {
            break;
        }
        let Some(target) = field.target else { break };
        out.push(part);
        current = target;
    }
    out.join("__")
}
