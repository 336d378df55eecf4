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

; A class with bases: the Rust check keeps a `ModelForm` whose `Meta.fields` names a relation
; (the form makes its choice field from the model field).
(class_definition
  superclasses: (argument_list)) @class
