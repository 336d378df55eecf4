//! Django's contrib models, known without reading site-packages.

use super::FieldKind::{self, *};

pub struct BuiltinModel {
    pub app_label: &'static str,
    pub name: &'static str,
    pub module: &'static str,
    pub is_abstract: bool,
    /// (name, kind, target "app.Model", null, related_name)
    pub fields: &'static [(&'static str, FieldKind, &'static str, bool, &'static str)],
}

const USER_FIELDS: &[(&str, FieldKind, &str, bool, &str)] = &[
    ("id", Plain, "", false, ""),
    ("password", Plain, "", false, ""),
    ("last_login", Plain, "", true, ""),
    ("is_superuser", Plain, "", false, ""),
    ("username", Plain, "", false, ""),
    ("first_name", Plain, "", false, ""),
    ("last_name", Plain, "", false, ""),
    ("email", Plain, "", false, ""),
    ("is_staff", Plain, "", false, ""),
    ("is_active", Plain, "", false, ""),
    ("date_joined", Plain, "", false, ""),
    ("groups", ManyToMany, "auth.Group", false, "user_set"),
    (
        "user_permissions",
        ManyToMany,
        "auth.Permission",
        false,
        "user_set",
    ),
];

const PERMISSIONS_MIXIN_FIELDS: &[(&str, FieldKind, &str, bool, &str)] = &[
    ("is_superuser", Plain, "", false, ""),
    ("groups", ManyToMany, "auth.Group", false, "user_set"),
    (
        "user_permissions",
        ManyToMany,
        "auth.Permission",
        false,
        "user_set",
    ),
];

pub const BUILTIN_MODELS: &[BuiltinModel] = &[
    BuiltinModel {
        app_label: "contenttypes",
        name: "ContentType",
        module: "django.contrib.contenttypes.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("app_label", Plain, "", false, ""),
            ("model", Plain, "", false, ""),
        ],
    },
    BuiltinModel {
        app_label: "auth",
        name: "Permission",
        module: "django.contrib.auth.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("name", Plain, "", false, ""),
            ("codename", Plain, "", false, ""),
            (
                "content_type",
                ForeignKey,
                "contenttypes.ContentType",
                false,
                "",
            ),
        ],
    },
    BuiltinModel {
        app_label: "auth",
        name: "Group",
        module: "django.contrib.auth.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("name", Plain, "", false, ""),
            ("permissions", ManyToMany, "auth.Permission", false, ""),
        ],
    },
    BuiltinModel {
        app_label: "auth",
        name: "User",
        module: "django.contrib.auth.models",
        is_abstract: false,
        fields: USER_FIELDS,
    },
    BuiltinModel {
        app_label: "auth",
        name: "AbstractUser",
        module: "django.contrib.auth.models",
        is_abstract: true,
        fields: USER_FIELDS,
    },
    BuiltinModel {
        app_label: "auth",
        name: "AbstractBaseUser",
        module: "django.contrib.auth.base_user",
        is_abstract: true,
        fields: &[
            ("password", Plain, "", false, ""),
            ("last_login", Plain, "", true, ""),
        ],
    },
    BuiltinModel {
        app_label: "auth",
        name: "PermissionsMixin",
        module: "django.contrib.auth.models",
        is_abstract: true,
        fields: PERMISSIONS_MIXIN_FIELDS,
    },
    BuiltinModel {
        app_label: "admin",
        name: "LogEntry",
        module: "django.contrib.admin.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("action_time", Plain, "", false, ""),
            ("user", ForeignKey, "AUTH_USER_MODEL", false, ""),
            (
                "content_type",
                ForeignKey,
                "contenttypes.ContentType",
                true,
                "",
            ),
            ("object_id", Plain, "", true, ""),
            ("object_repr", Plain, "", false, ""),
            ("action_flag", Plain, "", false, ""),
            ("change_message", Plain, "", false, ""),
        ],
    },
    BuiltinModel {
        app_label: "sessions",
        name: "Session",
        module: "django.contrib.sessions.models",
        is_abstract: false,
        fields: &[
            ("session_key", Plain, "", false, ""),
            ("session_data", Plain, "", false, ""),
            ("expire_date", Plain, "", false, ""),
        ],
    },
    BuiltinModel {
        app_label: "sites",
        name: "Site",
        module: "django.contrib.sites.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("domain", Plain, "", false, ""),
            ("name", Plain, "", false, ""),
        ],
    },
    BuiltinModel {
        app_label: "flatpages",
        name: "FlatPage",
        module: "django.contrib.flatpages.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("url", Plain, "", false, ""),
            ("title", Plain, "", false, ""),
            ("content", Plain, "", false, ""),
            ("sites", ManyToMany, "sites.Site", false, ""),
        ],
    },
    BuiltinModel {
        app_label: "redirects",
        name: "Redirect",
        module: "django.contrib.redirects.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("site", ForeignKey, "sites.Site", false, ""),
            ("old_path", Plain, "", false, ""),
            ("new_path", Plain, "", false, ""),
        ],
    },
    // django-taggit: `TaggableManager()` relates to `taggit.Tag` through `taggit.TaggedItem`
    // unless it names its own (`to=`, `through=`).
    BuiltinModel {
        app_label: "taggit",
        name: "Tag",
        module: "taggit.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            ("name", Plain, "", false, ""),
            ("slug", Plain, "", false, ""),
        ],
    },
    BuiltinModel {
        app_label: "taggit",
        name: "TaggedItem",
        module: "taggit.models",
        is_abstract: false,
        fields: &[
            ("id", Plain, "", false, ""),
            (
                "tag",
                ForeignKey,
                "taggit.Tag",
                false,
                "taggit_taggeditem_items",
            ),
            (
                "content_type",
                ForeignKey,
                "contenttypes.ContentType",
                false,
                "taggit_taggeditem_tagged_items",
            ),
            ("object_id", Plain, "", false, ""),
            ("content_object", GenericForeignKey, "", false, ""),
        ],
    },
];

/// Is a base class name Django's model base itself?
pub fn is_django_model_base(dotted: &str, imported_from: Option<&str>) -> bool {
    match dotted {
        "models.Model" | "django.db.models.Model" | "db.models.Model" => true,
        "Model" => imported_from.is_none_or(|m| m.starts_with("django.db")),
        _ => false,
    }
}
