"""rag: offline question answering over a folder of news articles, with checked citations.

Offline path: ingest -> chunk -> embed -> index (``rag.build``).
Online path: question -> retrieve -> evidence -> prompt -> generate -> cite (``rag.pipeline``).
"""

__version__ = "0.1.0"
