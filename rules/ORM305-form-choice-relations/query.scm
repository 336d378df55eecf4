; A call: a model choice field `ModelChoiceField(queryset=...)`, `ModelMultipleChoiceField(...)`
; or a project subclass of one, when the Rust check finds one in the callee.
(call
  function: (_) @callee) @call

; `<...>.queryset = <queryset>`: the check keeps `self.fields["author"].queryset = ...` in a
; form's `__init__`.
(assignment
  left: (attribute
    attribute: (identifier) @attr)
  right: (_) @value
  (#eq? @attr "queryset")) @assign
