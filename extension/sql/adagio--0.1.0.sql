-- adagio 0.1.0: a workflow engine inside PostgreSQL.
-- The schema is fixed (relocatable = false) so every function can name its tables fully.

\echo Use "CREATE EXTENSION adagio" to load this file. \quit

-- Roles -----------------------------------------------------------------------------------------
-- Three capabilities, granted to login roles by the DBA:
--   adagio_reader:   look at runs, nodes, attempts, agents
--   adagio_worker:   register, claim, heartbeat and report (what a worker process needs)
--   adagio_operator: define workflows and start runs (and read)
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'adagio_reader') THEN
    CREATE ROLE adagio_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'adagio_worker') THEN
    CREATE ROLE adagio_worker NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'adagio_operator') THEN
    CREATE ROLE adagio_operator NOLOGIN;
  END IF;
END
$roles$;

-- Types ------------------------------------------------------------------------------------------
-- The states and conclusions are enums, not text with a CHECK: Postgres reads and plans a table's
-- CHECK constraints again for every statement that writes it, and the lists of allowed values were
-- the costly part of that: about a tenth of a chain hop's server time (docs/performance.md). An enum is
-- checked once, when a value is read in, and takes 4 bytes in the row. Compare with literals as with text
-- (state = 'ready'); a value held in a text variable needs a cast (status::text = $1).
-- A run is running from the moment it starts, as in the original Adagio (its roots start ready):
-- no first claim has to update the run row, which cost a tenth of a flat drain's server time.
CREATE TYPE adagio.run_status AS ENUM ('running', 'completed', 'cancelled');
CREATE TYPE adagio.run_conclusion AS ENUM ('success', 'failed');
CREATE TYPE adagio.node_state AS ENUM ('waiting', 'ready', 'scheduled', 'running', 'completed', 'cancelled');
-- never_reached: an upstream node failed, so the node never ran.
CREATE TYPE adagio.node_conclusion AS ENUM ('success', 'fail', 'error', 'never_reached');
CREATE TYPE adagio.attempt_conclusion AS ENUM ('success', 'fail', 'error');
CREATE TYPE adagio.agent_status AS ENUM ('active', 'stopped', 'gone');
CREATE TYPE adagio.event_kind AS ENUM (
  'run_started', 'node_ready', 'node_claimed', 'attempt_finished', 'node_retried',
  'node_orphaned', 'node_never_reached', 'run_completed', 'run_cancelled', 'run_retried', 'node_decided',
  'run_patched', 'node_concluded');

-- Tables ----------------------------------------------------------------------------------------

-- Named, versioned graphs; a run may start from one.
CREATE TABLE adagio.workflows (
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.:/-]{1,128}$'),
  version     int NOT NULL CHECK (version > 0),
  graph       jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  name NOT NULL DEFAULT session_user,
  PRIMARY KEY (name, version)
);

-- Each distinct graph once, by the digest of its canonical form: the runs of a workflow (or of the
-- same ad-hoc graph) share one row, so a run costs no copy of its graph and no edge rows, and the
-- engine keeps the parsed graph in memory by id (rows are never changed, so the cache cannot go
-- stale). Kept when runs are purged: a graph is small and new runs of it are likely.
CREATE TABLE adagio.graphs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  digest      bytea NOT NULL UNIQUE,         -- sha256(convert_to(graph::text, 'UTF8'))
  graph       jsonb NOT NULL,                -- canonical GraphSpec, as validated
  -- Node names and edges alone, as the engine loads them into each backend (the JSON of a large
  -- graph is slow to read back): core/include/adagio/graph_shape.hpp.
  shape       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE adagio.runs (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workflow_name    text,
  workflow_version int,
  graph_id         bigint NOT NULL,           -- graphs.id (graphs are never deleted: no check needed)
  inputs           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(inputs) = 'object'),
  status           adagio.run_status NOT NULL DEFAULT 'running',
  conclusion       adagio.run_conclusion,
  node_count       int NOT NULL,
  -- Counters kept under the run's row lock, so concurrent completions agree on the last one.
  nodes_remaining  int NOT NULL CHECK (nodes_remaining >= 0),
  nodes_failed     int NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz NOT NULL DEFAULT now(),  -- created, or started over by retry_run()
  finished_at      timestamptz,
  created_by       name NOT NULL DEFAULT session_user,
  -- Set by a caller of start_run()/start_workflow() that may call again for the same run (a
  -- client retrying after a timeout): the later calls return this run instead of starting one.
  idempotency_key  text CHECK (octet_length(idempotency_key) BETWEEN 1 AND 255),
  -- Set by a start with a start_at later than the start itself: its first nodes wait in
  -- "scheduled" until then (the sweeper makes them ready).
  start_at         timestamptz,
  -- Its nodes' place in the queue: higher first (its nodes carry a copy, for nodes_ready).
  priority         smallint NOT NULL DEFAULT 0,
  -- Runs that share a concurrency key run at most concurrency_limit at a time (1 unless given),
  -- in the order they were started (adagio.concurrency_queue holds the order).
  concurrency_key  text CHECK (octet_length(concurrency_key) BETWEEN 1 AND 255),
  concurrency_limit int CHECK (concurrency_limit BETWEEN 1 AND 1000),
  -- workflow_name/version name the workflow a run was started from, without a foreign key:
  -- workflows are never deleted, a run needs only its graph, and the check would take a share
  -- lock on the workflow's row for every run started (a MultiXact once starters overlap).
  CHECK ((status = 'completed') = (conclusion IS NOT NULL))
) WITH (fillfactor = 80);
-- Like the idempotency key's below, on columns that never change: a run's row is updated at each
-- completion of one of its nodes, and those updates stay HOT (no index entries) only while
-- no index covers status or the counters. Room left in each page (fillfactor) keeps them on-page.
CREATE INDEX runs_created_at ON adagio.runs (created_at DESC, id DESC);
-- Only runs started with a key have an entry; the key never changes, so updates stay HOT.
CREATE UNIQUE INDEX runs_idempotency_key ON adagio.runs (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The unfinished runs of each concurrency key, in the order they were started: a run goes ahead
-- while fewer than its limit are before it; the others wait (their first nodes "scheduled"
-- without a time) until enough of the ones before them finish. A run's row goes when it finishes
-- or is cancelled; a retry queues it again, at the end. A small table of its own, so that runs
-- need no index on their status (their updates stay HOT).
CREATE TABLE adagio.concurrency_queue (
  concurrency_key  text NOT NULL,
  place            bigint GENERATED ALWAYS AS IDENTITY,
  run_id           bigint NOT NULL UNIQUE,    -- runs.id
  max_running      int NOT NULL,              -- the run's concurrency_limit
  PRIMARY KEY (concurrency_key, place)
);

CREATE TABLE adagio.agents (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name           text NOT NULL,
  runtimes       text[] NOT NULL,
  info           jsonb NOT NULL DEFAULT '{}',
  status         adagio.agent_status NOT NULL DEFAULT 'active',
  registered_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  db_user        name NOT NULL DEFAULT session_user
);

CREATE TABLE adagio.nodes (
  -- Claim tokens name their node in 60 bits (claim_token_node()): the sequence stops there, so
  -- a start_run() that would pass it fails, not a claim of the node.
  id                bigint GENERATED ALWAYS AS IDENTITY (MAXVALUE 1152921504606846975) PRIMARY KEY,
  -- No foreign keys from the per-run tables (nodes, attempts, events) to their parents: only the
  -- engine's functions write them, purge_runs() deletes a run with all its rows, and a check per
  -- inserted row (ten nodes per run started, an attempt per report) would cost a lookup and a
  -- row lock on the parent each time.
  run_id            bigint NOT NULL,          -- runs.id
  graph_id          bigint NOT NULL,          -- the run's graph: completions find the nodes
                                              -- downstream without reading the run row
  name              text NOT NULL,
  position          int NOT NULL,             -- place in the run's topological order
  runtime           text NOT NULL,
  spec              jsonb NOT NULL,           -- the node as given: name, runtime, metadata, retry
  state             adagio.node_state NOT NULL,
  -- Set once completed: the last attempt's conclusion, or never_reached when an upstream failed.
  conclusion        adagio.node_conclusion,
  upstream_pending  int NOT NULL CHECK (upstream_pending >= 0),  -- upstream nodes yet to succeed
  inputs            jsonb NOT NULL DEFAULT '{}',                 -- upstream outputs by upstream name
  output            text,
  attempt_count     int NOT NULL DEFAULT 0,                      -- claims handed out
  -- Attempts up to this number belong to an earlier try of the run (before retry_run); the retry
  -- policy counts only the attempts after it.
  retry_base        int NOT NULL DEFAULT 0,
  -- Set only while running. A token names its node (adagio.claim_token_node(), by layout), so a
  -- report finds the node by primary key and the token needs no index: a random uuid's would
  -- take an insertion at a random page for every claim.
  claim_token       uuid,
  -- A node that succeeded keeps its successful attempt in its own row (adagio.attempts shows it):
  -- this is that attempt's token; claimed_by, claimed_at, ready_at, output and finished_at are
  -- the rest of it.
  success_token     uuid,
  claimed_by        bigint,                  -- agents.id (agents are never deleted; no foreign key
                                             -- check, which would lock the agent row on each claim)
  claimed_at        timestamptz,
  lease_expires_at  timestamptz,
  ready_at          timestamptz,             -- when it became (or, if scheduled, becomes) ready
  priority          smallint NOT NULL DEFAULT 0,  -- the run's: claims take higher first
  finished_at       timestamptz,
  UNIQUE (run_id, name),
  CHECK ((state = 'running') = (claim_token IS NOT NULL)),
  CHECK ((state = 'completed') = (conclusion IS NOT NULL)),
  CHECK ((conclusion = 'success') = (success_token IS NOT NULL))
);
-- Shaped to the claim query: only ready rows, highest priority first, then oldest first. Ready
-- nodes of the engine's own runtimes (open approval gates, running timers) are left out: no
-- worker claims them, and every claim would walk past gates that wait for days (the claim
-- statements repeat the condition: extension/src/engine_runtimes.hpp).
CREATE INDEX nodes_ready ON adagio.nodes (priority DESC, ready_at, id)
  WHERE state = 'ready' AND runtime NOT IN ('approval', 'timer');
-- When a ready node of the engine's own runtimes is due: a timer at the end of its "seconds", an
-- approval gate at its deadline (timeout_seconds; NULL without one). Immutable, as an index key
-- must be: an interval of seconds alone (no days or months) adds the same way in every time zone.
CREATE FUNCTION adagio.engine_due_at(runtime text, ready_at timestamptz, spec jsonb) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
  SELECT ready_at + make_interval(secs => CASE runtime
    WHEN 'timer' THEN (spec -> 'metadata' -> 'seconds' -> 'values' ->> 0)::float8
    WHEN 'approval' THEN (spec ->> 'timeout_seconds')::float8 END)
$$;
-- The engine's own ready nodes (open approval gates, running timers) by when they are due: each
-- sweep reads only the due ones (a timer of a day is not read every second until then), and
-- adagio.open_gates finds the open gates here.
CREATE INDEX nodes_engine_due ON adagio.nodes (adagio.engine_due_at(runtime, ready_at, spec))
  WHERE state = 'ready' AND runtime IN ('approval', 'timer');
-- Shaped to the sweeper: running claims by lease expiry.
CREATE INDEX nodes_running_lease ON adagio.nodes (lease_expires_at) WHERE state = 'running';
-- Shaped to the sweeper: retries waiting for their backoff, by due time.
CREATE INDEX nodes_scheduled ON adagio.nodes (ready_at) WHERE state = 'scheduled';

-- A run's edges are its graph's: a view, for SQL users and the SQL functions; the engine itself
-- reads the graph once per session and follows edges in memory.
CREATE VIEW adagio.edges AS
  SELECT r.id AS run_id, e.source, e.destination
  FROM adagio.runs r
  JOIN adagio.graphs g ON g.id = r.graph_id
  CROSS JOIN LATERAL jsonb_to_recordset(coalesce(g.graph -> 'edges', '[]')) AS e(source text, destination text);

-- Every patch applied to a run, in order (adagio.patch_run(), patch_run_from_node()): what it
-- added, the graph the run had after it, and who sent it. The run's graph is its first graph plus
-- these. A patch from a node's claim names the node: the same patch from the same node again (its
-- attempt run once more after its worker died) is that patch, not a new one.
CREATE TABLE adagio.run_patches (
  run_id      bigint NOT NULL,              -- runs.id (see nodes.run_id)
  number      int NOT NULL,                 -- 1 for a run's first patch
  patch       jsonb NOT NULL,               -- canonical GraphPatch, as applied
  nodes       jsonb NOT NULL,               -- the names it added, in the order they were placed
  graph_id    bigint NOT NULL,              -- the run's graph after it
  node        text,                         -- the patching node, for a patch from a claim
  agent_id    bigint,                       -- that claim's agent
  patched_by  name NOT NULL DEFAULT session_user,
  at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (run_id, number)
);

