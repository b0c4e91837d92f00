-- twinline playbook list: the latest version of every tenant's playbook
-- per case type, with its number of steps.
-- columns: tenant_id, case_type, version, name, steps, loaded_at
SELECT p.tenant_id, p.case_type, p.version, p.name,
       (SELECT count(*) FROM playbook_steps s
         WHERE s.tenant_id = p.tenant_id AND s.case_type = p.case_type
           AND s.version = p.version) AS steps,
       to_char(p.created_at, 'YYYY-MM-DD HH24:MI') AS loaded_at
  FROM playbooks p
 WHERE p.version = (SELECT max(version) FROM playbooks q
                     WHERE q.tenant_id = p.tenant_id
                       AND q.case_type = p.case_type)
 ORDER BY p.tenant_id, p.case_type
