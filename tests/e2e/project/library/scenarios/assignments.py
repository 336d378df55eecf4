"""Writes are not reads (issue 20 item 5).

``row.editor = author`` stores a relation: Django runs no query for it, so a loop
that only assigns relations and saves has nothing for ``select_related`` to load.
A ``save()`` that reads a relation only when the row is new (``if self.pk is
None:``, ``if self._state.adding:``) reads nothing for the rows a queryset
loads.  djopt must leave these loops alone, even with ``--unsafe-fixes`` (the
previous binary joined the relations: a fix for a query that never runs)."""

from library.models import Author, Book

from ._registry import scenario


class CreationLabelledBook(Book):
    """A proxy whose ``save()`` reads the author only for a book not saved yet."""

    class Meta:
        proxy = True
        app_label = "library"

    def save(self, *args, **kwargs):
        if self._state.adding and not self.title:
            self.title = self.author.name
        if self.pk is None:
            self.pages = self.pages or len(self.author.name)
        super().save(*args, **kwargs)


@scenario(nplusone=True, fixed_by=None)
def relation_assigned_then_saved():
    # one UPDATE per book, and no read of `editor`: nothing to load
    author = Author.objects.order_by("pk").first()
    for b in Book.objects.order_by("pk"):
        b.editor = author
        b.save(update_fields=["editor"])
    return list(Book.objects.order_by("pk").values_list("editor_id", flat=True))


@scenario(nplusone=True, fixed_by=None, owns=("CreationLabelledBook",))
def save_reads_relation_only_when_new():
    # existing rows skip the creation-only branches of save()
    for b in CreationLabelledBook.objects.order_by("pk"):
        b.pages = b.pages + 1
        b.save(update_fields=["pages"])
    return list(Book.objects.order_by("pk").values_list("title", "pages"))


@scenario(nplusone=False, fixed_by=None)
def relation_read_after_the_loop_sets_it():
    # `b.editor` is the author just assigned: no query to read it, nothing to join
    author = Author.objects.order_by("pk").first()
    out = []
    for b in Book.objects.order_by("pk"):
        b.editor = author
        out.append([b.title, b.editor.name])
    return out


class NewFlagBook(Book):
    """`is_new = not bool(self.pk)` then `if is_new:` (netbox's Device.save)."""

    class Meta:
        proxy = True
        app_label = "library"

    def save(self, *args, **kwargs):
        is_new = not bool(self.pk)
        if is_new and not self.title:
            self.title = self.author.name
        super().save(*args, **kwargs)
        if is_new:
            self.pages = len([t.name for t in self.tags.all()])


@scenario(nplusone=True, fixed_by=None, owns=("NewFlagBook",))
def save_reads_relations_behind_a_new_flag():
    for b in NewFlagBook.objects.order_by("pk"):
        b.pages = b.pages + 2
        b.save(update_fields=["pages"])
    return list(Book.objects.order_by("pk").values_list("pages", flat=True))
