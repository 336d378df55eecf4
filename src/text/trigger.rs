//! What a rule needs in a part of a file before it can find anything there, as the rule
//! declares it (`TRIGGERS` in each rule file). Phase 2's prefilter evaluates the declarations
//! the driver hands it; it restates no rule.

/// One condition under which a rule may find something in a scope (a function, a method, the
/// module-level statements read together).
#[derive(Clone, Copy, Debug)]
pub enum Trigger {
    /// A loop (statement or comprehension) over a queryset source or a name bound to one.
    LoopOverQueryset,
    /// A fetch of one row by id (`Model.objects.get(pk=…)`, `get_object_or_404`) in a loop.
    FetchInLoop,
    /// A byte test of the rule's own, in a scope that also holds a queryset source (a
    /// `prefetch_related`, a thrown-away queryset method, a serializer over rows).
    WithQuerysetSource(fn(&[u8]) -> bool),
    /// A call that renders one of the project's templates by name.
    RendersTemplate,
    /// A site class of a framework (a view, an admin), as the frameworks registry declares them.
    SiteClass,
}
