"""Unit tests of dumper/notify."""
