; A class with bases: a DRF generic view or viewset, when the Rust check finds DRF among its
; bases (also through project classes) and a `serializer_class` of the project.
(class_definition
  superclasses: (argument_list)) @class

; A call that may build a serializer over rows: `BookSerializer(qs, many=True)`.
(call
  function: [(identifier) (attribute)]
  arguments: (argument_list
    (keyword_argument
      name: (identifier) @many_kw
      value: (true))
    (#eq? @many_kw "many"))) @call
