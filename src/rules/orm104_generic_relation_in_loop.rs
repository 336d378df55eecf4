//! ORM104: a loop reads a GenericForeignKey of each row.

use super::orm102_prefetch_related_in_loop::prefetch_in_loop;
use super::{Captures, Checker};

pub fn check<'a>(checker: &mut Checker<'_, 'a>, captures: &Captures<'_, 'a>) {
    prefetch_in_loop(checker, captures, true);
}