-- What a node's function printed while it ran (an exec program's stdout and stderr, an in-process
-- function's Task::log()), as the worker streams it, about once a second, through append_logs():
-- a person follows a long node before it ends (adagio logs, the dashboard). Per attempt, in order;
-- only the holder of the claim appends, so a stale worker's lines never mix in.
CREATE TABLE adagio.node_logs (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id   bigint NOT NULL,                 -- runs.id (see nodes.run_id)
  node_id  bigint NOT NULL,                 -- nodes.id
  attempt  int NOT NULL,
  at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  text     text NOT NULL                    -- a chunk as written: lines, or the part of one written so far
);
CREATE INDEX node_logs_run ON adagio.node_logs (run_id, id);

-- The deadlines of runs whose graph has a timeout_seconds: written when the run starts (and again
-- when it is retried), deleted by the sweep once the deadline has passed, after it cancelled the
-- run if it was still running. A table of its own, so that runs without a timeout cost nothing
-- and the ends of runs (the hot path) need not touch it: a finished run's row just waits for
-- its deadline, or for the purge.
CREATE TABLE adagio.run_deadlines (
  run_id           bigint PRIMARY KEY,      -- runs.id
  deadline_at      timestamptz NOT NULL,
  timeout_seconds  int NOT NULL             -- the graph's, named in what the cancellation says
);
CREATE INDEX run_deadlines_due ON adagio.run_deadlines (deadline_at);

-- Every attempt that did not succeed (concluded fail or error, by the function or by the
-- engine), kept after the node finishes. A successful attempt ends its node, and the node's row
-- holds it (success_token and the columns beside it): a row here and two index entries fewer for
-- every node that succeeds, and its output stored once. adagio.attempts shows both. The one success
-- kept here is a node's that retry_run() ran again (from_nodes): its node's row moved on.
CREATE TABLE adagio.failed_attempts (
  node_id      bigint NOT NULL,             -- nodes.id (see nodes.run_id)
  attempt      int NOT NULL,
  run_id       bigint NOT NULL,
  conclusion   adagio.attempt_conclusion NOT NULL,
  output       text,
  reason       text,                        -- set when the engine, not the function, concluded it,
                                            -- or why a success was run again
  agent_id     bigint,                      -- agents.id (see nodes.claimed_by)
  claim_token  uuid NOT NULL,
  ready_at     timestamptz,                 -- when the node became claimable: queue wait = started - ready
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (node_id, attempt),
  CHECK (conclusion <> 'success' OR reason IS NOT NULL)
);
CREATE INDEX failed_attempts_run ON adagio.failed_attempts (run_id);

-- Every attempt ever made and finished: the failed ones, successes retry_run() ran again, and each
-- successful node's last.
CREATE VIEW adagio.attempts AS
  SELECT node_id, attempt, run_id, conclusion, output, reason, agent_id, claim_token, ready_at, started_at,
         finished_at
  FROM adagio.failed_attempts
  UNION ALL
  SELECT n.id, n.attempt_count, n.run_id, 'success'::adagio.attempt_conclusion, n.output, NULL::text, n.claimed_by,
         n.success_token, n.ready_at, n.claimed_at, n.finished_at
  FROM adagio.nodes n WHERE n.success_token IS NOT NULL;

