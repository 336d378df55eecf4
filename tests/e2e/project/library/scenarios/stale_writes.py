"""Loops that write rows a relation of theirs leads to.

A relation loaded lazily is read from the database when the loop reaches it, after
the writes of earlier iterations; loaded with ``select_related`` or
``prefetch_related`` before the loop, it is a copy taken before any of them.  The
fix would change what the loop computes, so djopt must not make it, not even with
``--unsafe-fixes``.  Found by bench/suites on wagtail 8.0.1 (Task.deactivate:
``select_related("workflow_state__current_task_state")`` gave
``WorkflowState.update`` a stale copy of the task state just cancelled)."""

from library.models import Author, Book, Category

from ._registry import scenario


@scenario(nplusone=True, fixed_by=None)
def row_saved_then_parent_read():
    # the roots come first and are saved; their children read them afterwards: lazily
    # loaded, each parent has the "!" its own iteration gave it
    out = []
    for c in Category.objects.order_by("pk"):
        c.name = c.name + "!"
        c.save(update_fields=["name"])
        out.append(c.parent.name if c.parent_id else None)
    return out


@scenario(nplusone=True, fixed_by=None)
def member_saves_row_then_reads_back():
    # the same through a model method (the wagtail case): it saves the row, then reads
    # the parent
    return [c.mark_seen() for c in Category.objects.order_by("pk")]


@scenario(nplusone=True, fixed_by=None)
def member_saves_related_row():
    # three books per author: each iteration adds a "*" to the author the previous one
    # saved; a joined copy would hold the name from before the loop
    return [b.credit_author() for b in Book.objects.order_by("pk")]


@scenario(nplusone=True, fixed_by=None)
def related_model_updated_in_loop():
    # the update of one author is seen by the next book of that author only when the
    # author is read after it
    out = []
    for b in Book.objects.order_by("pk"):
        out.append(b.author.name)
        Author.objects.filter(pk=b.author_id).update(name=b.author.name + "+")
    return out


@scenario(nplusone=True, fixed_by="safe")
def row_saved_other_model_read():
    # saving the books does not change their authors: the join stays safe (the save runs
    # on the books of more than 390 pages, none here: a save per row would grow too)
    out = []
    for b in Book.objects.order_by("pk"):
        if b.pages > 390:
            b.pages = b.pages + 1
            b.save(update_fields=["pages"])
        out.append([b.pages, b.author.name])
    return out
