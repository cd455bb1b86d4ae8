# Patches with real workers: a node's function adds nodes to its own run (here the debug runtime's
# "patch" metadata: a fan-out of three parts and a join; then an exec program that writes its patch
# to $ADAGIO_PATCH_FILE), the worker applies the patch before it reports the success, and the added
# nodes run on whichever worker claims them. A patch the engine refuses turns the attempt into an
# error that names why.
source "$(dirname "$0")/lib.sh"

start_worker patcher-1 --runtimes debug,exec --poll-interval 0.2 --concurrency 2
start_worker patcher-2 --runtimes debug,exec --poll-interval 0.2 --concurrency 2

fan_out='{"nodes":[{"name":"part-1","runtime":"debug","metadata":{"output":"p1","sleep":"200ms"}},
                   {"name":"part-2","runtime":"debug","metadata":{"output":"p2","sleep":"200ms"}},
                   {"name":"part-3","runtime":"debug","metadata":{"output":"p3","sleep":"200ms"}},
                   {"name":"join","runtime":"debug","metadata":{"output":"joined"}}],
          "edges":[{"source":"split","destination":"part-1"},{"source":"split","destination":"part-2"},
                   {"source":"split","destination":"part-3"},{"source":"part-1","destination":"join"},
                   {"source":"part-2","destination":"join"},{"source":"part-3","destination":"join"}]}'
# The patch travels as the text of split's "patch" metadata value.
run=$(sql -v patch="$fan_out" <<'SQL'
SELECT adagio.start_run(jsonb_build_object(
  'nodes', jsonb_build_array(
    jsonb_build_object('name', 'fetch', 'runtime', 'debug', 'metadata', jsonb_build_object('output', 'items')),
    jsonb_build_object('name', 'split', 'runtime', 'debug',
                       'metadata', jsonb_build_object('output', 'three parts', 'patch', (:'patch')::jsonb::text))),
  'edges', jsonb_build_array(jsonb_build_object('source', 'fetch', 'destination', 'split'))))
SQL
)
expect_eq "$(wait_run "$run" 30)" success "the run with a fan-out added by its split node succeeded"
expect_eq "$(sql -c "SELECT string_agg(name || '=' || conclusion, ' ' ORDER BY position) FROM adagio.nodes WHERE run_id = $run")" \
  "fetch=success split=success part-1=success part-2=success part-3=success join=success" "every added node ran"
expect_eq "$(sql -c "SELECT inputs FROM adagio.nodes WHERE run_id = $run AND name = 'join'")" \
  '{"part-1": "p1", "part-2": "p2", "part-3": "p3"}' "the join got every part's output"
expect_eq "$(sql -c "SELECT inputs ->> 'split' FROM adagio.nodes WHERE run_id = $run AND name = 'part-2'")" \
  "three parts" "each part got split's output"
expect_eq "$(sql -c "SELECT number || ' ' || node FROM adagio.run_patches WHERE run_id = $run")" "1 split" \
  "run_patches names the patch and the node that sent it"
expect_eq "$(sql -c "SELECT (SELECT id FROM adagio.events WHERE run_id = $run AND kind = 'run_patched')
                          < (SELECT id FROM adagio.events WHERE run_id = $run AND kind = 'attempt_finished' AND node = 'split')")" t \
  "the patch was applied before split's success was reported"

# An exec program's patch: a shell script that finds two items and writes a node per item, and
# an edge from itself to each, to $ADAGIO_PATCH_FILE. The file's directory is gone afterwards.
script='for item in red blue; do nodes="$nodes${nodes:+,}{\"name\":\"paint-$item\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"sh\",\"args\":[\"-c\",\"echo $item from \$ADAGIO_INPUT_plan\"]}}"; edges="$edges${edges:+,}{\"source\":\"plan\",\"destination\":\"paint-$item\"}"; done
printf "{\"nodes\":[%s],\"edges\":[%s]}" "$nodes" "$edges" > "$ADAGIO_PATCH_FILE"
echo "$ADAGIO_PATCH_FILE"'
run=$(sql -v script="$script" <<'SQL'
SELECT adagio.start_run(jsonb_build_object('nodes', jsonb_build_array(
  jsonb_build_object('name', 'plan', 'runtime', 'exec',
                     'metadata', jsonb_build_object('command', 'sh', 'args', jsonb_build_array('-c', :'script'))))))
SQL
)
expect_eq "$(wait_run "$run" 30)" success "the run with nodes added by an exec program succeeded"
patch_file=$(sql -c "SELECT output FROM adagio.nodes WHERE run_id = $run AND name = 'plan'")
expect_eq "$(sql -c "SELECT string_agg(name || '=' || output, ' ' ORDER BY position) FROM adagio.nodes WHERE run_id = $run AND name <> 'plan'")" \
  "paint-red=red from $patch_file paint-blue=blue from $patch_file" "each added node ran with plan's output as its input"
