//! Django's vocabulary: the one home of the names of queryset methods, manager calls and
//! builtins that the index, the analysis, the rules and the prefilter read. Each list says what
//! its members share; lists that look alike differ on purpose (a comment says how).

/// Queryset methods that return a queryset of the same model (a chain continues through them).
pub const CHAIN_METHODS: &[&str] = &[
    "all",
    "filter",
    "exclude",
    "order_by",
    "select_related",
    "prefetch_related",
    "distinct",
    "annotate",
    "alias",
    "only",
    "defer",
    "using",
    "reverse",
    "none",
    "extra",
    "select_for_update",
    "fetch_mode",
    "complex_filter",
    "values",
    "values_list",
    "dates",
    "datetimes",
    "union",
    "intersection",
    "difference",
];

/// After these, rows are not model instances or the queryset cannot take `select_related`.
pub const BLOCKERS: &[&str] = &[
    "values",
    "values_list",
    "dates",
    "datetimes",
    "union",
    "intersection",
    "difference",
];

/// [`BLOCKERS`] and `only()`/`defer()`: after these, rows are not whole model instances, so a
/// `prefetch_related` of a ForeignKey is not swapped for a join (ORM103).
pub const NOT_WHOLE_ROWS: &[&str] = &[
    "values",
    "values_list",
    "union",
    "intersection",
    "difference",
    "only",
    "defer",
    "dates",
    "datetimes",
];

/// What a manager's `get_queryset`, a custom queryset method or a function returning a
/// queryset may do after which lookups cannot be added safely: [`NOT_WHOLE_ROWS`] and `raw()`.
pub const NARROWING: &[&str] = &[
    "only",
    "defer",
    "values",
    "values_list",
    "union",
    "intersection",
    "difference",
    "raw",
    "dates",
    "datetimes",
];

/// Calls in a manager's `get_queryset` that leave rows out (a count through it can differ).
pub const FILTERING: &[&str] = &["filter", "exclude", "none", "complex_filter"];

/// Calls a module-level function's returned chain may make and still return a queryset of the
/// model (besides `select_related`, `prefetch_related` and [`NARROWING`]).
pub const KEEPS_ROWS: &[&str] = &[
    "all",
    "filter",
    "exclude",
    "order_by",
    "distinct",
    "annotate",
    "alias",
    "using",
    "reverse",
    "none",
    "extra",
    "complex_filter",
    "select_for_update",
];

/// [`KEEPS_ROWS`] inside a QuerySet or Manager class, where `self.get_queryset()` and
/// `self._chain()` also keep the queryset.
pub const KEEPS_ROWS_IN_CLASS: &[&str] = &[
    "get_queryset",
    "all",
    "filter",
    "exclude",
    "order_by",
    "distinct",
    "annotate",
    "alias",
    "using",
    "reverse",
    "none",
    "extra",
    "_chain",
    "complex_filter",
    "select_for_update",
];

/// Calls that end a chain with something other than a queryset (one object, a number, a write).
pub const ENDS_CHAIN: &[&str] = &[
    "first",
    "last",
    "get",
    "count",
    "exists",
    "aggregate",
    "in_bulk",
    "create",
    "update",
    "delete",
    "earliest",
    "latest",
    "iterator",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "contains",
    "explain",
];

/// Queryset methods a view's `get_queryset()` may chain on `super().get_queryset()` (or
/// `self.queryset`) and still return rows of its model.
pub const SITE_CHAIN: &[&str] = &[
    "all",
    "filter",
    "exclude",
    "order_by",
    "select_related",
    "prefetch_related",
    "distinct",
    "annotate",
    "alias",
    "only",
    "defer",
    "using",
    "reverse",
    "select_for_update",
    "complex_filter",
    "values",
    "values_list",
    "union",
];

/// Methods that return a new queryset: the ones whose result can be thrown away by mistake
/// (ORM105's query lists the same names, and a test keeps them equal).
pub const RETURNS_QUERYSET: &[&str] = &[
    "select_related",
    "prefetch_related",
    "filter",
    "exclude",
    "order_by",
    "annotate",
    "alias",
    "only",
    "defer",
    "distinct",
    "reverse",
    "using",
    "none",
    "all",
    "extra",
    "select_for_update",
    "values",
    "values_list",
];

/// Calls that conflict with lookups added elsewhere (`only()` with a new `select_related`…).
pub const CONFLICTS: &[&str] = &["only", "defer", "union", "intersection", "difference"];

/// Methods that give one object of a queryset.
pub const ONE_OBJECT: &[&str] = &["get", "first", "last", "earliest", "latest"];

/// Calls that write to the database (or change what a relation holds).
pub const WRITE_METHODS: &[&str] = &[
    "save",
    "delete",
    "update",
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "add",
    "remove",
    "set",
    "clear",
    "refresh_from_db",
    "execute",
];

/// Builtins that evaluate a queryset into a container of the same objects.
pub const EVALUATORS: &[&str] = &["list", "tuple", "sorted", "reversed", "set"];

/// Builtins that consume a queryset locally.
pub const LOCAL_CONSUMERS: &[&str] = &[
    "len",
    "list",
    "bool",
    "enumerate",
    "iter",
    "sorted",
    "tuple",
    "set",
    "print",
    "str",
    "repr",
    "reversed",
    "any",
    "all",
    "sum",
    "max",
    "min",
    "frozenset",
    "dict",
];
