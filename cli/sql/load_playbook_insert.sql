-- twinline load: version $3 of tenant $1's playbook for case type $2.
INSERT INTO playbooks (tenant_id, case_type, version, name,
    definition) VALUES ($1, $2, $3::int, $4, $5::jsonb)
