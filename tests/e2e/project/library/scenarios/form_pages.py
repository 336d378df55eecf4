"""ORM305: forms whose model choice fields label each option through a relation.
Each scenario renders its form with Django's own widgets and template engine and
returns the HTML; plain ``djopt fix`` must load the relation on the field's
queryset (in the form class the scenario owns)."""

from django import forms

from library.models import Author, Book, Review

from ._registry import scenario


class BookPickForm(forms.Form):
    # Book.__str__ reads the author: one query per option
    book = forms.ModelChoiceField(queryset=Book.objects.filter(published=True))


@scenario(nplusone=True, fixed_by="safe", owns=("BookPickForm",))
def choice_field_labels_read_the_author():
    return str(BookPickForm())


class BookShelfForm(forms.Form):
    books = forms.ModelMultipleChoiceField(
        queryset=Book.objects.order_by("title"),
        widget=forms.CheckboxSelectMultiple,
    )


@scenario(nplusone=True, fixed_by="safe", owns=("BookShelfForm",))
def multiple_choice_checkboxes_read_the_author():
    return str(BookShelfForm())


class AuthorPublisherField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.publisher.name}, {obj.publisher.country.name})"


class AuthorPickForm(forms.Form):
    author = AuthorPublisherField(queryset=Author.objects.order_by("name"))


@scenario(nplusone=True, fixed_by="safe", owns=("AuthorPickForm", "AuthorPublisherField"))
def label_from_instance_reads_two_relations():
    return str(AuthorPickForm())


class ReviewForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = ["book", "rating"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the ModelChoiceField the form made for the ForeignKey, narrowed here
        self.fields["book"].queryset = Book.objects.filter(pages__gte=150)


@scenario(nplusone=True, fixed_by="safe", owns=("ReviewForm",))
def model_form_relation_queryset_set_in_init():
    return str(ReviewForm())


@scenario(nplusone=False, fixed_by=None, may_change=True, owns=("ReviewForm",))
def model_form_validated_not_rendered():
    # validation runs one get() on the same queryset, joined or not
    book = Book.objects.filter(pages__gte=150).order_by("pk").first()
    form = ReviewForm(data={"book": str(book.pk), "rating": "4"})
    return [form.is_valid(), form.cleaned_data["book"].title, form.cleaned_data["book"].author.name]


class HiddenBookForm(forms.Form):
    # a hidden input renders the value, not the options
    book = forms.ModelChoiceField(queryset=Book.objects.all(), widget=forms.HiddenInput)


@scenario(nplusone=False, fixed_by=None, owns=("HiddenBookForm",))
def hidden_choice_field_renders_no_options():
    return str(HiddenBookForm())


class JoinedBookForm(forms.Form):
    # already joined
    book = forms.ModelChoiceField(queryset=Book.objects.select_related("author"))


@scenario(nplusone=False, fixed_by=None, owns=("JoinedBookForm",))
def choice_field_already_joined():
    return str(JoinedBookForm())


class ReviewBookForm(forms.ModelForm):
    # the ModelChoiceField the form makes for Review.book: Book.__str__ reads the author
    class Meta:
        model = Review
        fields = ["book", "rating"]


@scenario(nplusone=True, fixed_by="safe", owns=("ReviewBookForm",))
def model_form_relation_field_default_queryset():
    return str(ReviewBookForm())
