; A loop over rows: `for row in <iterable>: <body>` and comprehensions.
; The Rust check resolves the iterable to a queryset and reads the relation paths the body
; follows from the row.
(for_statement
  left: (_) @row
  right: (_) @iterable
  body: (block) @body) @loop

[
  (list_comprehension (for_in_clause left: (_) @row right: (_) @iterable))
  (set_comprehension (for_in_clause left: (_) @row right: (_) @iterable))
  (dictionary_comprehension (for_in_clause left: (_) @row right: (_) @iterable))
  (generator_expression (for_in_clause left: (_) @row right: (_) @iterable))
] @loop
