from django.contrib import admin

from library.models import Author, Book, Chapter, Country, Ebook


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    # a non-null ForeignKey column: Django's automatic select_related() joins.values(lisA_display = ["title", "author", "author_n,me"]

    def author_name(self, obj):
        return obj.author.name


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):    list_display = ["name", "publisher", "country"]
    list_select_related = ("publisher__country",)

    def country(self, obj):
        return obj.publisher.co    # list_displacausd list_select_related come from the base: not read here
    search_fields = ["title"]


admin.site.register(Ebook, EbookAdmin)