-- The timeline: an append-only log of what happened to each run. Written in the same statement as
-- the change it records (a CTE), so it costs one index insertion per event and no extra round trip.
-- No foreign key to runs: the check would lock the run row on every event; purge_runs removes both.
CREATE TABLE adagio.events (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id    bigint NOT NULL,
  node      text,                                -- NULL for run-level events
  kind      adagio.event_kind NOT NULL,
  agent_id  bigint,
  attempt   int,
  detail    jsonb,
  at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_run ON adagio.events (run_id, id);

-- No statistics on the payload columns: no query filters or joins on them, and with autovacuum
-- analyzing a busy queue every few seconds, sorting sampled JSON documents and outputs was a
-- large part of the server's work.
ALTER TABLE adagio.runs ALTER COLUMN inputs SET STATISTICS 0;
ALTER TABLE adagio.nodes ALTER COLUMN spec SET STATISTICS 0, ALTER COLUMN inputs SET STATISTICS 0,
  ALTER COLUMN output SET STATISTICS 0;
ALTER TABLE adagio.failed_attempts ALTER COLUMN output SET STATISTICS 0, ALTER COLUMN reason SET STATISTICS 0;
ALTER TABLE adagio.events ALTER COLUMN detail SET STATISTICS 0;
ALTER TABLE adagio.graphs ALTER COLUMN graph SET STATISTICS 0, ALTER COLUMN shape SET STATISTICS 0;

-- Every other column of the four per-run tables gets a statistics target of 10: ANALYZE samples
-- 300 rows per unit of the largest target, so 3,000 rows instead of 30,000. Autovacuum analyzes a
-- busy queue often (every fifth of nodes' size changed, mostly by claims and reports), and at the
-- default target those passes took a tenth of the server's CPU in the benchmark's flat drain;
-- at 10 they cost a fifth as much. A sample of 3,000 still tells the planner what it needs here:
-- the share of each state and status, and that ids are unique. An operator who runs analytical
-- queries on the history can raise a column's target again (docs/operations.md).
DO $statistics$
DECLARE
  col record;
BEGIN
  FOR col IN
    SELECT a.attrelid::regclass AS tbl, a.attname
    FROM pg_attribute a
    WHERE a.attrelid IN ('adagio.runs'::regclass, 'adagio.nodes'::regclass, 'adagio.failed_attempts'::regclass,
                         'adagio.events'::regclass)
      AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget IS DISTINCT FROM 0  -- NULL: default (PG 17)
  LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 10', col.tbl, col.attname);
  END LOOP;
END
$statistics$;

-- Autovacuum per table, whatever the server-wide settings (ALTER TABLE ... RESET to undo). Only
-- nodes churns: its rows move between the partial indexes the claim and the sweeper read, so it
-- keeps whatever vacuum cadence the server has (a queue's operator sets it short). The history
-- tables are append-mostly and shrink only by purge_runs(), and runs' own updates are HOT where
-- they can be: vacuumed and analyzed at a fifth of their size changed, not at every 1% a busy
-- queue's settings ask for. At 1%, autovacuum took half a core in the benchmark's steady state,
-- most of it ANALYZE sampling tables whose statistics barely move (docs/performance.md). The
-- engine's statements keep one plan per session, so fresher statistics would not reach them.
ALTER TABLE adagio.nodes SET (autovacuum_analyze_scale_factor = 0.2);
ALTER TABLE adagio.runs SET (autovacuum_vacuum_scale_factor = 0.2, autovacuum_vacuum_insert_scale_factor = 0.2,
  autovacuum_analyze_scale_factor = 0.2);
ALTER TABLE adagio.failed_attempts SET (autovacuum_vacuum_scale_factor = 0.2, autovacuum_vacuum_insert_scale_factor = 0.2,
  autovacuum_analyze_scale_factor = 0.2);
ALTER TABLE adagio.events SET (autovacuum_vacuum_scale_factor = 0.2, autovacuum_vacuum_insert_scale_factor = 0.2,
  autovacuum_analyze_scale_factor = 0.2);
ALTER TABLE adagio.node_logs SET (autovacuum_vacuum_scale_factor = 0.2, autovacuum_vacuum_insert_scale_factor = 0.2,
  autovacuum_analyze_scale_factor = 0.2);
ALTER TABLE adagio.node_logs ALTER COLUMN text SET STATISTICS 0;

-- Engine functions (C++) ------------------------------------------------------------------------
-- They plan their statements once per session (generic plans) and run with random_page_cost =
-- 1.1: the rows they touch are hot in shared buffers, and with the default of 4 the planner chose
-- a sequential scan of a small nodes table over a few index look-ups (0.1-0.2 ms per call).

CREATE FUNCTION adagio.validate_graph(graph jsonb) RETURNS jsonb
  LANGUAGE c IMMUTABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'adagio_validate_graph';
COMMENT ON FUNCTION adagio.validate_graph(jsonb) IS
  'Validates a GraphSpec and returns its canonical form; raises 22023 naming the problem.';

-- A claim token is a version 8 uuid that names its node: 60 bits of node id, 62 random bits new
-- for every claim (core/include/adagio/claim_token.hpp). The engine finds a reported claim by the
-- node's primary key and checks the whole token, so a stale holder's token is refused.
CREATE FUNCTION adagio.new_claim_token(node_id bigint) RETURNS uuid
  LANGUAGE c VOLATILE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'adagio_new_claim_token';
COMMENT ON FUNCTION adagio.new_claim_token(bigint) IS
  'A fresh claim token for a node (the engine''s own: claims hand them out).';
CREATE FUNCTION adagio.claim_token_node(token uuid) RETURNS bigint
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'adagio_claim_token_node';
COMMENT ON FUNCTION adagio.claim_token_node(uuid) IS
  'The id of the node a claim token names; NULL for a uuid that is no claim token.';
-- The engine's own (granted to no role): the statement that completes nodes follows their edges
-- with it, from the graph each backend keeps in memory (extension/src/graph_store.hpp).
CREATE FUNCTION adagio.downstream_nodes(graph_id bigint, node text) RETURNS text[]
  LANGUAGE c STABLE STRICT
  AS 'MODULE_PATHNAME', 'adagio_downstream_nodes';
COMMENT ON FUNCTION adagio.downstream_nodes(bigint, text) IS
  'The nodes directly downstream of a node of a stored graph (the engine''s own).';

CREATE FUNCTION adagio.start_run(graph jsonb, inputs jsonb DEFAULT '{}', idempotency_key text DEFAULT NULL,
                                 start_at timestamptz DEFAULT NULL, priority int DEFAULT 0,
                                 concurrency_key text DEFAULT NULL, concurrency_limit int DEFAULT 1)
  RETURNS bigint
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_start_run';
COMMENT ON FUNCTION adagio.start_run(jsonb, jsonb, text, timestamptz, int, text, int) IS
  'Starts a run of a graph with run-level inputs, its first nodes ready at start_at if given and later than now, at a priority (default 0), at most concurrency_limit at a time with the runs of its concurrency key if given; returns the run id (with an idempotency key already used for the same graph and inputs: that run''s).';

CREATE FUNCTION adagio.start_workflow(name text, inputs jsonb DEFAULT '{}', version int DEFAULT NULL,
                                      idempotency_key text DEFAULT NULL, start_at timestamptz DEFAULT NULL,
                                      priority int DEFAULT 0, concurrency_key text DEFAULT NULL,
                                      concurrency_limit int DEFAULT 1)
  RETURNS bigint
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_start_workflow';
COMMENT ON FUNCTION adagio.start_workflow(text, jsonb, int, text, timestamptz, int, text, int) IS
  'Starts a run of a stored workflow (newest version unless given), its first nodes ready at start_at if given and later than now, at a priority (default 0), at most concurrency_limit at a time with the runs of its concurrency key if given; returns the run id (with an idempotency key already used for the same graph and inputs: that run''s).';

CREATE FUNCTION adagio.start_runs(name text, inputs jsonb[], version int DEFAULT NULL,
                                  idempotency_keys text[] DEFAULT NULL, start_at timestamptz DEFAULT NULL,
                                  priority int DEFAULT 0, concurrency_key text DEFAULT NULL,
                                  concurrency_limit int DEFAULT 1)
  RETURNS bigint[]
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_start_runs';
COMMENT ON FUNCTION adagio.start_runs(text, jsonb[], int, text[], timestamptz, int, text, int) IS
  'Starts one run of a stored workflow per element of inputs (at most 10000), in one statement per table, their first nodes ready at start_at if given and later than now, at a priority (default 0), queued in order under a concurrency key if given; returns the run ids in the order of inputs (a run whose idempotency key already started one: that run''s).';

-- claim() and complete_and_claim() return json, not jsonb: their claims are a document the engine
-- builds as text and the worker reads as text, and passing it through jsonb (parsing it, then
-- printing it again) took 1.6 ms for a document of 100 claims (docs/performance.md).
CREATE FUNCTION adagio.claim(agent_id bigint, max_nodes int DEFAULT 1, lease interval DEFAULT NULL)
  RETURNS json
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_claim';
COMMENT ON FUNCTION adagio.claim(bigint, int, interval) IS
  'Claims up to max_nodes ready nodes of the agent''s runtimes; returns a JSON array of claims.';

CREATE FUNCTION adagio.complete(claim_token uuid, conclusion text, output text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_complete';
COMMENT ON FUNCTION adagio.complete(uuid, text, text) IS
  'Reports an attempt (success, fail or error) for a held claim; raises 55000 if the claim is not held.';

CREATE FUNCTION adagio.complete_many(claim_tokens uuid[], conclusions text[], outputs text[] DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_complete_many';
COMMENT ON FUNCTION adagio.complete_many(uuid[], text[], text[]) IS
  'Reports many attempts in one transaction (element i of each array is one report); claims no longer held are returned in not_held instead of failing the call.';

CREATE FUNCTION adagio.complete_and_claim(agent_id bigint, max_nodes int, claim_tokens uuid[], conclusions text[],
                                          outputs text[] DEFAULT NULL, lease interval DEFAULT NULL)
  RETURNS json
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_complete_and_claim';
COMMENT ON FUNCTION adagio.complete_and_claim(bigint, int, uuid[], text[], text[], interval) IS
  'complete_many() for an agent''s reports, then up to max_nodes claims for it in the same transaction: first the nodes the reports made ready that it runs (handed over directly), then ready nodes as claim() takes them; returns the summary with "claims".';

CREATE FUNCTION adagio.sweep() RETURNS jsonb
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp SET random_page_cost = 1.1
  AS 'MODULE_PATHNAME', 'adagio_sweep';
COMMENT ON FUNCTION adagio.sweep() IS
  'Orphans lapsed claims (error attempt, then the retry rules), marks silent agents gone, readies retries whose backoff is over.';

-- The SQL side of the C++ notify_events(): wakes followers of the timeline unless
-- adagio.notify_events is off (the setting is undefined until the library loads: then it is on).
CREATE FUNCTION adagio.notify_events(run_id bigint) RETURNS void
  LANGUAGE plpgsql SET search_path = adagio, pg_temp
  AS $$
BEGIN
  IF coalesce(current_setting('adagio.notify_events', true), 'on') = 'on' THEN
    PERFORM pg_notify('adagio.events', notify_events.run_id::text);
  END IF;
END
$$;

-- The advisory lock of a key (one hash, for the calls that wait for it and the sweep, which does not).
CREATE FUNCTION adagio.concurrency_key_lock_id(concurrency_key text) RETURNS bigint
  LANGUAGE sql IMMUTABLE SET search_path = adagio, pg_temp
  AS $$ SELECT hashtextextended('adagio.concurrency_key:' || concurrency_key, 0) $$;

-- Concurrency keys. Every change to a key's queue happens under a transaction-level advisory lock
-- on the key: starts, releases and retries of one key take turns, and a start sees every run of
-- its key that committed before it.
CREATE FUNCTION adagio.lock_concurrency_key(concurrency_key text) RETURNS void
  LANGUAGE sql SET search_path = adagio, pg_temp
  AS $$ SELECT pg_advisory_xact_lock(adagio.concurrency_key_lock_id(concurrency_key)) $$;

-- Queues runs (in the order given) under a key, each allowed `max_running` runs of the key at a
-- time (itself included); returns how many of them may start now: fewer than max_running are
-- before each (the others wait). A key has one limit at a time: a start that gives another while
-- runs of the key are in line is refused (a forgotten limit would otherwise hold the line up).
CREATE FUNCTION adagio.enqueue_concurrency_key(concurrency_key text, run_ids bigint[], max_running int) RETURNS int
  LANGUAGE plpgsql SET search_path = adagio, pg_temp
  AS $$
DECLARE
  ahead int;
  key_limit int;
BEGIN
  -- The lock orders the calls of one key; only a snapshot taken after it sees every run queued
  -- before (a repeatable read snapshot could miss one, and too many runs of a key would run).
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'a concurrency key needs a READ COMMITTED transaction, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'feature_not_supported',
            HINT = 'start the run (or retry it) in a READ COMMITTED transaction, the default';
  END IF;
  PERFORM adagio.lock_concurrency_key(enqueue_concurrency_key.concurrency_key);
  SELECT count(*), min(q.max_running) INTO ahead, key_limit
  FROM adagio.concurrency_queue q WHERE q.concurrency_key = enqueue_concurrency_key.concurrency_key;
  IF key_limit IS DISTINCT FROM enqueue_concurrency_key.max_running AND ahead > 0 THEN
    RAISE EXCEPTION 'concurrency key "%" has a limit of %, not %', enqueue_concurrency_key.concurrency_key, key_limit,
                    enqueue_concurrency_key.max_running
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('%s run(s) of the key, started with a limit of %s, are unfinished', ahead, key_limit),
            HINT = 'start the runs of one key with the same concurrency_limit; a new limit takes effect once they have ended';
  END IF;
  INSERT INTO adagio.concurrency_queue (concurrency_key, run_id, max_running)
  SELECT enqueue_concurrency_key.concurrency_key, r.id, enqueue_concurrency_key.max_running
  FROM unnest(run_ids) WITH ORDINALITY AS r(id, ord) ORDER BY r.ord;
  RETURN least(greatest(enqueue_concurrency_key.max_running - ahead, 0), cardinality(run_ids));
END
$$;

-- How many more runs of its key must end before a run may start (0: it may, or it has no key).
CREATE FUNCTION adagio.concurrency_wait(run_id bigint) RETURNS int
  LANGUAGE sql STABLE SET search_path = adagio, pg_temp
  AS $$
  SELECT coalesce((SELECT greatest(0, count(q.place) - mine.max_running + 1)::int
                   FROM adagio.concurrency_queue mine
                   LEFT JOIN adagio.concurrency_queue q ON q.concurrency_key = mine.concurrency_key AND q.place < mine.place
                   WHERE mine.run_id = concurrency_wait.run_id GROUP BY mine.max_running), 0)
$$;

-- Starts the runs of a key whose turn has come (fewer than their limit before them) and whose
-- first nodes still wait: they become ready (or scheduled at the run's start_at, if that is
-- ahead). Runs already going have no such nodes, and nothing changes for them. The caller holds
-- the key's lock. Returns the runs started.
CREATE FUNCTION adagio.start_runs_in_line(concurrency_key text) RETURNS int
  LANGUAGE plpgsql SET search_path = adagio, pg_temp
  AS $$
DECLARE
  next_run bigint;
  runtime_name text;
  released int;
  started int := 0;
BEGIN
  FOR next_run IN
    SELECT l.run_id FROM (
      SELECT q.run_id, q.max_running, row_number() OVER (ORDER BY q.place) AS turn
      FROM (SELECT * FROM adagio.concurrency_queue q WHERE q.concurrency_key = start_runs_in_line.concurrency_key
            ORDER BY q.place LIMIT 1000) q) l   -- a limit is at most 1000
    WHERE l.turn <= l.max_running ORDER BY l.turn
  LOOP
    WITH released AS (
      UPDATE adagio.nodes n
      SET state = CASE WHEN r.start_at > clock_timestamp() THEN 'scheduled' ELSE 'ready' END::adagio.node_state,
          ready_at = greatest(clock_timestamp(), r.start_at)
      FROM adagio.runs r
      WHERE r.id = next_run AND n.run_id = next_run AND n.state = 'scheduled' AND n.ready_at IS NULL
      RETURNING n.name, n.state, n.position),
    logged AS (
      INSERT INTO adagio.events (run_id, node, kind, detail)
      SELECT next_run, u.name, 'node_ready', jsonb_build_object('after', 'concurrency_key')
      FROM released u WHERE u.state = 'ready' ORDER BY u.position)
    SELECT count(*) INTO released FROM released;
    CONTINUE WHEN released = 0;
    started := started + 1;
    FOR runtime_name IN
      SELECT DISTINCT n.runtime FROM adagio.nodes n WHERE n.run_id = next_run AND n.state = 'ready'
    LOOP
      PERFORM pg_notify('adagio.ready.' || runtime_name, '');
    END LOOP;
    PERFORM adagio.notify_events(next_run);
  END LOOP;
  RETURN started;
END
$$;

-- Called when runs finish or are cancelled: each leaves its key's line, and the runs whose turn
-- that brings start.
CREATE FUNCTION adagio.release_concurrency_keys(run_ids bigint[]) RETURNS void
  LANGUAGE plpgsql SET search_path = adagio, pg_temp
  AS $$
DECLARE
  key text;
BEGIN
  FOR key IN SELECT DISTINCT q.concurrency_key FROM adagio.concurrency_queue q WHERE q.run_id = ANY (run_ids)
             ORDER BY 1 LOOP
    PERFORM adagio.lock_concurrency_key(key);
    DELETE FROM adagio.concurrency_queue q WHERE q.concurrency_key = key AND q.run_id = ANY (run_ids);
    PERFORM adagio.start_runs_in_line(key);
  END LOOP;
END
$$;

-- The sweep's backstop: a release in a REPEATABLE READ or SERIALIZABLE transaction (a session
-- whose default is that) sees the line as it was when the transaction began and can miss a run
-- queued just before it, which would then wait for ever. Each sweep starts such runs. Keys locked
-- by a transaction under way are skipped, not waited for. Returns the runs started.
CREATE FUNCTION adagio.start_waiting_runs_in_line() RETURNS int
  LANGUAGE plpgsql SET search_path = adagio, pg_temp
  AS $$
DECLARE
  key text;
  started int := 0;
BEGIN
  FOR key IN
    SELECT DISTINCT l.concurrency_key
    FROM (SELECT q.concurrency_key, q.run_id, q.max_running,
                 row_number() OVER (PARTITION BY q.concurrency_key ORDER BY q.place) AS turn
          FROM adagio.concurrency_queue q) l
    WHERE l.turn <= l.max_running
      AND EXISTS (SELECT 1 FROM adagio.nodes n WHERE n.run_id = l.run_id AND n.state = 'scheduled' AND n.ready_at IS NULL)
  LOOP
    CONTINUE WHEN NOT pg_try_advisory_xact_lock(adagio.concurrency_key_lock_id(key));
    started := started + adagio.start_runs_in_line(key);
  END LOOP;
  RETURN started;
END
$$;

-- One attempt at cancel_run() (below), in the subtransaction it tries again after a deadlock.
-- timed_out_after: set when the sweep cancels a run that passed its graph's timeout_seconds.
CREATE FUNCTION adagio.cancel_run_once(run_id bigint, timed_out_after int DEFAULT NULL) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  run_status text;
  run_key text;
  stopped int;
  cancelled int;
  why text := CASE WHEN timed_out_after IS NULL THEN 'cancelled: the run was cancelled'
                   ELSE format('cancelled: the run exceeded its timeout of %s s', timed_out_after) END;
BEGIN
  IF cancel_run_once.run_id IS NULL THEN
    RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT r.status, r.concurrency_key INTO run_status, run_key FROM adagio.runs r WHERE r.id = cancel_run_once.run_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', cancel_run_once.run_id USING ERRCODE = 'undefined_object';
  END IF;
  IF run_status <> 'running' THEN
    RAISE EXCEPTION 'run % is already %', cancel_run_once.run_id, run_status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  -- The key's lock before any node: the end of the run ahead of this one holds the key while it
  -- starts this run's nodes, and would wait for them while this waited for the key.
  IF run_key IS NOT NULL THEN
    PERFORM adagio.lock_concurrency_key(run_key);
  END IF;
  -- Then the run's nodes in id order, and the run's row last: the order a report takes (its nodes,
  -- those downstream of them, which have higher ids, then their runs), so that a cancellation
  -- and a report in flight wait for each other instead of deadlocking. A report may have
  -- finished the run meanwhile: its row says so once locked.
  PERFORM FROM adagio.nodes n WHERE n.run_id = cancel_run_once.run_id ORDER BY n.id FOR UPDATE;
  SELECT r.status INTO run_status FROM adagio.runs r WHERE r.id = cancel_run_once.run_id FOR UPDATE;
  IF run_status <> 'running' THEN
    RAISE EXCEPTION 'run % is already %', cancel_run_once.run_id, run_status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  -- Running attempts end as errors the engine concluded; their tokens stop working, which is how
  -- their workers learn of it at the next heartbeat.
  INSERT INTO adagio.failed_attempts (node_id, run_id, attempt, conclusion, output, reason, agent_id, claim_token,
                                      ready_at, started_at)
  SELECT n.id, n.run_id, n.attempt_count, 'error', NULL, why, n.claimed_by,
         n.claim_token, n.ready_at, n.claimed_at
  FROM adagio.nodes n WHERE n.run_id = cancel_run_once.run_id AND n.state = 'running';
  GET DIAGNOSTICS stopped = ROW_COUNT;
  UPDATE adagio.nodes n
  SET state = 'cancelled', claim_token = NULL, lease_expires_at = NULL, finished_at = clock_timestamp()
  WHERE n.run_id = cancel_run_once.run_id AND n.state IN ('waiting', 'ready', 'scheduled', 'running');
  GET DIAGNOSTICS cancelled = ROW_COUNT;
  UPDATE adagio.runs r SET status = 'cancelled', finished_at = now() WHERE r.id = cancel_run_once.run_id;
  INSERT INTO adagio.events (run_id, kind, detail)
  VALUES (cancel_run_once.run_id, 'run_cancelled',
          jsonb_strip_nulls(jsonb_build_object('nodes_cancelled', cancelled, 'attempts_stopped', stopped,
                                               'by', session_user, 'timeout_seconds', timed_out_after)));
  PERFORM adagio.release_concurrency_keys(ARRAY[cancel_run_once.run_id]);
  PERFORM pg_notify('adagio.run_finished', cancel_run_once.run_id::text);
  PERFORM adagio.notify_events(cancel_run_once.run_id);
  RETURN jsonb_build_object('run_id', cancel_run_once.run_id, 'nodes_cancelled', cancelled, 'attempts_stopped', stopped);
END
$$;

-- A cancellation takes its locks in the reports' order (cancel_run_once()). Should it still meet
-- another transaction in a cycle, and PostgreSQL's deadlock check end this one, only this attempt
-- (a subtransaction) is rolled back, its locks go, the other goes on, and the cancellation tries
-- again, so an operator does not see "deadlock detected".
CREATE FUNCTION adagio.cancel_run(run_id bigint) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
BEGIN
  FOR attempt_no IN 1..5 LOOP
    BEGIN
      RETURN adagio.cancel_run_once(cancel_run.run_id);
    EXCEPTION WHEN deadlock_detected THEN
      IF attempt_no = 5 THEN
        RAISE;
      END IF;
      -- This attempt's locks are gone; a moment lets the other transaction, which waited for
      -- them, take them, instead of this one taking them back first and meeting it again.
      PERFORM pg_sleep(0.05 * 2 ^ (attempt_no - 1));
    END;
  END LOOP;
END
$$;
COMMENT ON FUNCTION adagio.cancel_run(bigint) IS
  'Cancels a run: unfinished nodes become cancelled, running claims stop being valid.';

-- The sweep's part for run timeouts: every run whose deadline has passed is cancelled if it still
-- runs (each in a subtransaction: one that meets a report in a deadlock, or that a report just
-- finished, is left for the next sweep), and its deadline goes. Returns how many it cancelled.
CREATE FUNCTION adagio.time_out_runs(max_runs int) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  due record;
  timed_out int := 0;
BEGIN
  FOR due IN
    SELECT d.run_id, d.timeout_seconds FROM adagio.run_deadlines d
    WHERE d.deadline_at <= now() ORDER BY d.deadline_at LIMIT max_runs FOR UPDATE SKIP LOCKED
  LOOP
    BEGIN
      IF EXISTS (SELECT FROM adagio.runs r WHERE r.id = due.run_id AND r.status = 'running') THEN
        PERFORM adagio.cancel_run_once(due.run_id, due.timeout_seconds);
        timed_out := timed_out + 1;
      END IF;
      DELETE FROM adagio.run_deadlines d WHERE d.run_id = due.run_id;
    EXCEPTION WHEN deadlock_detected OR object_not_in_prerequisite_state THEN
      NULL;
    END;
  END LOOP;
  RETURN timed_out;
END
$$;

-- from_nodes: nodes to run again although they succeeded, with every node downstream of them (a
-- step that produced the wrong thing, or one whose code changed); the nodes upstream of them keep
-- their outputs. With them, a run that completed with success may be retried too.
CREATE FUNCTION adagio.retry_run(run_id bigint, from_nodes text[] DEFAULT NULL) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  run_status text;
  run_conclusion text;
  reset int;
  made_ready int;
  runtime_name text;
  run_key text;
  run_limit int;
  run_start_at timestamptz;
  held boolean := false;
  rerun_given boolean := coalesce(cardinality(retry_run.from_nodes), 0) > 0;
  unknown text;
BEGIN
  IF retry_run.run_id IS NULL THEN
    RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF rerun_given AND array_position(retry_run.from_nodes, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'from_nodes must not hold NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT r.status, r.conclusion, r.concurrency_key, r.concurrency_limit, r.start_at
    INTO run_status, run_conclusion, run_key, run_limit, run_start_at
  FROM adagio.runs r WHERE r.id = retry_run.run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', retry_run.run_id USING ERRCODE = 'undefined_object';
  END IF;
  IF rerun_given THEN
    SELECT f INTO unknown FROM unnest(retry_run.from_nodes) f
    WHERE NOT EXISTS (SELECT FROM adagio.nodes n WHERE n.run_id = retry_run.run_id AND n.name = f) LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'run % has no node "%"', retry_run.run_id, unknown USING ERRCODE = 'undefined_object';
    END IF;
  END IF;
  IF run_status = 'running' OR (run_conclusion = 'success' AND NOT rerun_given) THEN
    RAISE EXCEPTION 'run % cannot be retried: it is %', retry_run.run_id,
      CASE WHEN run_status = 'completed' THEN 'completed with success' ELSE run_status END
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = CASE WHEN run_status = 'running' THEN 'a run is retried once it has finished: cancel it first, or wait'
                        ELSE 'only a run that failed or was cancelled can be retried, unless from_nodes names nodes to run again' END;
  END IF;
  -- A run with a concurrency key queues again, at the end: behind any unfinished run of its key,
  -- its nodes wait (scheduled, without a time) for release_concurrency_keys(). It takes the key's
  -- limit of now, if the key's runs in line have one (a key has one limit at a time), and keeps it.
  IF run_key IS NOT NULL THEN
    PERFORM adagio.lock_concurrency_key(run_key);
    run_limit := coalesce((SELECT q.max_running FROM adagio.concurrency_queue q WHERE q.concurrency_key = run_key LIMIT 1),
                          run_limit);
    UPDATE adagio.runs r SET concurrency_limit = run_limit WHERE r.id = retry_run.run_id AND r.concurrency_limit <> run_limit;
    held := adagio.enqueue_concurrency_key(run_key, ARRAY[retry_run.run_id], run_limit) = 0;
  END IF;
  -- Every node that did not succeed starts over, and so do from_nodes and everything downstream of
  -- them: each keeps the outputs it already received, waits for the upstream nodes that start over,
  -- and its retry policy counts afresh. A success started over keeps its attempt in the history.
  WITH RECURSIVE run_edges AS MATERIALIZED (
    SELECT e.source, e.destination FROM adagio.edges e WHERE e.run_id = retry_run.run_id),
  rerun(name) AS (
    SELECT unnest(coalesce(retry_run.from_nodes, '{}'))
    UNION
    SELECT e.destination FROM run_edges e JOIN rerun r ON e.source = r.name),
  again AS (
    SELECT n.id, n.name FROM adagio.nodes n
    WHERE n.run_id = retry_run.run_id AND (n.conclusion IS DISTINCT FROM 'success' OR n.name IN (SELECT name FROM rerun))),
  pending AS (
    SELECT e.destination, count(*)::int AS upstream
    FROM run_edges e WHERE e.source IN (SELECT name FROM again)
    GROUP BY e.destination),
  kept AS (
    INSERT INTO adagio.failed_attempts (node_id, run_id, attempt, conclusion, output, reason, agent_id, claim_token,
                                        ready_at, started_at, finished_at)
    SELECT n.id, n.run_id, n.attempt_count, 'success', n.output,
           'run again: the run was retried from ' || array_to_string(retry_run.from_nodes, ', '), n.claimed_by,
           n.success_token, n.ready_at, n.claimed_at, n.finished_at
    FROM adagio.nodes n JOIN again a ON a.id = n.id WHERE n.success_token IS NOT NULL),
  updated AS (
    UPDATE adagio.nodes n
    -- A run cancelled before its start_at waits for it again, as when it was started.
    SET state = CASE WHEN coalesce(p.upstream, 0) > 0 THEN 'waiting' WHEN held OR run_start_at > clock_timestamp() THEN 'scheduled'
                     ELSE 'ready' END::adagio.node_state,
        conclusion = NULL, upstream_pending = coalesce(p.upstream, 0), output = NULL, retry_base = n.attempt_count,
        claimed_by = NULL, claimed_at = NULL, claim_token = NULL, success_token = NULL, lease_expires_at = NULL,
        ready_at = CASE WHEN coalesce(p.upstream, 0) = 0 AND NOT held THEN greatest(clock_timestamp(), run_start_at) END,
        finished_at = NULL
    FROM again a LEFT JOIN pending p ON p.destination = a.name WHERE n.id = a.id
    RETURNING n.name, n.state, n.runtime, n.position),
  logged AS (
    INSERT INTO adagio.events (run_id, node, kind)
    SELECT retry_run.run_id, u.name, 'node_ready' FROM updated u WHERE u.state = 'ready')
  SELECT count(*), count(*) FILTER (WHERE u.state = 'ready') INTO reset, made_ready FROM updated u;

  UPDATE adagio.runs r
  SET status = 'running', conclusion = NULL, started_at = now(), finished_at = NULL, nodes_remaining = reset,
      nodes_failed = 0
  WHERE r.id = retry_run.run_id;
  -- A graph with a timeout gives the run its whole timeout again, from now.
  INSERT INTO adagio.run_deadlines AS d (run_id, deadline_at, timeout_seconds)
  SELECT retry_run.run_id, now() + make_interval(secs => t.seconds), t.seconds
  FROM adagio.runs r JOIN adagio.graphs g ON g.id = r.graph_id,
       LATERAL (SELECT (g.graph ->> 'timeout_seconds')::int AS seconds) t
  WHERE r.id = retry_run.run_id AND t.seconds IS NOT NULL
  ON CONFLICT ON CONSTRAINT run_deadlines_pkey
  DO UPDATE SET deadline_at = excluded.deadline_at, timeout_seconds = excluded.timeout_seconds;
  INSERT INTO adagio.events (run_id, kind, detail)
  VALUES (retry_run.run_id, 'run_retried',
          jsonb_strip_nulls(jsonb_build_object('nodes_reset', reset, 'nodes_ready', made_ready,
                             'was', coalesce(run_conclusion, run_status), 'by', session_user,
                             'from', CASE WHEN rerun_given THEN to_jsonb(retry_run.from_nodes) END,
                             'queued', CASE WHEN held THEN true END)));
  FOR runtime_name IN
    SELECT DISTINCT n.runtime FROM adagio.nodes n WHERE n.run_id = retry_run.run_id AND n.state = 'ready'
  LOOP
    PERFORM pg_notify('adagio.ready.' || runtime_name, '');
  END LOOP;
  PERFORM adagio.notify_events(retry_run.run_id);
  RETURN jsonb_build_object('run_id', retry_run.run_id, 'nodes_reset', reset, 'nodes_ready', made_ready);
END
$$;
COMMENT ON FUNCTION adagio.retry_run(bigint, text[]) IS
  'Starts a failed or cancelled run again from the nodes that did not succeed, keeping the successful ones; from_nodes also runs those nodes and everything downstream of them again.';

-- Approval gates ---------------------------------------------------------------------------------
-- A node of runtime 'approval' is a gate that a person (or any program with the operator role)
-- decides; no worker runs it. Once ready it waits, outside the claim queue, until approve() or
-- reject() concludes it, or until its timeout_seconds have passed since it opened (the sweep then
-- concludes it as an error). A decision claims the gate within the caller's transaction and
-- reports it through complete(), so it follows the rules of any attempt: an approval is a success
-- whose output flows downstream, a rejection a fail attempt whose retry policy may open the gate
-- again, and the run's counters, events and notifications are the ones a worker's report makes.

-- Claims a ready node of the engine's own runtimes (an open gate, a timer) for the caller's
-- transaction, with no agent: its attempt runs from when it became ready to now. Returns the
-- claim's token (NULL if the node is not such a node). Shared by decide_gate() and the sweep's
-- gate deadlines and timers; with any_node, by conclude_node(), for any ready node or one waiting
-- out a backoff (which the caller has checked and locked).
CREATE FUNCTION adagio.claim_for_engine(node_id bigint, any_node boolean DEFAULT false) RETURNS uuid
  LANGUAGE sql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
  UPDATE adagio.nodes n
  SET state = 'running', claim_token = adagio.new_claim_token(n.id), claimed_by = NULL,
      claimed_at = least(coalesce(n.ready_at, clock_timestamp()), clock_timestamp()),
      lease_expires_at = clock_timestamp() + interval '1 minute', attempt_count = n.attempt_count + 1
  WHERE n.id = claim_for_engine.node_id
    AND (n.state = 'ready' AND n.runtime IN ('approval', 'timer')
         OR claim_for_engine.any_node AND (n.state = 'ready' OR n.state = 'scheduled' AND n.ready_at IS NOT NULL))
  RETURNING n.claim_token
$$;

-- A run's node by name, locked (FOR UPDATE), for the operator calls that act on one node
-- (decide_gate_once(), conclude_node()); an unknown run or node is 42704, naming which.
CREATE FUNCTION adagio.lock_run_node(run_id bigint, node text) RETURNS adagio.nodes
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  found_node adagio.nodes;
BEGIN
  SELECT * INTO found_node FROM adagio.nodes n
  WHERE n.run_id = lock_run_node.run_id AND n.name = lock_run_node.node FOR UPDATE;
  IF NOT FOUND THEN
    IF NOT EXISTS (SELECT FROM adagio.runs r WHERE r.id = lock_run_node.run_id) THEN
      RAISE EXCEPTION 'run % does not exist', lock_run_node.run_id USING ERRCODE = 'undefined_object';
    END IF;
    RAISE EXCEPTION 'run % has no node "%"', lock_run_node.run_id, lock_run_node.node USING ERRCODE = 'undefined_object';
  END IF;
  RETURN found_node;
END
$$;

-- One attempt at decide_gate() (below), as cancel_run_once() is for cancel_run().
-- attempt (NULL: whichever is open): the attempt the decider saw open. A gate a rejection or its
-- deadline opens again at once is open for the next attempt when a decision that waited for the
-- first one's lock gets it: refused, not applied to an opening nobody looked at.
CREATE FUNCTION adagio.decide_gate_once(run_id bigint, node text, approved boolean, output text, attempt int) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  gate record;
  token uuid;
BEGIN
  IF decide_gate_once.run_id IS NULL OR decide_gate_once.node IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', CASE WHEN decide_gate_once.run_id IS NULL THEN 'run_id' ELSE 'node' END
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  gate := adagio.lock_run_node(decide_gate_once.run_id, decide_gate_once.node);
  IF gate.runtime <> 'approval' THEN
    RAISE EXCEPTION 'node "%" of run % is not an approval gate', decide_gate_once.node, decide_gate_once.run_id
      USING ERRCODE = 'wrong_object_type',
            DETAIL = CASE WHEN gate.runtime = 'timer' THEN 'it is a timer: it ends by itself'
                          ELSE format('its runtime is %s: a worker runs it and reports it', gate.runtime) END,
            HINT = 'only nodes of runtime approval are decided with approve() and reject()';
  END IF;
  IF gate.state <> 'ready' THEN
    RAISE EXCEPTION 'approval gate "%" of run % is not open', decide_gate_once.node, decide_gate_once.run_id
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = CASE gate.state
              WHEN 'waiting' THEN 'it opens once every node upstream of it has succeeded'
              WHEN 'scheduled' THEN CASE WHEN gate.ready_at IS NULL THEN 'its run waits for its concurrency key'
                                         ELSE format('it opens at %s', gate.ready_at) END
              WHEN 'completed' THEN CASE gate.conclusion
                WHEN 'success' THEN 'it was approved'
                WHEN 'fail' THEN 'it was rejected'
                WHEN 'error' THEN 'it was not decided within its timeout_seconds'
                ELSE 'a node before it failed: it never opened' END
              WHEN 'cancelled' THEN 'its run was cancelled'
              ELSE format('it is %s', gate.state) END;
  END IF;
  IF decide_gate_once.attempt IS NOT NULL AND decide_gate_once.attempt <> gate.attempt_count + 1 THEN
    RAISE EXCEPTION 'approval gate "%" of run % is open for attempt %, not %', decide_gate_once.node, decide_gate_once.run_id,
                    gate.attempt_count + 1, decide_gate_once.attempt
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'it was decided, and opened again, since that attempt was shown',
            HINT = 'look at the gate again before deciding';
  END IF;
  token := adagio.claim_for_engine(gate.id);
  INSERT INTO adagio.events (run_id, node, kind, attempt, detail)
  SELECT decide_gate_once.run_id, decide_gate_once.node, 'node_decided', n.attempt_count,
         jsonb_build_object('decision', CASE WHEN approved THEN 'approved' ELSE 'rejected' END, 'by', session_user)
  FROM adagio.nodes n WHERE n.id = gate.id;
  RETURN adagio.complete(token, CASE WHEN approved THEN 'success' ELSE 'fail' END, decide_gate_once.output);
END
$$;

-- An operator concludes a node as its function would have: a node that is ready, or waits for its
-- retry's backoff, is claimed by the engine for the purpose; a running node's claim is taken from
-- its worker (which learns so at its next heartbeat and stops the execution). The node's retry
-- policy then applies as to any report: success passes `output` downstream, and fail or error
-- run it again while its policy allows (so "error" also means "run it again now"). Locks the node,
-- then (through complete()) its run, in the order reports lock them.
CREATE FUNCTION adagio.conclude_node(run_id bigint, node text, conclusion text, output text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  target record;
  token uuid;
  result jsonb;
BEGIN
  IF conclude_node.run_id IS NULL OR conclude_node.node IS NULL OR conclude_node.conclusion IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', CASE WHEN conclude_node.run_id IS NULL THEN 'run_id'
                                               WHEN conclude_node.node IS NULL THEN 'node' ELSE 'conclusion' END
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF conclude_node.conclusion NOT IN ('success', 'fail', 'error') THEN
    RAISE EXCEPTION 'conclusion must be success, fail or error, got "%"', conclude_node.conclusion
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  target := adagio.lock_run_node(conclude_node.run_id, conclude_node.node);
  IF target.runtime = 'approval' THEN
    RAISE EXCEPTION 'node "%" of run % is an approval gate', conclude_node.node, conclude_node.run_id
      USING ERRCODE = 'wrong_object_type', HINT = 'decide it with approve() or reject()';
  END IF;
  IF target.state = 'running' THEN
    token := target.claim_token;
  ELSIF target.state = 'ready' OR (target.state = 'scheduled' AND target.ready_at IS NOT NULL) THEN
    token := adagio.claim_for_engine(target.id, any_node => true);
  ELSE
    RAISE EXCEPTION 'node "%" of run % cannot be concluded now', conclude_node.node, conclude_node.run_id
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = CASE target.state
              WHEN 'waiting' THEN 'it waits for the nodes upstream of it'
              WHEN 'scheduled' THEN 'its run waits for its concurrency key'
              WHEN 'completed' THEN format('it has completed (%s)', target.conclusion)
              ELSE format('it is %s', target.state) END,
            HINT = CASE WHEN target.state = 'completed' THEN 'retry_run() with from_nodes runs it again'
                        ELSE 'a node is concluded while it is ready, waits out a backoff, or runs' END;
  END IF;
  INSERT INTO adagio.events (run_id, node, kind, attempt, detail)
  SELECT conclude_node.run_id, conclude_node.node, 'node_concluded', n.attempt_count,
         jsonb_build_object('conclusion', conclude_node.conclusion, 'by', session_user, 'was', target.state)
  FROM adagio.nodes n WHERE n.id = target.id;
  result := adagio.complete(token, conclude_node.conclusion, conclude_node.output);
  -- The attempt's row says who ended it (a success stays in its node's row, and the event says).
  UPDATE adagio.failed_attempts a SET reason = format('concluded by %s', session_user)
  WHERE a.node_id = target.id AND a.claim_token = token;
  RETURN result;
END
$$;
COMMENT ON FUNCTION adagio.conclude_node(bigint, text, text, text) IS
  'Concludes a ready, backing-off or running node as its function would have (success, fail or error).';

-- A decision locks the gate's node and then (through complete()) its run's row, as reports do;
-- as in cancel_run(), a decision the deadlock check ends (meeting a transaction that locks the
-- other way round) is tried again.
CREATE FUNCTION adagio.decide_gate(run_id bigint, node text, approved boolean, output text, attempt int) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
BEGIN
  FOR attempt_no IN 1..5 LOOP
    BEGIN
      RETURN adagio.decide_gate_once(decide_gate.run_id, decide_gate.node, decide_gate.approved, decide_gate.output,
                                     decide_gate.attempt);
    EXCEPTION WHEN deadlock_detected THEN
      IF attempt_no = 5 THEN
        RAISE;
      END IF;
      -- This attempt's locks are gone; a moment lets the other transaction, which waited for
      -- them, take them, instead of this one taking them back first and meeting it again.
      PERFORM pg_sleep(0.05 * 2 ^ (attempt_no - 1));
    END;
  END LOOP;
END
$$;

CREATE FUNCTION adagio.approve(run_id bigint, node text, output text DEFAULT NULL, attempt int DEFAULT NULL) RETURNS jsonb
  LANGUAGE sql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$ SELECT adagio.decide_gate(approve.run_id, approve.node, true, approve.output, approve.attempt) $$;
COMMENT ON FUNCTION adagio.approve(bigint, text, text, int) IS
  'Approves an open approval gate: it succeeds, and the output (if any) flows to the nodes downstream.';

CREATE FUNCTION adagio.reject(run_id bigint, node text, reason text DEFAULT NULL, attempt int DEFAULT NULL) RETURNS jsonb
  LANGUAGE sql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$ SELECT adagio.decide_gate(reject.run_id, reject.node, false, reject.reason, reject.attempt) $$;
COMMENT ON FUNCTION adagio.reject(bigint, text, text, int) IS
  'Rejects an open approval gate: a fail attempt, with the reason as its output; the gate''s retry policy decides what follows.';

-- Patches: nodes added to a running run, with edges that end at them (extension/src/patch_run.cpp).
CREATE FUNCTION adagio.patch_run(run_id bigint, patch jsonb) RETURNS jsonb
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp
  AS 'MODULE_PATHNAME', 'adagio_patch_run';
COMMENT ON FUNCTION adagio.patch_run(bigint, jsonb) IS
  'Adds the patch''s nodes, and its edges (each ending at one of them), to a running run; returns the patch''s number and the nodes added.';

CREATE FUNCTION adagio.patch_run_from_node(claim_token uuid, patch jsonb) RETURNS jsonb
  LANGUAGE c SECURITY DEFINER SET search_path = adagio, pg_temp
  AS 'MODULE_PATHNAME', 'adagio_patch_run_from_node';
COMMENT ON FUNCTION adagio.patch_run_from_node(uuid, jsonb) IS
  'patch_run() for the run of a held claim, from the function that claim runs; the same patch from the same node again is the one already applied.';

-- What waits for a decision (opened_at: oldest first), with the deadline of gates that have one.
CREATE VIEW adagio.open_gates AS
  SELECT n.run_id, n.name AS node, r.workflow_name, n.ready_at AS opened_at,
         adagio.engine_due_at(n.runtime, n.ready_at, n.spec) AS deadline,
         n.attempt_count + 1 AS attempt, coalesce(n.spec -> 'metadata', '{}') AS metadata, n.inputs
  FROM adagio.nodes n JOIN adagio.runs r ON r.id = n.run_id
  WHERE n.state = 'ready' AND n.runtime = 'approval';

CREATE FUNCTION adagio.purge_runs(older_than interval, max_runs int DEFAULT NULL) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  purged bigint;
BEGIN
  IF older_than IS NULL OR older_than < interval '0' THEN
    RAISE EXCEPTION 'older_than must be a non-negative interval, not %', coalesce(older_than::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_runs < 0 THEN
    RAISE EXCEPTION 'max_runs must be NULL (no limit) or non-negative, not %', max_runs
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- A run finishes after it was created, so only runs created before the cut-off can qualify:
  -- the scan walks runs_created_at over them (the sweeper's retention calls this every second, and
  -- a sequential scan of all runs took a tenth of a core) and takes the oldest first, so that a
  -- limited purge makes steady progress. Runs another transaction holds locked (another purge, a
  -- retry) are skipped, not waited for. The ids go to the DELETE as an array, which it looks up
  -- by primary key (as an IN subquery, the plan hashed them and scanned every run).
  WITH gone AS (
    DELETE FROM adagio.runs r
    WHERE r.id = ANY (ARRAY(SELECT c.id FROM adagio.runs c
                   WHERE c.created_at < now() - older_than
                     AND c.status IN ('completed', 'cancelled') AND c.finished_at < now() - older_than
                   ORDER BY c.created_at, c.id LIMIT max_runs
                   FOR UPDATE SKIP LOCKED))
    RETURNING r.id),
  nodes_gone AS (DELETE FROM adagio.nodes n WHERE n.run_id IN (SELECT id FROM gone)),
  attempts_gone AS (DELETE FROM adagio.failed_attempts a WHERE a.run_id IN (SELECT id FROM gone)),
  events_gone AS (DELETE FROM adagio.events v WHERE v.run_id IN (SELECT id FROM gone)),
  patches_gone AS (DELETE FROM adagio.run_patches p WHERE p.run_id IN (SELECT id FROM gone)),
  logs_gone AS (DELETE FROM adagio.node_logs l WHERE l.run_id IN (SELECT id FROM gone)),
  deadlines_gone AS (DELETE FROM adagio.run_deadlines d WHERE d.run_id IN (SELECT id FROM gone))
  SELECT count(*) INTO purged FROM gone;
  RETURN purged;
END
$$;
COMMENT ON FUNCTION adagio.purge_runs(interval, int) IS
  'Deletes finished runs (with their nodes, attempts, events, patches and logs) that finished longer ago than older_than, oldest first and at most max_runs of them (NULL: all); returns how many.';

-- Logs ------------------------------------------------------------------------------------------

-- A worker's log chunks, each with the claim it belongs to, in the order written. Chunks of a
-- claim no longer held (reported, orphaned, cancelled) are dropped: returns how many were.
CREATE FUNCTION adagio.append_logs(claim_tokens uuid[], chunks text[]) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  kept int;
BEGIN
  IF claim_tokens IS NULL OR chunks IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', CASE WHEN claim_tokens IS NULL THEN 'claim_tokens' ELSE 'chunks' END
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF cardinality(claim_tokens) <> cardinality(chunks) THEN
    RAISE EXCEPTION 'claim_tokens and chunks must have the same length, got % and %', cardinality(claim_tokens),
                    cardinality(chunks)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  WITH given AS (
    SELECT g.token, g.chunk, g.ord FROM unnest(claim_tokens, chunks) WITH ORDINALITY AS g(token, chunk, ord)
    WHERE g.token IS NOT NULL AND g.chunk IS NOT NULL AND g.chunk <> ''),
  kept_rows AS (
    INSERT INTO adagio.node_logs (run_id, node_id, attempt, text)
    SELECT n.run_id, n.id, n.attempt_count, g.chunk
    FROM given g JOIN adagio.nodes n ON n.id = adagio.claim_token_node(g.token) AND n.claim_token = g.token
    WHERE n.state = 'running'
    ORDER BY g.ord
    RETURNING 1)
  SELECT count(*) INTO kept FROM kept_rows;
  RETURN cardinality(chunks) - kept;
END
$$;
COMMENT ON FUNCTION adagio.append_logs(uuid[], text[]) IS
  'Appends what running nodes printed (a worker streams it); chunks of claims no longer held are dropped and counted.';

-- A run's logs after a given id, oldest first, with the node's name: for a follower, which passes
-- the last id it saw.
CREATE FUNCTION adagio.logs(run_id bigint, node text DEFAULT NULL, after_id bigint DEFAULT 0, max_chunks int DEFAULT 1000)
  RETURNS TABLE (id bigint, node text, attempt int, at timestamptz, text text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
  SELECT l.id, n.name, l.attempt, l.at, l.text
  FROM adagio.node_logs l JOIN adagio.nodes n ON n.id = l.node_id
  WHERE l.run_id = logs.run_id AND l.id > coalesce(logs.after_id, 0) AND (logs.node IS NULL OR n.name = logs.node)
  ORDER BY l.id
  LIMIT least(greatest(coalesce(logs.max_chunks, 1000), 1), 10000)
$$;
COMMENT ON FUNCTION adagio.logs(bigint, text, bigint, int) IS
  'A run''s (or one node''s) log chunks with an id above after_id, oldest first.';

-- Timeline --------------------------------------------------------------------------------------

CREATE FUNCTION adagio.events(after_id bigint DEFAULT 0, run_id bigint DEFAULT NULL, max_events int DEFAULT 1000)
  RETURNS TABLE (id bigint, run_id bigint, node text, kind text, agent_id bigint, attempt int,
                 detail jsonb, at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
  SELECT v.id, v.run_id, v.node, v.kind::text, v.agent_id, v.attempt, v.detail, v.at
  FROM adagio.events v
  WHERE v.id > coalesce(after_id, 0) AND (events.run_id IS NULL OR v.run_id = events.run_id)
  ORDER BY v.id
  LIMIT coalesce(max_events, 1000)  -- a negative one fails the LIMIT (2201W)
$$;
COMMENT ON FUNCTION adagio.events(bigint, bigint, int) IS
  'Events with an id above after_id, oldest first (all runs, or one): poll it with the last id seen to follow the log.';

CREATE FUNCTION adagio.timeline(run_id bigint)
  RETURNS TABLE (id bigint, node text, kind text, agent_id bigint, agent text, attempt int,
                 detail jsonb, at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
BEGIN
  IF timeline.run_id IS NULL THEN
    RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF NOT EXISTS (SELECT FROM adagio.runs r WHERE r.id = timeline.run_id) THEN
    RAISE EXCEPTION 'run % does not exist', timeline.run_id USING ERRCODE = 'undefined_object';
  END IF;
  RETURN QUERY
    SELECT v.id, v.node, v.kind::text, v.agent_id, a.name, v.attempt, v.detail, v.at
    FROM adagio.events v LEFT JOIN adagio.agents a ON a.id = v.agent_id
    WHERE v.run_id = timeline.run_id
    ORDER BY v.id;
END
$$;
COMMENT ON FUNCTION adagio.timeline(bigint) IS 'Everything that happened to one run, in order.';

-- Workflows -------------------------------------------------------------------------------------

CREATE FUNCTION adagio.define_workflow(name text, graph jsonb) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  canonical jsonb := adagio.validate_graph(graph);
  next_version int;
BEGIN
  IF name IS NULL THEN
    RAISE EXCEPTION 'workflow name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF name !~ '^[A-Za-z0-9_.:/-]{1,128}$' THEN
    RAISE EXCEPTION 'invalid workflow name "%"', name
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'use 1 to 128 letters, digits and _ . : / -';
  END IF;
  -- Serialise definitions of one name so versions are dense and unique.
  PERFORM pg_advisory_xact_lock(hashtext('adagio.workflow'), hashtext(name));
  SELECT coalesce(max(w.version), 0) + 1 INTO next_version FROM adagio.workflows w WHERE w.name = define_workflow.name;
  INSERT INTO adagio.workflows (name, version, graph) VALUES (define_workflow.name, next_version, canonical);
  RETURN next_version;
END
$$;
COMMENT ON FUNCTION adagio.define_workflow(text, jsonb) IS
  'Stores a validated graph as the next version of a named workflow; returns the version.';

CREATE FUNCTION adagio.list_workflows()
  RETURNS TABLE (name text, latest_version int, versions int, nodes int, created_at timestamptz,
                 updated_at timestamptz, runs bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
  SELECT w.name, max(w.version), count(*)::int,
         (SELECT jsonb_array_length(l.graph -> 'nodes') FROM adagio.workflows l
          WHERE l.name = w.name ORDER BY l.version DESC LIMIT 1),
         min(w.created_at), max(w.created_at),
         (SELECT count(*) FROM adagio.runs r WHERE r.workflow_name = w.name)
  FROM adagio.workflows w
  GROUP BY w.name
  ORDER BY w.name
$$;
COMMENT ON FUNCTION adagio.list_workflows() IS 'Stored workflows: newest version, how many versions, node count, runs started.';

-- Agents ----------------------------------------------------------------------------------------

CREATE FUNCTION adagio.register_agent(name text, runtimes text[], info jsonb DEFAULT '{}') RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  agent_id bigint;
BEGIN
  IF name IS NULL OR runtimes IS NULL THEN
    RAISE EXCEPTION 'agent % must not be NULL', CASE WHEN name IS NULL THEN 'name' ELSE 'runtimes' END
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF length(name) = 0 THEN
    RAISE EXCEPTION 'agent name must not be empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF cardinality(runtimes) = 0 THEN
    RAISE EXCEPTION 'agent "%" must offer at least one runtime', name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT FROM unnest(runtimes) r WHERE r IS NULL OR r !~ '^[A-Za-z0-9_.-]{1,48}$') THEN
    RAISE EXCEPTION 'agent "%": invalid runtime name in %', name, runtimes
      USING ERRCODE = 'invalid_parameter_value', HINT = 'runtime names are 1 to 48 of A-Z a-z 0-9 _ . -';
  END IF;
  IF runtimes && ARRAY['approval', 'timer'] THEN
    RAISE EXCEPTION 'agent "%": runtimes approval and timer are the engine''s own', name
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'approval nodes are gates that people decide with adagio.approve() and adagio.reject(), and timers '
                   'end by themselves; no worker runs them';
  END IF;
  INSERT INTO adagio.agents (name, runtimes, info)
  VALUES (name, runtimes, coalesce(info, '{}'))
  RETURNING id INTO agent_id;
  RETURN agent_id;
END
$$;
COMMENT ON FUNCTION adagio.register_agent(text, text[], jsonb) IS
  'Registers a worker process offering the given runtimes; returns its agent id.';

-- Why a call found no agent it may act as: none with that id (42704), or one another login
-- registered (42501): an agent is its registering login's, as claim() and complete_and_claim()
-- also check.
CREATE FUNCTION adagio.refuse_agent(agent_id bigint) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = adagio, pg_temp
  AS $$
DECLARE
  owner name;
BEGIN
  SELECT a.db_user INTO owner FROM adagio.agents a WHERE a.id = refuse_agent.agent_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'agent % is not registered', refuse_agent.agent_id USING ERRCODE = 'undefined_object',
      HINT = 'register with adagio.register_agent(name, runtimes) first';
  END IF;
  RAISE EXCEPTION 'agent % belongs to role "%"', refuse_agent.agent_id, owner
    USING ERRCODE = 'insufficient_privilege', HINT = 'a worker acts only as the agents its own login registered';
END
$$;

CREATE FUNCTION adagio.heartbeat(agent_id bigint, claim_tokens uuid[] DEFAULT '{}', lease interval DEFAULT NULL)
  RETURNS uuid[]
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  extended uuid[];
BEGIN
  IF heartbeat.agent_id IS NULL THEN
    RAISE EXCEPTION 'agent_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  -- The bounds of a claim's lease (claims.cpp).
  IF heartbeat.lease <= interval '0' OR heartbeat.lease > interval '1 day' THEN
    RAISE EXCEPTION 'lease must be positive and at most 1 day, got %', heartbeat.lease
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE adagio.agents a SET last_seen_at = now(), status = 'active'
  WHERE a.id = heartbeat.agent_id AND a.db_user = session_user;
  IF NOT FOUND THEN
    PERFORM adagio.refuse_agent(heartbeat.agent_id);
  END IF;
  WITH held AS (
    UPDATE adagio.nodes n
    -- Never past one lease after the node's timeout (least() skips the NULL of a node without
    -- one): a worker that does not stop the attempt then loses the claim to the sweeper.
    SET lease_expires_at = least(clock_timestamp(),
                                 n.claimed_at + make_interval(secs => (n.spec ->> 'timeout_seconds')::float8))
        + coalesce(make_interval(secs => (n.spec ->> 'lease_seconds')::float8), heartbeat.lease,
                   coalesce(current_setting('adagio.default_lease', true), '30s')::interval)
    -- By primary key, from the node ids the tokens name; then the whole token must match. A node
    -- holds a token only while running (a CHECK says so): a condition on state would let the
    -- plan read every running node through nodes_running_lease instead.
    WHERE n.id = ANY (ARRAY(SELECT adagio.claim_token_node(t) FROM unnest(heartbeat.claim_tokens) t))
      AND n.claim_token = ANY (heartbeat.claim_tokens) AND n.claimed_by = heartbeat.agent_id
    RETURNING n.claim_token)
  SELECT coalesce(array_agg(claim_token), '{}') INTO extended FROM held;
  -- The tokens the caller no longer holds: it must stop that work and not report it.
  RETURN ARRAY(SELECT t FROM unnest(claim_tokens) t WHERE t <> ALL (extended));
END
$$;
COMMENT ON FUNCTION adagio.heartbeat(bigint, uuid[], interval) IS
  'Extends the leases of the named claims; returns the tokens the agent no longer holds.';

CREATE FUNCTION adagio.deregister_agent(agent_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
BEGIN
  IF deregister_agent.agent_id IS NULL THEN
    RAISE EXCEPTION 'agent_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  UPDATE adagio.agents a SET status = 'stopped', last_seen_at = now()
  WHERE a.id = deregister_agent.agent_id AND a.db_user = session_user;
  IF NOT FOUND THEN
    PERFORM adagio.refuse_agent(deregister_agent.agent_id);
  END IF;
END
$$;
COMMENT ON FUNCTION adagio.deregister_agent(bigint) IS 'Marks an agent stopped (on clean exit).';

-- Introspection ---------------------------------------------------------------------------------

CREATE FUNCTION adagio.list_runs(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
                                 max_runs int DEFAULT 50, status text DEFAULT NULL)
  RETURNS TABLE (id bigint, workflow text, status text, conclusion text, nodes int,
                 nodes_remaining int, created_at timestamptz, started_at timestamptz,
                 finished_at timestamptz, start_at timestamptz, priority int, concurrency_key text,
                 concurrency_limit int)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
  -- An unknown status fails its cast (22P02, naming it), a negative max_runs the LIMIT (2201W);
  -- a NULL max_runs is no limit.
  SELECT r.id, r.workflow_name || coalesce(':' || r.workflow_version, ''), r.status::text, r.conclusion::text,
         r.node_count, r.nodes_remaining, r.created_at, r.started_at, r.finished_at, r.start_at, r.priority::int,
         r.concurrency_key, r.concurrency_limit
  FROM adagio.runs r
  WHERE (since IS NULL OR r.created_at >= since)
    AND (until IS NULL OR r.created_at < until)
    AND (list_runs.status IS NULL OR r.status = list_runs.status::adagio.run_status)
  ORDER BY r.created_at DESC, r.id DESC
  LIMIT max_runs
$$;
COMMENT ON FUNCTION adagio.list_runs(timestamptz, timestamptz, int, text) IS
  'Runs created in [since, until), newest first, at most max_runs, optionally of one status.';

CREATE FUNCTION adagio.inspect_run(run_id bigint) RETURNS jsonb
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
DECLARE
  doc jsonb;
BEGIN
  IF inspect_run.run_id IS NULL THEN
    RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  -- Edges come from the run's graph: expanded once here, not once per node.
  WITH edge AS (SELECT e.source, e.destination FROM adagio.edges e WHERE e.run_id = inspect_run.run_id),
  upstream AS (SELECT e.destination, jsonb_agg(e.source ORDER BY e.source) AS names FROM edge e GROUP BY e.destination)
  SELECT jsonb_build_object(
    'id', r.id, 'workflow', r.workflow_name, 'workflow_version', r.workflow_version,
    'status', r.status, 'conclusion', r.conclusion, 'inputs', r.inputs, 'idempotency_key', r.idempotency_key,
    'start_at', r.start_at, 'priority', r.priority, 'concurrency_key', r.concurrency_key,
    'concurrency_limit', r.concurrency_limit, 'queued_behind', adagio.concurrency_wait(r.id),
    'created_at', r.created_at, 'started_at', r.started_at, 'finished_at', r.finished_at,
    'duration_ms', round(extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at) * 1000),
    -- The graph's run timeout, and the deadline it gives the run until the sweep has passed it.
    'timeout_seconds', (SELECT (g.graph ->> 'timeout_seconds')::int FROM adagio.graphs g WHERE g.id = r.graph_id),
    'deadline_at', (SELECT d.deadline_at FROM adagio.run_deadlines d WHERE d.run_id = r.id),
    'nodes', (SELECT jsonb_agg(jsonb_build_object(
                'name', n.name, 'runtime', n.runtime, 'state', n.state, 'conclusion', n.conclusion,
                'metadata', n.spec -> 'metadata', 'retry', n.spec -> 'retry',
                'timeout_seconds', n.spec -> 'timeout_seconds',
                'inputs', n.inputs, 'output', n.output, 'attempt_count', n.attempt_count,
                -- Another attempt to come after one of this try failed (retry_run() starts a try).
                'retrying', n.state IN ('ready', 'scheduled') AND n.attempt_count > n.retry_base,
                'claimed_by', n.claimed_by, 'agent', (SELECT a.name FROM adagio.agents a WHERE a.id = n.claimed_by),
                'claimed_at', n.claimed_at, 'lease_expires_at', n.lease_expires_at,
                'ready_at', n.ready_at, 'finished_at', n.finished_at,
                'upstream', coalesce(u.names, '[]'::jsonb),
                'attempts', coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'attempt', t.attempt, 'conclusion', t.conclusion, 'output', t.output,
                    'reason', t.reason, 'agent_id', t.agent_id,
                    'agent', (SELECT a.name FROM adagio.agents a WHERE a.id = t.agent_id),
                    'ready_at', t.ready_at, 'started_at', t.started_at, 'finished_at', t.finished_at,
                    'queue_ms', round(extract(epoch FROM t.started_at - t.ready_at) * 1000),
                    'duration_ms', round(extract(epoch FROM t.finished_at - t.started_at) * 1000)) ORDER BY t.attempt)
                  FROM adagio.attempts t WHERE t.node_id = n.id), '[]'::jsonb))
                ORDER BY n.position)
              FROM adagio.nodes n LEFT JOIN upstream u ON u.destination = n.name WHERE n.run_id = r.id),
    'edges', coalesce((SELECT jsonb_agg(jsonb_build_object('source', e.source, 'destination', e.destination)
                               ORDER BY e.source, e.destination)
                       FROM edge e), '[]'::jsonb),
    'patches', coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('patch', p.number, 'nodes', p.nodes,
                                  'node', p.node, 'agent_id', p.agent_id, 'by', p.patched_by, 'at', p.at)) ORDER BY p.number)
                         FROM adagio.run_patches p WHERE p.run_id = r.id), '[]'::jsonb))
  INTO doc
  FROM adagio.runs r WHERE r.id = inspect_run.run_id;
  IF doc IS NULL THEN
    RAISE EXCEPTION 'run % does not exist', inspect_run.run_id USING ERRCODE = 'undefined_object';
  END IF;
  RETURN doc;
