; A class with bases: a ModelAdmin or an inline, when the Rust check finds Django's admin
; classes among its bases (also through project classes).
(class_definition
  superclasses: (argument_list)) @class
