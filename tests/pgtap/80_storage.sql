-- How the engine's tables are stored and maintained: per-table autovacuum settings, no planner
-- statistics on payload columns, and small samples for the rest. They decide what a busy queue
-- costs beside its own work (docs/operations.md, docs/performance.md).
BEGIN;
\ir helpers.psql
SELECT plan(13);

CREATE FUNCTION pg_temp.reloptions(rel regclass) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(o ORDER BY o), '{}') FROM pg_class c, unnest(c.reloptions) o WHERE c.oid = rel $$;

-- nodes churns between partial indexes: it keeps the server's vacuum cadence, only analyzes less.
SELECT is(pg_temp.reloptions('adagio.nodes'), '{autovacuum_analyze_scale_factor=0.2}',
  'nodes: vacuumed at the server''s cadence, analyzed at a fifth of its size changed');
SELECT is(pg_temp.reloptions('adagio.runs'),
  '{autovacuum_analyze_scale_factor=0.2,autovacuum_vacuum_insert_scale_factor=0.2,autovacuum_vacuum_scale_factor=0.2,fillfactor=80}',
  'runs: room for HOT updates, vacuumed and analyzed at a fifth of its size changed');
SELECT is(pg_temp.reloptions('adagio.failed_attempts'),
  '{autovacuum_analyze_scale_factor=0.2,autovacuum_vacuum_insert_scale_factor=0.2,autovacuum_vacuum_scale_factor=0.2}',
  'failed_attempts: vacuumed and analyzed at a fifth of its size changed');
SELECT is(pg_temp.reloptions('adagio.events'),
  '{autovacuum_analyze_scale_factor=0.2,autovacuum_vacuum_insert_scale_factor=0.2,autovacuum_vacuum_scale_factor=0.2}',
  'events: vacuumed and analyzed at a fifth of its size changed');
SELECT is(pg_temp.reloptions('adagio.node_logs'),
  '{autovacuum_analyze_scale_factor=0.2,autovacuum_vacuum_insert_scale_factor=0.2,autovacuum_vacuum_scale_factor=0.2}',
  'node_logs: vacuumed and analyzed at a fifth of its size changed');

-- Payload columns (JSON documents, outputs, reasons) carry no statistics: nothing filters on them.
SELECT is((SELECT array_agg(format('%s.%s', c.relname, a.attname) ORDER BY c.relname, a.attname)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'adagio'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
             AND a.attstattarget = 0),
  '{events.detail,failed_attempts.output,failed_attempts.reason,graphs.graph,graphs.shape,node_logs.text,nodes.inputs,nodes.output,nodes.spec,runs.inputs}'::text[],
  'no statistics on payload columns');
-- The rest of the per-run tables' columns: a small statistics target, so ANALYZE samples 3,000 rows.
SELECT is((SELECT array_agg(DISTINCT a.attstattarget::int) FROM pg_attribute a
           WHERE a.attrelid IN ('adagio.runs'::regclass, 'adagio.nodes'::regclass, 'adagio.failed_attempts'::regclass,
                                'adagio.events'::regclass)
             AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget IS DISTINCT FROM 0),
  '{10}'::int[], 'every other column of runs, nodes, failed_attempts and events has statistics target 10');
SELECT is((SELECT a.attstattarget::int FROM pg_attribute a WHERE a.attrelid = 'adagio.nodes'::regclass AND a.attname = 'state'),
  10, 'including the columns queries filter on, such as nodes.state');
-- Other tables are small and rarely change: they keep the server's default.
SELECT is((SELECT coalesce(a.attstattarget::int, -1) FROM pg_attribute a WHERE a.attrelid = 'adagio.agents'::regclass AND a.attname = 'status'),
  -1, 'agents keep the default statistics target');

-- Claim tokens name their node: nothing indexes them (a random uuid's index is written at a random page).
SELECT is((SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'adagio' AND indexdef LIKE '%claim_token%'), 0,
  'no index on claim tokens');

-- States, conclusions and event kinds are enums: a CHECK listing the allowed values would be read
-- and planned again by every statement that writes the table (docs/performance.md).
SELECT is((SELECT array_agg(format('%s.%s %s', c.relname, a.attname, format_type(a.atttypid, NULL))
                            ORDER BY c.relname, a.attname)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
           WHERE c.relnamespace = 'adagio'::regnamespace AND c.relkind = 'r' AND t.typtype = 'e'),
  ARRAY['agents.status adagio.agent_status', 'events.kind adagio.event_kind',
        'failed_attempts.conclusion adagio.attempt_conclusion', 'nodes.conclusion adagio.node_conclusion', 'nodes.state adagio.node_state',
        'runs.conclusion adagio.run_conclusion', 'runs.status adagio.run_status'],
  'states, conclusions and event kinds are enums');
SELECT is((SELECT count(*)::int FROM pg_constraint
           WHERE connamespace = 'adagio'::regnamespace AND contype = 'c'
             AND conrelid IN ('adagio.runs'::regclass, 'adagio.nodes'::regclass, 'adagio.failed_attempts'::regclass,
                              'adagio.events'::regclass, 'adagio.agents'::regclass)
             AND pg_get_constraintdef(oid) LIKE '%ANY (ARRAY[%'), 0,
  'no CHECK on the engine''s hot tables lists values');
SELECT throws_ok($$INSERT INTO adagio.events (run_id, kind) VALUES (1, 'node_exploded')$$, '22P02',
  'invalid input value for enum adagio.event_kind: "node_exploded"', 'an unknown event kind is refused');

SELECT * FROM finish();
ROLLBACK;
