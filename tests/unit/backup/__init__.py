"""Unit tests of the engine, dumper/backup."""