END
$$;
COMMENT ON FUNCTION adagio.inspect_run(bigint) IS
  'One run as a JSON document: nodes with states, inputs, outputs and attempts, and edges.';

CREATE FUNCTION adagio.list_agents()
  RETURNS TABLE (id bigint, name text, runtimes text[], status text, registered_at timestamptz,
                 last_seen_at timestamptz, running int, info jsonb)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
  SELECT a.id, a.name, a.runtimes, a.status::text, a.registered_at, a.last_seen_at,
         (SELECT count(*)::int FROM adagio.nodes n WHERE n.claimed_by = a.id AND n.state = 'running'),
         a.info
  FROM adagio.agents a
  ORDER BY a.last_seen_at DESC, a.id DESC
$$;
COMMENT ON FUNCTION adagio.list_agents() IS 'Agents with their runtimes, status, last contact and claims held.';

CREATE FUNCTION adagio.stats() RETURNS jsonb
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = adagio, pg_temp
  AS $$
  -- One scan of nodes for both their states and their conclusions.
  WITH n AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE state = 'waiting') AS waiting,
           count(*) FILTER (WHERE state = 'ready') AS ready,
           count(*) FILTER (WHERE state = 'ready' AND runtime = 'approval') AS gates_open,
           count(*) FILTER (WHERE state = 'ready' AND runtime = 'timer') AS timers_running,
           count(*) FILTER (WHERE state = 'scheduled') AS scheduled,
           count(*) FILTER (WHERE state = 'running') AS running,
           count(*) FILTER (WHERE state = 'completed') AS completed,
           count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
           count(*) FILTER (WHERE conclusion = 'success') AS success,
           count(*) FILTER (WHERE conclusion = 'fail') AS fail,
           count(*) FILTER (WHERE conclusion = 'error') AS error,
           count(*) FILTER (WHERE conclusion = 'never_reached') AS never_reached
    FROM adagio.nodes)
  SELECT jsonb_build_object(
    'runs', (SELECT jsonb_build_object(
               'total', count(*),
               'running', count(*) FILTER (WHERE status = 'running'),
               'completed', count(*) FILTER (WHERE status = 'completed'),
               'cancelled', count(*) FILTER (WHERE status = 'cancelled'),
               'succeeded', count(*) FILTER (WHERE conclusion = 'success'),
               'failed', count(*) FILTER (WHERE conclusion = 'failed'))
             FROM adagio.runs),
    'nodes', jsonb_build_object('total', n.total, 'waiting', n.waiting, 'ready', n.ready, 'scheduled', n.scheduled,
                                'running', n.running, 'completed', n.completed, 'cancelled', n.cancelled),
    'approval_gates_open', n.gates_open, 'timers_running', n.timers_running,
    'node_conclusions', jsonb_build_object('success', n.success, 'fail', n.fail, 'error', n.error,
                                           'never_reached', n.never_reached),
    'agents', (SELECT jsonb_build_object(
               'active', count(*) FILTER (WHERE status = 'active'),
               'total', count(*))
             FROM adagio.agents))
  FROM n
