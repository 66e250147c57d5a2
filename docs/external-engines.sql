-- The executions and steps as flowlogs shows them, for an engine that reads the Delta tables
-- directly (Spark, Trino, Databricks, DataFusion, Daft). Standard SQL; register the tables
-- `executions` and `steps` first (each is a Delta table under the data location).
--
-- An execution is stored as rows merged on read: a started row (flow, trigger, start) and one or
-- more final rows (status, end, counts). Its start comes from its earliest started row, its final
-- state from its final row with the earliest finished_at (ties: the smaller status); no final row
-- means it is still running. A step is keyed by (execution_id, step_index): the latest recorded wins.

CREATE VIEW flowlogs_executions AS
SELECT s.execution_id, s.day, s.flow_id, s.flow_name, s.trigger_type, s.trigger_phone, s.started_at,
       coalesce(f.status, 'running') AS status, f.finished_at, f.messages_sent, f.messages_failed, f.error
FROM (SELECT *, row_number() OVER (PARTITION BY execution_id, day ORDER BY started_at) AS n
      FROM executions WHERE started_at IS NOT NULL) s
LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY execution_id, day ORDER BY finished_at, status) AS n
           FROM executions WHERE status IS NOT NULL) f
  ON f.execution_id = s.execution_id AND f.day = s.day AND f.n = 1
WHERE s.n = 1;

CREATE VIEW flowlogs_steps AS
SELECT execution_id, day, step_index, node_id, node_name, node_type, status, started_at, finished_at, model,
       prompt_tokens, completion_tokens, system_prompt, user_prompt, ai_reply, warnings, error, input, output
FROM (SELECT *, row_number() OVER (PARTITION BY execution_id, step_index ORDER BY recorded_at DESC) AS n
      FROM steps)
WHERE n = 1;