case "$patch_file" in
  */patch.json) [ ! -e "$(dirname "$patch_file")" ] && pass "the patch file's directory was removed ($patch_file)" \
                  || fail "the patch file's directory is still there: $patch_file" ;;
  *) fail "plan's output should be its patch file's path: $patch_file" ;;
esac

# A refused patch: an edge into a node the run already has.
bad='{"nodes":[{"name":"x","runtime":"debug"}],"edges":[{"source":"x","destination":"after"}]}'
run=$(sql -v patch="$bad" <<'SQL'
SELECT adagio.start_run(jsonb_build_object(
  'nodes', jsonb_build_array(
    jsonb_build_object('name', 'patcher', 'runtime', 'debug', 'metadata', jsonb_build_object('patch', :'patch')),
    jsonb_build_object('name', 'after', 'runtime', 'debug')),
  'edges', jsonb_build_array(jsonb_build_object('source', 'patcher', 'destination', 'after'))))
SQL
)
expect_eq "$(wait_run "$run" 30)" failed "a run whose node sends a refused patch fails (no retry)"
output=$(sql -c "SELECT a.output FROM adagio.attempts a JOIN adagio.nodes n ON n.id = a.node_id WHERE n.run_id = $run AND n.name = 'patcher'")
case "$output" in
  "worker: patch not applied: invalid patch: edges[0] x -> after: destination \"after\" is already in the run"*) pass "the attempt is an error naming why: $output" ;;
  *) fail "unexpected attempt output: $output" ;;
esac
expect_eq "$(sql -c "SELECT count(*) FROM adagio.nodes WHERE run_id = $run")" 2 "and nothing was added"

# An operator's patch from the CLI, in the JSON Patch form: a node after an approval gate that is still open (a gate, so
# that the run cannot finish before the patch however slow the machine is), then the gate is
# approved and the added node runs on a worker with the gate's output.
adagio="$root/build/cli/adagio"
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"hold\",\"runtime\":\"approval\"}]}')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'hold'" ready
echo '[{"op":"add","path":"/nodes/-","value":{"name":"notify","runtime":"debug","metadata":{"output":"sent"}}},
       {"op":"add","path":"/edges/-","value":{"source":"hold","destination":"notify"}}]' \
  | "$adagio" run patch "$run" - >"$artifacts/patch-out"
expect_eq "$(cat "$artifacts/patch-out")" "run $run patched (patch 1): added notify" "adagio run patch adds a node after the open gate"
"$adagio" gate approve "$run" hold --output go >/dev/null
expect_eq "$(wait_run "$run" 30)" success "the run finished with it"
expect_eq "$(sql -c "SELECT state || ' ' || (inputs ->> 'hold') FROM adagio.nodes WHERE run_id = $run AND name = 'notify'")" \
  "completed go" "the added node ran after the gate, with its output"
"$adagio" --color never run show "$run" >"$artifacts/show-patched"
grep -Eq '^1 +notify +an operator +[^ ]+ +20' "$artifacts/show-patched" \
  && pass "adagio run show lists the patch" || fail "adagio run show should list the patch: $(cat "$artifacts/show-patched")"
set +e
echo '{"nodes":[{"name":"late","runtime":"debug"}]}' | "$adagio" run patch "$run" - 2>"$artifacts/patch-err"
code=$?
set -e
expect_eq "$code" 5 "patching a finished run exits 5 (wrong state)"
grep -q "run $run is completed" "$artifacts/patch-err" || fail "the refusal should say the run is completed: $(cat "$artifacts/patch-err")"
pass "and says why"
