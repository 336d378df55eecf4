"""The scenario registry.

Every scenario is a function taking no arguments (or only defaulted ones)
that returns a JSON-serializable value.  The decorator records what the
scenario claims:

nplusone   its query count grows with the amount of data (the runner measures
           this and fails when the claim is wrong)
fixed_by   "safe"   -> plain ``djopt fix`` must make the count constant
           "unsafe" -> ``djopt fix --unsafe-fixes`` must; plain ``fix`` must
                       leave the function's source alone
           None     -> djopt must leave the function's source alone
may_change the source may change (e.g. prefetch_related -> select_related on a
           single-valued relation) but there is no N+1 to fix: only the
           result and a non-increasing query count are checked
owns       names of top-level classes and functions of the same module that
           belong to the scenario (the view, admin or helper it drives): their
           source is held to the same rule as the scenario function's
"""

SCENARIOS = []

_FIXED_BY = ("safe", "unsafe", None)


class Scenario:
    __slots__ = ("func", "name", "module", "nplusone", "fixed_by", "may_change", "owns")

    def __init__(self, func, nplusone, fixed_by, may_change, owns):
        self.func = func
        self.name = func.__name__
        self.module = func.__module__
        self.nplusone = nplusone
        self.fixed_by = fixed_by
        self.may_change = may_change
        self.owns = tuple(owns)


def scenario(*, nplusone, fixed_by, may_change=False, owns=()):
    if not isinstance(nplusone, bool):
        raise TypeError("nplusone must be True or False")
    if fixed_by not in _FIXED_BY:
        raise ValueError(f"fixed_by must be one of {_FIXED_BY!r}, not {fixed_by!r}")
    if fixed_by is not None and not nplusone:
        raise ValueError("fixed_by needs nplusone=True: there is nothing to fix otherwise")
    if may_change and (nplusone or fixed_by is not None):
        raise ValueError("may_change is only for nplusone=False, fixed_by=None scenarios")
    if isinstance(owns, str) or not all(isinstance(o, str) for o in owns):
        raise TypeError("owns must be a tuple of names")

    def register(func):
        if any(s.name == func.__name__ for s in SCENARIOS):
            raise ValueError(f"duplicate scenario name {func.__name__!r}")
        SCENARIOS.append(Scenario(func, nplusone, fixed_by, may_change, owns))
        return func

    return register