$$;
COMMENT ON FUNCTION adagio.stats() IS
  'Counts of runs by status, nodes by state, completed nodes by conclusion, open approval gates, running timers, and agents.';

-- Views for dashboards --------------------------------------------------------------------------

CREATE VIEW adagio.run_overview AS
  SELECT r.id, r.workflow_name, r.workflow_version, r.status, r.conclusion, r.node_count,
         r.node_count - r.nodes_remaining AS nodes_done, r.nodes_failed,
         r.created_at, r.started_at, r.finished_at, r.start_at, r.priority, r.concurrency_key,
         r.concurrency_limit, coalesce(r.finished_at, now()) - r.started_at AS elapsed
  FROM adagio.runs r;

CREATE VIEW adagio.node_overview AS
  SELECT n.run_id, n.name, n.runtime, n.state, n.conclusion, n.attempt_count,
         (n.state IN ('ready', 'scheduled') AND n.attempt_count > n.retry_base) AS retrying,
         a.name AS agent, n.claimed_at, n.lease_expires_at, n.ready_at, n.finished_at,
         left(n.output, 200) AS output_preview
  FROM adagio.nodes n LEFT JOIN adagio.agents a ON a.id = n.claimed_by;

CREATE VIEW adagio.node_state_counts AS
  SELECT state, conclusion, count(*) AS nodes FROM adagio.nodes GROUP BY state, conclusion;

