; A queryset method called as a bare statement: `qs.prefetch_related("books")`,
; `author.books.filter(active=True)`. Queryset methods return a new queryset; the result is
; thrown away.
(expression_statement
  (call
    function: (attribute
      object: (_) @name
      attribute: (identifier) @method)) @call
  (#any-of? @method
    "select_related" "prefetch_related" "filter" "exclude" "order_by" "annotate" "alias"
    "only" "defer" "distinct" "reverse" "using" "none" "all" "extra" "select_for_update"
    "values" "values_list")) @statement
