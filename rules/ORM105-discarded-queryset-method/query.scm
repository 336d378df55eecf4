; A queryset method called as a bare statement: `qs.prefetch_related("books")`.
; Queryset methods return a new queryset; the result is thrown away.
(expression_statement
  (call
    function: (attribute
      object: (identifier) @name
      attribute: (identifier) @method)) @call) @statement