CREATE VIEW adagio.agent_overview AS
  SELECT a.id, a.name, a.runtimes, a.status, a.last_seen_at, now() - a.last_seen_at AS silent_for,
         (SELECT count(*) FROM adagio.nodes n WHERE n.claimed_by = a.id AND n.state = 'running') AS running
  FROM adagio.agents a;

-- Privileges ------------------------------------------------------------------------------------
-- Nothing is open to PUBLIC; the three roles get exactly what they need. Writes go through the
-- SECURITY DEFINER functions above, never straight to the tables.
REVOKE ALL ON ALL TABLES IN SCHEMA adagio FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA adagio FROM PUBLIC;
GRANT USAGE ON SCHEMA adagio TO adagio_reader, adagio_worker, adagio_operator;
GRANT adagio_reader TO adagio_operator;

GRANT SELECT ON ALL TABLES IN SCHEMA adagio TO adagio_reader;
GRANT EXECUTE ON FUNCTION adagio.validate_graph(jsonb), adagio.claim_token_node(uuid), adagio.list_runs(timestamptz, timestamptz, int, text),
  adagio.inspect_run(bigint), adagio.list_agents(), adagio.stats(),
  adagio.events(bigint, bigint, int), adagio.timeline(bigint), adagio.list_workflows(),
  adagio.concurrency_wait(bigint), adagio.logs(bigint, text, bigint, int)
  TO adagio_reader, adagio_worker;

