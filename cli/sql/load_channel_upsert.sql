-- twinline load: channel $1's offer settings ($2 '' for the default
-- timeout), written only when they changed.
INSERT INTO channel_settings (channel, offer_timeout_ms,
    auto_accept) VALUES ($1, NULLIF($2, '')::int, $3::boolean)
ON CONFLICT (channel) DO UPDATE SET
    offer_timeout_ms = EXCLUDED.offer_timeout_ms,
    auto_accept = EXCLUDED.auto_accept
WHERE (channel_settings.offer_timeout_ms,
    channel_settings.auto_accept) IS DISTINCT FROM
    (EXCLUDED.offer_timeout_ms, EXCLUDED.auto_accept)
