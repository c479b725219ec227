"""The Docker image: Dockerfile, build, runtime, workflow (skip without Docker)."""
