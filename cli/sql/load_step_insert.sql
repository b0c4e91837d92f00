-- twinline load: one step of a playbook version ($10, $11 JSON arrays).
INSERT INTO playbook_steps (tenant_id, case_type, version, step,
    ordinal, channel, sla_seconds, ai_mode, skills, after_steps,
    when_outcomes, outcomes, broadcast) VALUES ($1, $2, $3::int, $4,
    $5::int, $6, $7::int, $8, $9::jsonb,
    ARRAY(SELECT jsonb_array_elements_text($10::jsonb)),
    ARRAY(SELECT jsonb_array_elements_text($11::jsonb)), $12::jsonb,
    $13::int)
