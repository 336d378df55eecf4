; A model choice field: `ModelChoiceField(queryset=...)`, `ModelMultipleChoiceField(...)`, or a
; project subclass of one (the Rust check follows the callee's bases).
(call
  function: [(identifier) (attribute)] @callee
  arguments: (argument_list)) @call

; `self.fields["author"].queryset = <queryset>` in a form's `__init__`.
(assignment
  left: (attribute
    object: (subscript
      value: (attribute
        object: (identifier) @self
        attribute: (identifier) @fields))
    attribute: (identifier) @attr)
  right: (_) @value
  (#eq? @fields "fields")
  (#eq? @attr "queryset")) @assign
