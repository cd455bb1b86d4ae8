-- Every rejected graph gets a proper SQLSTATE and a message naming the bad part, and writes nothing.
BEGIN;
\ir helpers.psql
SELECT plan(18);

SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"},{"name":"c","runtime":"debug"}],"edges":[{"source":"a","destination":"b"},{"source":"b","destination":"c"},{"source":"c","destination":"a"}]}')$$,
  '22023', NULL, 'a cycle is rejected with invalid_parameter_value');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"},{"name":"c","runtime":"debug"}],"edges":[{"source":"a","destination":"b"},{"source":"b","destination":"c"},{"source":"c","destination":"a"}]}')$$,
  '%cycle%a -> b -> c -> a%', 'the cycle message names the nodes on it');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"}],"edges":[{"source":"a","destination":"a"}]}')$$,
  '%cycle%a -> a%', 'a self-loop is a cycle');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"}],"edges":[{"source":"a","destination":"ghost"}]}')$$,
  '%"ghost"%', 'an edge to an unknown node names that node');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"a","runtime":"exec"}]}')$$,
  '%duplicate node name "a"%', 'duplicate names are rejected');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"","runtime":"debug"}]}')$$,
  '%name%', 'an empty name is rejected');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a"}]}')$$,
  '%runtime%', 'a missing runtime is rejected');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug","retry":{"crash":{"max_attempts":2}}}]}')$$,
  '%unknown retry condition "crash"%', 'an unknown retry condition is rejected');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug","retry":{"error":{"max_attempts":0}}}]}')$$,
  '%max_attempts%0%', 'a non-positive max_attempts is rejected');
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug","retry":{"error":{"max_attempts":-1}}}]}')$$,
  '22023', NULL, 'with invalid_parameter_value');
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"a", "runtime":}]}')$$,
  '22P02', NULL, 'malformed JSON is rejected with invalid_text_representation');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[]}')$$, '%no nodes%', 'an empty graph is rejected');
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug","retry":{"error":{"max_attempts":3,"backoff":{"initial_delay_seconds":1e300,"max_delay_seconds":1e300}}}}]}')$$,
  '22023', 'invalid graph: node "a": retry "error": backoff: max_delay_seconds must be at most 31536000 (365 days), got 1e+300',
  'a backoff no timestamp can hold is rejected (it made every sweep fail once the retry came)');
SELECT throws_like($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug","retires":{}}]}')$$,
  '%unknown field "retires"%', 'a misspelt field is named');
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"}]}', '[1,2]')$$,
  '22023', 'run inputs must be a JSON object', 'run inputs must be an object');
SELECT throws_ok($$SELECT adagio.start_run(NULL)$$, '22004', 'graph must not be NULL', 'a NULL graph is rejected');

SELECT is((SELECT count(*) FROM adagio.runs) + (SELECT count(*) FROM adagio.nodes) + (SELECT count(*) FROM adagio.graphs),
  0::bigint, 'rejected graphs wrote nothing (no run, node or stored graph)');

SELECT throws_like($$SELECT adagio.validate_graph('{"nodes":[{"name":"a","runtime":"has space"}]}')$$,
  '%runtime%', 'validate_graph applies the same rules without starting anything');

SELECT * FROM finish();
ROLLBACK;
