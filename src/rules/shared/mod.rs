//! What the rules share (a rule imports this layer, never another rule): queryset edits, the
//! loop rules' finding, the framework sites' fixes, imports to add, nested prefetches, and the
//! words of messages.

pub mod edits;
pub mod framework;
pub mod imports;
pub mod loop_rule;
pub mod messages;
pub mod nested_prefetch;
