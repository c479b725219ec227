"""The SQLite schema of dumper as numbered migrations, applied in order by Store.migrate."""

from __future__ import annotations

# Migration 1 is the seed's schema (IF NOT EXISTS: a seed database without the migrations
# table adopts it unchanged). Never edit a released migration; append a new one.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE IF NOT EXISTS targets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            host TEXT NOT NULL,
            port INTEGER NOT NULL DEFAULT 3306,
            dbname TEXT NOT NULL,
            user TEXT NOT NULL,
            password_enc BLOB,
            comment TEXT NOT NULL DEFAULT '',
            schedule_time TEXT,
            retention_days INTEGER NOT NULL DEFAULT 0,
            auto_compress INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS backups (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            target_id INTEGER NOT NULL REFERENCES targets(id),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            size_bytes INTEGER,
            status TEXT NOT NULL,
            file_path TEXT,
            notes TEXT NOT NULL DEFAULT ''
        );
        """,
    ),
    (
        2,
        """
        ALTER TABLE backups ADD COLUMN sha256 TEXT;
        ALTER TABLE backups ADD COLUMN tables_count INTEGER;
        ALTER TABLE backups ADD COLUMN rows_count INTEGER;
        ALTER TABLE backups ADD COLUMN triggered_by TEXT NOT NULL DEFAULT 'manual';
        ALTER TABLE backups ADD COLUMN duration_seconds REAL;
        CREATE INDEX IF NOT EXISTS backups_by_target ON backups(target_id, started_at);
        CREATE INDEX IF NOT EXISTS backups_by_status ON backups(status);
        CREATE TABLE restores (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            backup_id INTEGER NOT NULL,
            target_id INTEGER NOT NULL REFERENCES targets(id),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            statements INTEGER,
            duration_seconds REAL,
            notes TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX restores_by_status ON restores(status);
        CREATE TABLE schedule_state (
            target_id INTEGER PRIMARY KEY REFERENCES targets(id),
            last_slot TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        """
        ALTER TABLE backups ADD COLUMN error_code TEXT;
        """,
    ),
    (
        4,
        """
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            scope TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            hint TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_used_at TEXT
        );
        """,
    ),
    (
        5,
        """
        ALTER TABLE targets ADD COLUMN notify INTEGER NOT NULL DEFAULT 1;
        CREATE TABLE notification_channels (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            events TEXT NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1,
            settings TEXT NOT NULL DEFAULT '{}',
            secrets_enc BLOB,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE notification_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            channel_id INTEGER,
            channel_name TEXT NOT NULL,
            target_name TEXT,
            ok INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            result TEXT NOT NULL
        );
        CREATE TABLE notify_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
    (
        6,
        """
        ALTER TABLE targets ADD COLUMN ping_url TEXT;
        """,
    ),
    (
        7,
        """
        ALTER TABLE restores ADD COLUMN dest_database TEXT;
        ALTER TABLE restores ADD COLUMN clean INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE restores ADD COLUMN selected_tables TEXT;
        ALTER TABLE restores ADD COLUMN tables INTEGER;
        ALTER TABLE restores ADD COLUMN rows INTEGER;
        """,
    ),
    (
        8,
        """
        ALTER TABLE targets ADD COLUMN keep_last INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE targets ADD COLUMN keep_daily INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE targets ADD COLUMN keep_weekly INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE targets ADD COLUMN keep_monthly INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE targets ADD COLUMN keep_yearly INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        9,
        """
        ALTER TABLE targets ADD COLUMN schedule_kind TEXT NOT NULL DEFAULT 'daily';
        ALTER TABLE targets ADD COLUMN schedule_every_hours INTEGER NOT NULL DEFAULT 6;
        ALTER TABLE targets ADD COLUMN schedule_minute INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE targets ADD COLUMN schedule_weekdays TEXT NOT NULL DEFAULT '';
        """,
    ),
    (
        10,
        """
        ALTER TABLE targets ADD COLUMN verify_after_backup INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE verifications (
            backup_id INTEGER PRIMARY KEY REFERENCES backups(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            notes TEXT NOT NULL DEFAULT '',
            scratch_db TEXT NOT NULL
        );
        """,
    ),
    (
        11,
        """
        ALTER TABLE targets ADD COLUMN tls TEXT NOT NULL DEFAULT 'preferred';
        ALTER TABLE targets ADD COLUMN tls_ca TEXT NOT NULL DEFAULT '';
        ALTER TABLE targets ADD COLUMN tls_cert TEXT NOT NULL DEFAULT '';
        ALTER TABLE targets ADD COLUMN tls_key_enc BLOB;
        """,
    ),
    (
        12,
        """
        ALTER TABLE targets ADD COLUMN strict INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE backups ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
        """,
    ),
    (
        13,
        """
        CREATE TABLE backup_files (
            backup_id INTEGER PRIMARY KEY REFERENCES backups(id) ON DELETE CASCADE,
            state TEXT NOT NULL,
            checked_at TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE file_check (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            first_seen_at TEXT NOT NULL,
            last_started_at TEXT,
            last_finished_at TEXT,
            checked INTEGER NOT NULL DEFAULT 0
        );
        """,
    ),
    (
        14,
        """
        ALTER TABLE targets ADD COLUMN encryption TEXT NOT NULL DEFAULT 'off';
        ALTER TABLE targets ADD COLUMN age_recipient TEXT NOT NULL DEFAULT '';
        ALTER TABLE targets ADD COLUMN age_passphrase_enc BLOB;
        """,
    ),
    (
        15,
        """
        ALTER TABLE targets ADD COLUMN parallel_connections INTEGER NOT NULL DEFAULT 1;
        """,
    ),
    (
        16,
        """
        ALTER TABLE targets ADD COLUMN exclude TEXT NOT NULL DEFAULT '';
        CREATE TABLE backup_databases (
            backup_id INTEGER NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            file TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            tables_count INTEGER NOT NULL,
            rows_count INTEGER NOT NULL,
            PRIMARY KEY (backup_id, position)
        );
        """,
    ),
)
