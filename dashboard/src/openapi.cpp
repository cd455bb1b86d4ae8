// The OpenAPI 3 description of the API, served at /api/openapi.json.
#include "app.hpp"

namespace adagio::dashboard {

const std::string& openapi_document() {
  static const std::string document = Json::parse(R"JSON({
  "openapi": "3.0.3",
  "info": {
    "title": "adagio dashboard API",
    "version": "0.1.0",
    "description": "A JSON API over adagio's SQL API (docs/sql-api.md). Errors are {\"error\": message, \"status\": code} (plus \"sqlstate\" and \"hint\" when the database raised them): 400 bad parameter, graph or patch (22023, 22P02, 54000), 401/403 action not authorised, 404 unknown run/workflow (42704), 409 wrong state (55000) or not an approval gate (42809), 415 body not JSON, 503 database unavailable or the transaction rolled back by a deadlock or serialization failure (40P01, 40001; with Retry-After: send it again). State-changing calls (POST /api/runs, cancel, retry, patch, approve, reject) need the dashboard token as 'Authorization: Bearer <token>' or 'X-Adagio-Token', unless the dashboard runs with --allow-actions; without either they are disabled (403)."
  },
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer"},
      "header": {"type": "apiKey", "in": "header", "name": "X-Adagio-Token"}
    },
    "parameters": {
      "runId": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}}
    },
    "schemas": {
      "Error": {"type": "object", "required": ["error", "status"], "properties": {
        "error": {"type": "string"}, "status": {"type": "integer"}, "sqlstate": {"type": "string"}, "hint": {"type": "string"}}},
      "RunSummary": {"type": "object", "properties": {
        "id": {"type": "integer"}, "workflow": {"type": "string", "nullable": true}, "workflow_version": {"type": "integer", "nullable": true},
        "status": {"type": "string", "enum": ["running", "completed", "cancelled"]},
        "conclusion": {"type": "string", "enum": ["success", "failed"], "nullable": true},
        "nodes": {"type": "integer"}, "nodes_done": {"type": "integer"}, "nodes_failed": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"}, "started_at": {"type": "string", "format": "date-time", "nullable": true},
        "finished_at": {"type": "string", "format": "date-time", "nullable": true}, "created_by": {"type": "string"},
        "start_at": {"type": "string", "format": "date-time", "nullable": true, "description": "set when the run was started for later: its first nodes wait until then"},
        "priority": {"type": "integer", "description": "higher runs first (default 0)"},
        "concurrency_key": {"type": "string", "nullable": true, "description": "runs of one key run one at a time, in the order started"},
        "concurrency_limit": {"type": "integer", "nullable": true},
        "queued_behind": {"type": "integer", "description": "runs of its key that must end before it may start (0: it may run)"}}},
      "Attempt": {"type": "object", "properties": {
        "attempt": {"type": "integer"}, "conclusion": {"type": "string", "enum": ["success", "fail", "error"]},
        "output": {"type": "string", "nullable": true}, "reason": {"type": "string", "nullable": true},
        "agent_id": {"type": "integer", "nullable": true}, "agent": {"type": "string", "nullable": true},
        "ready_at": {"type": "string", "format": "date-time", "nullable": true},
        "started_at": {"type": "string", "format": "date-time"}, "finished_at": {"type": "string", "format": "date-time"}}},
      "Node": {"type": "object", "properties": {
        "name": {"type": "string"}, "runtime": {"type": "string"},
        "state": {"type": "string", "enum": ["waiting", "ready", "scheduled", "running", "completed", "cancelled"]},
        "conclusion": {"type": "string", "enum": ["success", "fail", "error", "never_reached"], "nullable": true},
        "retrying": {"type": "boolean", "description": "ready or scheduled again after a failed attempt"},
        "spec": {"type": "object"}, "metadata": {"type": "object"}, "retry": {"type": "object", "nullable": true},
        "inputs": {"type": "object"}, "output": {"type": "string", "nullable": true}, "attempt_count": {"type": "integer"},
        "agent": {"type": "string", "nullable": true}, "claimed_at": {"type": "string", "nullable": true},
        "ready_at": {"type": "string", "nullable": true}, "finished_at": {"type": "string", "nullable": true},
        "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}}}},
      "Run": {"type": "object", "properties": {
        "id": {"type": "integer"}, "workflow": {"type": "string", "nullable": true}, "workflow_version": {"type": "integer", "nullable": true},
        "status": {"type": "string"}, "conclusion": {"type": "string", "nullable": true}, "inputs": {"type": "object"},
        "idempotency_key": {"type": "string", "nullable": true},
        "start_at": {"type": "string", "format": "date-time", "nullable": true, "description": "set when the run was started for later: its first nodes wait until then"},
        "priority": {"type": "integer", "description": "higher runs first (default 0)"},
        "concurrency_key": {"type": "string", "nullable": true, "description": "runs of one key run one at a time, in the order started"},
        "concurrency_limit": {"type": "integer", "nullable": true},
        "queued_behind": {"type": "integer", "description": "runs of its key that must end before it may start (0: it may run)"},
        "created_at": {"type": "string"}, "started_at": {"type": "string", "nullable": true}, "finished_at": {"type": "string", "nullable": true},
        "nodes": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        "edges": {"type": "array", "items": {"type": "object", "properties": {"source": {"type": "string"}, "destination": {"type": "string"}}}},
        "patches": {"type": "array", "description": "nodes added while the run ran (adagio.patch_run()), in order", "items": {"type": "object", "properties": {
          "patch": {"type": "integer"}, "nodes": {"type": "array", "items": {"type": "string"}}, "node": {"type": "string", "description": "the node whose function sent it, if one did"},
          "agent_id": {"type": "integer"}, "by": {"type": "string"}, "at": {"type": "string"}}}}}},
      "Event": {"type": "object", "properties": {
        "id": {"type": "integer"}, "run_id": {"type": "integer"}, "node": {"type": "string", "nullable": true},
        "kind": {"type": "string", "enum": ["run_started", "node_ready", "node_claimed", "attempt_finished", "node_retried", "node_orphaned", "node_never_reached", "run_completed", "run_cancelled", "run_retried", "node_decided", "run_patched", "node_concluded"]},
        "agent_id": {"type": "integer", "nullable": true}, "agent": {"type": "string", "nullable": true},
        "attempt": {"type": "integer", "nullable": true}, "detail": {"type": "object", "nullable": true}, "at": {"type": "string"}}}
    },
    "responses": {
      "BadRequest": {"description": "invalid parameter or body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "no such run", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Conflict": {"description": "the run is not in a state that allows this", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "missing or wrong token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Forbidden": {"description": "actions are disabled (no --token, no --allow-actions)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "paths": {
    "/api/config": {"get": {"summary": "How the dashboard is configured: whether actions are disabled, open or need the token",
      "responses": {"200": {"description": "configuration", "content": {"application/json": {"schema": {"type": "object", "properties": {
        "actions": {"type": "string", "enum": ["disabled", "open", "token"]}, "version": {"type": "string"}}}}}}}}},
    "/api/stats": {"get": {"summary": "Counts of runs by status, nodes by state (and completed nodes by conclusion, retrying nodes) and agents (stats())",
      "responses": {"200": {"description": "counts", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/api/runs": {
      "get": {"summary": "Runs, newest first, filtered and paged",
        "parameters": [
          {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["running", "completed", "cancelled"]}},
          {"name": "conclusion", "in": "query", "schema": {"type": "string", "enum": ["success", "failed"]}},
          {"name": "workflow", "in": "query", "schema": {"type": "string"}, "description": "stored workflow name"},
          {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}, "description": "created at or after (ISO 8601)"},
          {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}, "description": "created before (ISO 8601)"},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
          {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}}],
        "responses": {
          "200": {"description": "one page", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "total": {"type": "integer", "description": "runs matching the filters"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
            "runs": {"type": "array", "items": {"$ref": "#/components/schemas/RunSummary"}}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}}},
      "post": {"summary": "Start a run of a graph (start_run) or of a stored workflow (start_workflow)",
        "security": [{"bearer": []}, {"header": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {
          "graph": {"type": "object", "description": "a GraphSpec (docs/sql-api.md); or"},
          "workflow": {"type": "string", "description": "a stored workflow's name"},
          "version": {"type": "integer", "minimum": 1, "description": "with workflow: the version (default: the newest)"},
          "inputs": {"type": "object", "description": "run inputs (default {})"},
          "idempotency_key": {"type": "string", "minLength": 1, "description": "1 to 255 bytes: a retry with the same key, graph and inputs gets the first run's id and starts nothing; with others it is a 400"},
          "start_at": {"type": "string", "format": "date-time", "description": "start the run later: its first nodes become ready at this time (the sweeper's next pass after it); a time already past starts it at once"},
          "priority": {"type": "integer", "minimum": -1000, "maximum": 1000, "default": 0, "description": "the run's place in the queue: workers claim the ready nodes of higher-priority runs first"},
          "concurrency_key": {"type": "string", "minLength": 1, "description": "1 to 255 bytes: runs of the key go at most concurrency_limit at a time, in the order started"},
          "concurrency_limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1, "description": "with concurrency_key: how many runs of the key may go at a time"}}}}}},
        "responses": {
          "201": {"description": "started", "headers": {"Location": {"schema": {"type": "string"}}},
                  "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/runs/{id}": {"get": {"summary": "One run: nodes with state, conclusion, spec, inputs, output and attempts; edges (inspect_run)",
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "responses": {"200": {"description": "the run", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/runs/{id}/timeline": {"get": {"summary": "Everything that happened to the run, in order (timeline)",
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "responses": {"200": {"description": "events", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/runs/{id}/logs": {"get": {"summary": "What the run's nodes printed while they ran, oldest first (logs()): id, node, attempt, at, text",
      "parameters": [{"$ref": "#/components/parameters/runId"},
        {"name": "node", "in": "query", "schema": {"type": "string"}, "description": "only this node's"},
        {"name": "after", "in": "query", "schema": {"type": "integer"}, "description": "only chunks with an id above this one (a follower passes the last it saw)"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 1000, "maximum": 10000}}],
      "responses": {"200": {"description": "log chunks", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}}}},
    "/api/runs/{id}/cancel": {"post": {"summary": "Cancel a running run (cancel_run)", "security": [{"bearer": []}, {"header": []}],
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "responses": {"200": {"description": "{run_id, nodes_cancelled, attempts_stopped}"},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
        "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/runs/{id}/retry": {"post": {"summary": "Restart a failed or cancelled run from the nodes that did not succeed, and from the nodes in `from` (retry_run)", "security": [{"bearer": []}, {"header": []}],
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
        "properties": {"from": {"type": "array", "items": {"type": "string"}, "description": "nodes to run again although they succeeded, with everything downstream of them; then a run that succeeded may be retried too"}}}}}},
      "responses": {"200": {"description": "{run_id, nodes_reset, nodes_ready}"},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
        "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/runs/{id}/patch": {"post": {"summary": "Add nodes, and edges that end at them, to a running run (patch_run)", "security": [{"bearer": []}, {"header": []}],
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["patch"], "additionalProperties": false,
        "properties": {"patch": {"description": "a GraphPatch ({nodes, edges}) or an array of JSON Patch operations (add at /nodes/- and /edges/-)"}}}}}},
      "responses": {"200": {"description": "{run_id, patch, nodes, already_applied}"},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
        "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/runs/{id}/approve": {"post": {"summary": "Approve an open approval gate of the run: it succeeds and its output flows downstream (approve)", "security": [{"bearer": []}, {"header": []}],
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["node"], "additionalProperties": false,
        "properties": {"node": {"type": "string"}, "output": {"type": "string", "description": "passed to the nodes downstream as the gate's output"},
          "attempt": {"type": "integer", "description": "the attempt the client saw open (open_gates.attempt): a 409 if the gate was decided and opened again since"}}}}}},
      "responses": {"200": {"description": "{run_id, node, conclusion, outcome, run_status, run_conclusion}"},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
        "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/runs/{id}/reject": {"post": {"summary": "Reject an open approval gate of the run: a fail attempt; its retry policy decides whether it opens again (reject)", "security": [{"bearer": []}, {"header": []}],
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["node"], "additionalProperties": false,
        "properties": {"node": {"type": "string"}, "reason": {"type": "string", "description": "kept as the attempt's output"},
          "attempt": {"type": "integer", "description": "the attempt the client saw open: a 409 if the gate was decided and opened again since"}}}}}},
      "responses": {"200": {"description": "{run_id, node, conclusion, outcome, run_status, run_conclusion, retry_at}"},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
        "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/gates": {"get": {"summary": "Open approval gates, oldest first (open_gates): run_id, node, workflow_name, opened_at, deadline, attempt, metadata, inputs",
      "responses": {"200": {"description": "gates", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}}},
    "/api/events": {"get": {"summary": "Follow the event log: events with an id above `after`, oldest first (events())",
      "parameters": [
        {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "run", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}}],
      "responses": {"200": {"description": "events", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}}}},
    "/api/agents": {"get": {"summary": "Agents (worker processes), most recently seen first (list_agents)",
      "parameters": [{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["active", "stopped", "gone"]}}],
      "responses": {"200": {"description": "agents", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}}}},
    "/api/workflows": {"get": {"summary": "Stored workflows (list_workflows)",
      "responses": {"200": {"description": "workflows", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}}},
    "/api/workflows/{name}": {"get": {"summary": "One stored workflow's graph (the newest version, or `version`)",
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
                     {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
      "responses": {"200": {"description": "{name, version, graph, created_at, created_by}"},
        "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/validate": {"post": {"summary": "Validate a graph without starting it; returns the canonical form (validate_graph)",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"graph": {"type": "object"}}}}}},
      "responses": {"200": {"description": "{graph: canonical GraphSpec}"}, "400": {"$ref": "#/components/responses/BadRequest"}}}},
    "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3 document"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics: runs and nodes by state, claims, completions, orphaned claims, queue wait, agents",
      "responses": {"200": {"description": "Prometheus text exposition format", "content": {"text/plain": {}}}}}},
    "/api/live": {"get": {"summary": "Server-sent events: 'changed' {runs: [ids]} when runs' timelines grow (only run's with ?run=), 'resync' when changes may have been missed",
      "parameters": [{"name": "run", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
      "responses": {"200": {"description": "an event stream", "content": {"text/event-stream": {}}},
                    "400": {"$ref": "#/components/responses/BadRequest"}, "503": {"description": "too many streams open"}}}},
    "/healthz": {"get": {"summary": "200 when the database answers", "responses": {"200": {"description": "{ok: true}"}, "503": {"description": "database unavailable"}}}}
  }
})JSON").dump(2);
  return document;
}

}  // namespace adagio::dashboard