GRANT EXECUTE ON FUNCTION adagio.register_agent(text, text[], jsonb), adagio.claim(bigint, int, interval),
  adagio.complete(uuid, text, text), adagio.complete_many(uuid[], text[], text[]),
  adagio.complete_and_claim(bigint, int, uuid[], text[], text[], interval),
  adagio.heartbeat(bigint, uuid[], interval),
  adagio.deregister_agent(bigint), adagio.patch_run_from_node(uuid, jsonb), adagio.append_logs(uuid[], text[])
  TO adagio_worker;

GRANT EXECUTE ON FUNCTION adagio.start_run(jsonb, jsonb, text, timestamptz, int, text, int),
  adagio.start_workflow(text, jsonb, int, text, timestamptz, int, text, int),
  adagio.start_runs(text, jsonb[], int, text[], timestamptz, int, text, int),
  adagio.define_workflow(text, jsonb), adagio.cancel_run(bigint), adagio.retry_run(bigint, text[]),
  adagio.approve(bigint, text, text, int), adagio.reject(bigint, text, text, int),
  adagio.patch_run(bigint, jsonb), adagio.conclude_node(bigint, text, text, text)
  TO adagio_operator;
-- purge_runs() deletes history: like sweep(), for the owner or a pg_cron job unless granted.
-- sweep() is for the background worker (a superuser) or a pg_cron job; grant it explicitly if
-- another role should run it.
