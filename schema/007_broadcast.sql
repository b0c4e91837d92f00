-- Broadcast offers and wrap-up (issue 3, routing item 6).
-- Forward-only: never edit this file once merged; add 008_... instead.
-- The defaults keep the earlier behaviour: one offer at a time, and no
-- wrap-up unless pool_routing.wrapup_seconds says so.

-- Per step: to how many eligible workers a ready task is offered at once
-- (the best by ranking). The first to accept takes the task; the other
-- offers become 'rescinded'. 1: one offer at a time.
ALTER TABLE playbook_steps
    ADD COLUMN broadcast int NOT NULL DEFAULT 1
               CHECK (broadcast BETWEEN 1 AND 5);

-- A broadcast is one reservation per worker, all carrying the task's
-- epoch: unique per (task, epoch, worker) rather than per (task, epoch).
ALTER TABLE reservations DROP CONSTRAINT reservations_task_id_epoch_key;
ALTER TABLE reservations
    ADD CONSTRAINT reservations_task_epoch_worker_key
    UNIQUE (task_id, epoch, worker_id);

-- Whatever the dispatcher does (or a crash in the middle of it), at most
-- one worker holds a task: one accepted or wrapping reservation per task.
CREATE UNIQUE INDEX reservations_one_holder ON reservations (task_id)
    WHERE state IN ('accepted', 'wrapping');

-- A completed task whose worker's pool has a wrap-up is 'wrapping' (task
-- and reservation) until wrap_until (database time), then 'completed'. The
-- worker's slot stays taken meanwhile.
ALTER TABLE reservations ADD COLUMN wrap_until timestamptz;
CREATE INDEX reservations_wrapping ON reservations (wrap_until)
    WHERE state = 'wrapping';
