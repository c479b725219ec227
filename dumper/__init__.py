"""dumper: self-hosted backup and restore for MySQL and MariaDB."""

__version__ = "0.1.0"
