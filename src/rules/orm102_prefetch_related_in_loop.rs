//! ORM102: a loop iterates a multi-valued relation of each row.

use super::shared::loop_rule::prefetch_in_loop;
use super::{Captures, Checker};
use crate::text::trigger::Trigger;

/// What the prefilter must see before this rule can find anything: a loop over a queryset.
pub const TRIGGERS: &[Trigger] = &[Trigger::LoopOverQueryset];

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    prefetch_in_loop(checker, captures, false);
}
