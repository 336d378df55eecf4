"""An API package whose serializers module re-exports (issue 20 item 1)."""
