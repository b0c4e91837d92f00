-- Record migration $1 as applied with checksum $2, in its own transaction.
INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)
