-- Forget worker $1's skills (ops_skills_set.sql writes the new set).
DELETE FROM worker_skills WHERE worker_id = $1
