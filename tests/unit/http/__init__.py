"""Unit tests of dumper/http."""
