"""The engine: streaming dump, validated restore, SQL splitting. Knows nothing of HTTP or sqlite."""
