"""The HTTP service end to end against a real server."""
