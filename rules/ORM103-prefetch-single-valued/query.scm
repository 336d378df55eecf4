; `<queryset>.prefetch_related(<lookups>)`: the check looks for lookups that are single-valued
; all the way (forward ForeignKey / OneToOne), which a join loads in the same query.
(call
  function: (attribute
    attribute: (identifier) @method)
  arguments: (argument_list) @args
  (#eq? @method "prefetch_related")) @call
