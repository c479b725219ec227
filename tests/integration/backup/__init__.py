"""The engine against a real server: dumps, restores, round trips."""
