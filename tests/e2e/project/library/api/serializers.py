"""Re-exports the serializers of ``serializers_/`` with star imports, as large
projects do; ``__all__`` there says which names come through."""

from .serializers_.publishers import *
