//! The Django admin: `ModelAdmin` changelists and inlines read relations of each row they show
//! (DJANGO.md 15). What the index knows of an admin is its class (bases, statements, methods);
//! `analysis::classes` reads its body and ORM302 the columns.

use super::Framework;

pub const FRAMEWORK: Framework = Framework {
    name: "admin",
    words: &[b"admin"],
    site_base: |base| base.ends_with("ModelAdmin") || base.ends_with("Inline"),
    site_methods: &["get_queryset", "get_list_display"],
};
