; A class with bases: a ListView or DetailView, when the Rust check finds them among its bases
; (also through project classes).
(class_definition
  superclasses: (argument_list)) @class

; A call that renders a template with a context: render(), TemplateResponse(),
; render_to_string(), plain or as an attribute (`shortcuts.render`, `loader.render_to_string`).
(call
  function: [
    (identifier) @render_fn
    (attribute attribute: (identifier) @render_fn)
  ]
  (#match? @render_fn "^(render|render_to_string|TemplateResponse)$")) @call
