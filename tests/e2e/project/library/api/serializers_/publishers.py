from rest_framework import serializers

from library.models import Author

__all__ = ("AuthorPublisherSerializer",)


class AuthorPublisherSerializer(serializers.ModelSerializer):
    publisher_name = serializers.CharField(source="publisher.name")
    country = serializers.CharField(source="publisher.country.name")

    class Meta:
        model = Author
        fields = ["name", "publisher_name", "country"]
