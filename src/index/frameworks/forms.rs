//! Django forms: a model choice field renders one option per row of its queryset, labelled
//! by `label_from_instance(obj)` (`str(obj)` unless a subclass overrides it). What the index
//! knows of a choice field class is its class (bases, methods); ORM305 reads the rest.

use super::Framework;

/// Django's model choice fields (last segments).
pub const CHOICE_FIELDS: &[&str] = &["ModelChoiceField", "ModelMultipleChoiceField"];

pub const FRAMEWORK: Framework = Framework {
    name: "forms",
    words: &[
        b"ModelChoiceField",
        b"ModelMultipleChoiceField",
        b"fields[",
        b"ModelForm",
    ],
    // A project subclass of a choice field (phase 2 keeps its `label_from_instance`), and a
    // `ModelForm` (its `Meta`).
    site_base: |base| CHOICE_FIELDS.contains(&base) || base == "ModelForm",
    site_methods: &["label_from_instance"],
};
