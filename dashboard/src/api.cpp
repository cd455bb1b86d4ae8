// The JSON API under /api: thin handlers over the SQL API (docs/sql-api.md). Reads run in
// read-only transactions; every parameter is validated before it reaches SQL.
#include <algorithm>
#include <iostream>
#include <limits>
#include <optional>

#include "app.hpp"

#include <adagio/worker/sqlstate.hpp>

namespace adagio::dashboard {
namespace {

const std::vector<std::string> run_statuses = {"running", "completed", "cancelled"};
const std::vector<std::string> run_conclusions = {"success", "failed"};
const std::vector<std::string> agent_statuses = {"active", "stopped", "gone"};

// The first line of a server error without its "ERROR:  " prefix, plus its HINT if any: the
// messages adagio raises are written for people, the rest of the text (query, context) is not.
std::pair<std::string, std::string> server_message(const std::exception& e) {
  std::string text = e.what();
  std::string hint;
  if (auto h = text.find("\nHINT:  "); h != std::string::npos) {
    hint = text.substr(h + 8);
    hint = hint.substr(0, hint.find('\n'));
  }
  text = text.substr(0, text.find('\n'));
  if (text.rfind("ERROR:  ", 0) == 0) text = text.substr(8);
  return {text, hint};
}

int status_for_sqlstate(const std::string& state) {
  if (state == "22023" || state == "22P02" || state == "22004" || state == "22007" || state == "22008") return 400;
  if (state == "42704") return 404;
  if (state == "55000" || state == "42809") return 409;  // wrong state; not an approval gate
  if (state == "42501") return 403;  // the dashboard's database role lacks adagio_operator
  if (state == "54000") return 400;  // a patch beyond a bound (per patch, per run)
  return 0;  // unexpected
}

}  // namespace

void send_json(httplib::Response& res, const Json& body, int status) {
  res.status = status;
  // Replace invalid UTF-8 (possible in outputs stored in a SQL_ASCII database) instead of throwing.
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, Json{{"error", message}, {"status", status}}, status);
}

Handler guarded(Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const HttpError& e) {
      send_error(res, e.status(), e.what());
    } catch (const pqxx::sql_error& e) {
      const std::string state = sqlstate_of(e);
      const int status = status_for_sqlstate(state);
      if (status != 0) {
        auto [message, hint] = server_message(e);
        if (state == "42501" && hint.empty())
          hint = "the dashboard's database role needs adagio_reader to look and adagio_operator to act";
        Json body{{"error", message}, {"status", status}, {"sqlstate", state}};
        if (!hint.empty()) body["hint"] = hint;
        send_json(res, body, status);
      } else {
        std::cerr << "adagio-dashboard: internal error: " << req.method << " " << req.path << ": SQL error " << state << ": "
                  << e.what() << " (query: " << e.query() << ")" << std::endl;
        send_error(res, 500, "internal error (logged by the dashboard)");
      }
    } catch (const pqxx::transaction_rollback& e) {
      // A deadlock or serialization failure rolled the request's transaction back: nothing was
      // changed, and the same request will most likely pass if sent again.
      const std::string state = sqlstate_of(e);
      Json body{{"error", server_message(e).first}, {"status", 503}, {"sqlstate", state}};
      body["hint"] = state == "40003" ? "the database cannot say whether the request took effect: look before sending it again"
                                      : "the database rolled the request back and changed nothing: send it again";
      res.set_header("Retry-After", "1");
      send_json(res, body, 503);
    } catch (const DatabaseUnavailable& e) {
      send_error(res, 503, std::string("database unavailable: ") + e.what());
    } catch (const pqxx::broken_connection& e) {
      std::cerr << "adagio-dashboard: " << req.method << " " << req.path << ": connection lost: " << e.what() << std::endl;
      send_error(res, 503, "database unavailable: the connection was lost");
    } catch (const std::exception& e) {
      std::cerr << "adagio-dashboard: internal error: " << req.method << " " << req.path << ": " << e.what() << std::endl;
      send_error(res, 500, "internal error (logged by the dashboard)");
    }
  };
}

namespace {

// Runs one read-only query returning a single JSON value (as text) and parses it.
template <typename... Params>
Json query_json(App& app, const std::string& sql, const Params&... params) {
  return with_db_read(app, [&](pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    pqxx::result r = tx.exec_params(sql, params...);
    tx.commit();
    if (r.empty() || r[0][0].is_null()) return Json();
    return Json::parse(r[0][0].c_str());
  });
}

// Runs one state-changing statement (its own transaction) returning a single JSON value.
template <typename... Params>
Json write_json(App& app, const std::string& sql, const Params&... params) {
  return with_db(app, [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    pqxx::result r = tx.exec_params(sql, params...);
    tx.commit();
    if (r.empty() || r[0][0].is_null()) return Json();
    return Json::parse(r[0][0].c_str());
  });
}

// State-changing calls need the token, or the explicit --allow-actions flag. They must also be
// JSON: a cross-site form cannot send that without a CORS preflight, which this server refuses.
void authorize_action(const App& app, const httplib::Request& req) {
  const auto content_type = req.get_header_value("Content-Type");
  if (content_type.rfind("application/json", 0) != 0)
    throw HttpError(415, "state-changing calls take a JSON body (Content-Type: application/json)");
  const std::string& token = app.options.token;
  if (token.empty()) {
    if (app.options.allow_unauthenticated_actions) return;
    throw HttpError(403, "actions are disabled: start the dashboard with --token or --allow-actions");
  }
  std::string given = req.get_header_value("X-Adagio-Token");
  const auto auth = req.get_header_value("Authorization");
  if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
  if (given.empty()) throw HttpError(401, "this action needs the dashboard token (Authorization: Bearer <token>)");
  // Compare in constant time so the token cannot be guessed byte by byte from response times.
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ token[i % token.size()]);
  if (diff != 0) throw HttpError(401, "wrong dashboard token");
}

Json parse_body(const httplib::Request& req) {
  Json body;
  try {
    body = Json::parse(req.body.empty() ? std::string("{}") : req.body);
  } catch (const Json::parse_error& e) {
    // what() starts with nlohmann's "[json.exception.parse_error.101] ": noise for a person.
    std::string why = e.what();
    if (auto end = why.find("] "); why.rfind("[json.exception", 0) == 0 && end != std::string::npos) why = why.substr(end + 2);
    throw bad_request("malformed JSON body: " + why);
  }
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  return body;
}

void expect_fields(const Json& body, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : body.items()) {
    const bool ok = std::any_of(known.begin(), known.end(), [&](const char* k) { return key == k; });
    if (!ok) throw bad_request("unknown field " + shown(key) + " in the body");
  }
}

std::int64_t run_id_of(const httplib::Request& req) { return parse_id(req.matches[1], "run id"); }

void get_runs(App& app, const httplib::Request& req, httplib::Response& res) {
  expect_only(req, {"status", "conclusion", "workflow", "since", "until", "limit", "offset"});
  const auto status = choice_param(req, "status", run_statuses);
  const auto conclusion = choice_param(req, "conclusion", run_conclusions);
  const auto workflow = text_param(req, "workflow");
  const auto since = timestamp_param(req, "since");
  const auto until = timestamp_param(req, "until");
  const auto limit = int_param(req, "limit", 1, 500).value_or(50);
  const auto offset = int_param(req, "offset", 0, 1'000'000'000).value_or(0);
  // Straight from the table rather than list_runs(): it has no offset, and paging by created_at
  // alone would skip runs created in the same instant.
  static const std::string sql = R"SQL(
    WITH matching AS (
      SELECT r.id, r.workflow_name AS workflow, r.workflow_version, r.status, r.conclusion,
             r.node_count AS nodes, r.node_count - r.nodes_remaining AS nodes_done, r.nodes_failed,
             r.created_at, r.started_at, r.finished_at, r.created_by, r.start_at, r.priority,
             r.concurrency_key, r.concurrency_limit
      FROM adagio.runs r
      WHERE (nullif($1, '') IS NULL OR r.status::text = $1)
        AND (nullif($2, '') IS NULL OR r.conclusion::text = $2)
        AND (nullif($3, '') IS NULL OR r.workflow_name = $3)
        AND (nullif($4, '') IS NULL OR r.created_at >= nullif($4, '')::timestamptz)
        AND (nullif($5, '') IS NULL OR r.created_at < nullif($5, '')::timestamptz))
    SELECT jsonb_build_object(
      'total', (SELECT count(*) FROM matching),
      'runs', coalesce((SELECT jsonb_agg(to_jsonb(p) ORDER BY p.created_at DESC, p.id DESC)
                        FROM (SELECT m.*, adagio.concurrency_wait(m.id) AS queued_behind
                              FROM (SELECT * FROM matching ORDER BY created_at DESC, id DESC
                                    LIMIT $6::bigint OFFSET $7::bigint) m) p), '[]'::jsonb))::text)SQL";
  Json page = with_db_read(app, [&](pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params(sql, status.value_or(""), conclusion.value_or(""), workflow.value_or(""), since.value_or(""),
                            until.value_or(""), std::to_string(limit), std::to_string(offset));
    return Json::parse(r[0][0].c_str());
  });
  page["limit"] = limit;
  page["offset"] = offset;
  send_json(res, page);
}

void get_run(App& app, const httplib::Request& req, httplib::Response& res) {
  expect_only(req, {});
  const auto id = std::to_string(run_id_of(req));
  // inspect_run() plus what a person looking at a node wants and it leaves out: the spec as given,
  // the agents' names and when each attempt became claimable (its queue wait).
  static const std::string sql = R"SQL(
    SELECT adagio.inspect_run($1::bigint)::text,
      (SELECT coalesce(jsonb_object_agg(n.name, jsonb_build_object(
                'spec', n.spec, 'agent', a.name, 'claimed_at', n.claimed_at,
                'attempts', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'attempt', t.attempt, 'ready_at', t.ready_at, 'agent', ta.name) ORDER BY t.attempt), '[]')
                             FROM adagio.attempts t LEFT JOIN adagio.agents ta ON ta.id = t.agent_id
                             WHERE t.node_id = n.id))), '{}')::text
       FROM adagio.nodes n LEFT JOIN adagio.agents a ON a.id = n.claimed_by
       WHERE n.run_id = $1::bigint))SQL";
  Json run = with_db_read(app, [&](pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params(sql, id);
    Json doc = Json::parse(r[0][0].c_str());
    const Json extra = Json::parse(r[0][1].c_str());
    if (!doc["nodes"].is_array()) doc["nodes"] = Json::array();
    for (auto& node : doc["nodes"]) {
      const auto found = extra.find(node["name"].get<std::string>());
      if (found == extra.end()) continue;
      node["spec"] = (*found)["spec"];
      node["agent"] = (*found)["agent"];
      node["claimed_at"] = (*found)["claimed_at"];
      const auto& more = (*found)["attempts"];
      for (std::size_t i = 0; i < node["attempts"].size() && i < more.size(); ++i) {
        node["attempts"][i]["ready_at"] = more[i]["ready_at"];
        node["attempts"][i]["agent"] = more[i]["agent"];
      }
    }
    return doc;
  });
  send_json(res, run);
}

// A field of a request body that may be absent or null (nullopt), else must be a string.
std::optional<std::string> optional_string_field(const Json& body, const char* name, const char* what) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  if (!body[name].is_string()) throw bad_request("\"" + std::string(name) + "\" must be " + what);
  return body[name].get<std::string>();
}

// The same for an integer (of SQL's int range), as its text.
std::optional<std::string> optional_int_field(const Json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  const Json& value = body[name];
  if (!value.is_number_integer() || value.get<std::int64_t>() < -2147483648LL || value.get<std::int64_t>() > 2147483647LL)
    throw bad_request("\"" + std::string(name) + "\" must be an integer");
  return std::to_string(value.get<std::int64_t>());
}

void post_run(App& app, const httplib::Request& req, httplib::Response& res) {
  authorize_action(app, req);  // first: httplib turns a form body into query parameters
  expect_only(req, {});
  const Json body = parse_body(req);
  expect_fields(body, {"graph", "workflow", "version", "inputs", "idempotency_key", "start_at", "priority", "concurrency_key",
                       "concurrency_limit"});
  const Json inputs = body.value("inputs", Json::object());
  if (!inputs.is_object()) throw bad_request("\"inputs\" must be a JSON object");
  // A client that retries a start (its first answer lost) sends the same key: it gets the first
  // run's id, and nothing is started twice. The options are checked by the server, whose errors
  // name them (a key's length, a priority's range, a time it cannot read); absent, its defaults.
  const auto key = optional_string_field(body, "idempotency_key", "a string");
  const auto start_at = optional_string_field(body, "start_at", "a timestamp (ISO 8601) as a string");
  const auto priority = optional_int_field(body, "priority");
  const auto concurrency_key = optional_string_field(body, "concurrency_key", "a string");
  const auto concurrency_limit = optional_int_field(body, "concurrency_limit");
  const bool has_graph = body.contains("graph"), has_workflow = body.contains("workflow");
  if (has_graph == has_workflow) throw bad_request("give either \"graph\" (a GraphSpec) or \"workflow\" (a stored workflow's name)");
  Json started;
  if (has_graph) {
    if (!body["graph"].is_object()) throw bad_request("\"graph\" must be a JSON object (a GraphSpec)");
    if (body.contains("version")) throw bad_request("\"version\" goes with \"workflow\", not \"graph\"");
    started = write_json(app, "SELECT adagio.start_run($1::jsonb, $2::jsonb, $3, $4::timestamptz, $5::int, $6, $7::int)::text",
                         body["graph"].dump(), inputs.dump(), key, start_at, priority, concurrency_key, concurrency_limit);
  } else {
    if (!body["workflow"].is_string() || body["workflow"].get<std::string>().empty())
      throw bad_request("\"workflow\" must be a non-empty string");
    std::string version;
    if (body.contains("version") && !body["version"].is_null()) {
      const auto& v = body["version"];
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 2147483647)
        throw bad_request("\"version\" must be a positive integer");
      version = std::to_string(v.get<std::int64_t>());
    }
    started = write_json(app,
                         "SELECT adagio.start_workflow($1, $2::jsonb, nullif($3, '')::int, $4, $5::timestamptz, $6::int, $7,"
                         " $8::int)::text",
                         body["workflow"].get<std::string>(), inputs.dump(), version, key, start_at, priority, concurrency_key,
                         concurrency_limit);
  }
  const auto id = started.get<std::int64_t>();
  res.set_header("Location", "/api/runs/" + std::to_string(id));
  send_json(res, Json{{"id", id}}, 201);
}

// What every action on one run starts with: the token checked (first: httplib turns a form body
// into query parameters), no query parameters, the run's id from the path, and a JSON body holding
// only the fields named.
struct RunAction {
  std::string run_id;
  Json body;
};

RunAction run_action(App& app, const httplib::Request& req, std::initializer_list<const char*> fields) {
  authorize_action(app, req);
  expect_only(req, {});
  RunAction action{std::to_string(run_id_of(req)), parse_body(req)};
  expect_fields(action.body, fields);
  return action;
}

void post_run_cancel(App& app, const httplib::Request& req, httplib::Response& res) {
  const RunAction a = run_action(app, req, {});
  send_json(res, write_json(app, "SELECT adagio.cancel_run($1::bigint)::text", a.run_id));
}

// A retry: {"from": [node names]} optional, the nodes to run again although they succeeded, with
// everything downstream of them.
void post_run_retry(App& app, const httplib::Request& req, httplib::Response& res) {
  const RunAction a = run_action(app, req, {"from"});
  Json from = Json::array();
  if (const auto it = a.body.find("from"); it != a.body.end() && !it->is_null()) {
    const bool names = it->is_array() && std::all_of(it->begin(), it->end(), [](const Json& n) { return n.is_string(); });
    if (!names) throw bad_request("\"from\" must be an array of node names");
    from = *it;
  }
  send_json(res, write_json(app, "SELECT adagio.retry_run($1::bigint, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))::text",
                            a.run_id, from.dump()));
}

// An operator's patch to a running run: {"patch": the patch (a GraphPatch's JSON, or JSON Patch
// operations)}. The engine checks it and names what is wrong.
void post_run_patch(App& app, const httplib::Request& req, httplib::Response& res) {
  const RunAction a = run_action(app, req, {"patch"});
  const auto patch = a.body.find("patch");
  if (patch == a.body.end() || !(patch->is_object() || patch->is_array()))
    throw bad_request("\"patch\" is required: {\"nodes\": [...], \"edges\": [...]} or an array of JSON Patch operations");
  send_json(res, write_json(app, "SELECT adagio.patch_run($1::bigint, $2::jsonb)::text", a.run_id, patch->dump()));
}

// A node concluded by hand: {"node": name, "conclusion": success|fail|error, "output": optional}.
// The engine checks the node's state and the conclusion, and names what is wrong.
void post_node_conclusion(App& app, const httplib::Request& req, httplib::Response& res) {
  const RunAction a = run_action(app, req, {"node", "conclusion", "output"});
  const auto node = optional_string_field(a.body, "node", "the node's name, a string");
  if (!node) throw bad_request("\"node\" is required: the name of the node to conclude");
  const auto conclusion = optional_string_field(a.body, "conclusion", "success, fail or error");
  if (!conclusion) throw bad_request("\"conclusion\" is required: success, fail or error");
  const auto output = optional_string_field(a.body, "output", "a string");
  send_json(res, write_json(app, "SELECT adagio.conclude_node($1::bigint, $2, $3, $4)::text", a.run_id, *node,
                            *conclusion, output));
}

// An approval gate's decision: {"node": name, and "output" (approve) or "reason" (reject), and the
// "attempt" the page showed open}. The node travels in the body, not the path: a node name may
// hold a slash.
void post_gate_decision(App& app, const httplib::Request& req, httplib::Response& res, bool approve) {
  const char* text_field = approve ? "output" : "reason";
  const RunAction a = run_action(app, req, {"node", text_field, "attempt"});
  const auto node = optional_string_field(a.body, "node", "the gate's node name, a string");
  if (!node) throw bad_request("\"node\" is required: the name of the gate to decide");
  const auto text = optional_string_field(a.body, text_field, "a string");
  const auto attempt = optional_int_field(a.body, "attempt");
  send_json(res, write_json(app,
                            std::string("SELECT adagio.") + (approve ? "approve" : "reject") + "($1::bigint, $2, $3, $4::int)::text",
                            a.run_id, *node, text, attempt));
}

}  // namespace

void install_api(httplib::Server& server, App& app) {
  server.Get("/api/config", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {});
    const char* actions = !app.options.token.empty() ? "token" : app.options.allow_unauthenticated_actions ? "open" : "disabled";
    send_json(res, Json{{"actions", actions}, {"version", "0.1.0"}});
  }));

  server.Get("/api/stats", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {});
    // stats() plus the split the home page shows: retrying nodes (ready or scheduled after an
    // attempt) and nodes ready for their first attempt, found through the partial indexes of ready
    // and scheduled nodes (one count per state: `state IN (...)` was planned as a scan of every
    // node; the engine's own ready nodes, open gates and running timers, which stats() counts,
    // are outside nodes_ready). stats() counts
    // every node: one scan, not a second for conclusions.
    send_json(res, query_json(app, R"SQL(
      SELECT (adagio.stats() || jsonb_build_object(
        'retrying', (SELECT count(*) FROM adagio.nodes n WHERE n.state = 'ready' AND n.runtime NOT IN ('approval', 'timer') AND n.attempt_count > n.retry_base)
                    + (SELECT count(*) FROM adagio.nodes n WHERE n.state = 'scheduled' AND n.attempt_count > n.retry_base),
        'ready_first', (SELECT count(*) FROM adagio.nodes n WHERE n.state = 'ready' AND n.runtime NOT IN ('approval', 'timer') AND n.attempt_count = n.retry_base)))::text)SQL"));
  }));

  server.Get("/api/runs", guarded([&app](const httplib::Request& req, httplib::Response& res) { get_runs(app, req, res); }));
  server.Post("/api/runs", guarded([&app](const httplib::Request& req, httplib::Response& res) { post_run(app, req, res); }));
  server.Get(R"(/api/runs/([^/]+))", guarded([&app](const httplib::Request& req, httplib::Response& res) { get_run(app, req, res); }));

  server.Get(R"(/api/runs/([^/]+)/timeline)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {});
    const auto id = std::to_string(run_id_of(req));
    send_json(res, query_json(app, "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]')::text FROM adagio.timeline($1::bigint) t", id));
  }));
  server.Get(R"(/api/runs/([^/]+)/logs)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {"node", "after", "limit"});
    const auto id = std::to_string(run_id_of(req));
    const auto node = text_param(req, "node");
    const auto after = int_param(req, "after", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
    const auto limit = int_param(req, "limit", 1, 10000).value_or(1000);
    send_json(res, query_json(app,
                              "SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY l.id), '[]')::text"
                              " FROM adagio.logs($1::bigint, nullif($2, ''), $3::bigint, $4::int) l",
                              id, node.value_or(""), std::to_string(after), std::to_string(limit)));
  }));
  server.Post(R"(/api/runs/([^/]+)/cancel)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    post_run_cancel(app, req, res);
  }));
  server.Post(R"(/api/runs/([^/]+)/retry)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    post_run_retry(app, req, res);
  }));
  server.Post(R"(/api/runs/([^/]+)/patch)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    post_run_patch(app, req, res);
  }));
  server.Post(R"(/api/runs/([^/]+)/conclude)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    post_node_conclusion(app, req, res);
  }));
  server.Post(R"(/api/runs/([^/]+)/approve)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    post_gate_decision(app, req, res, true);
  }));
  server.Post(R"(/api/runs/([^/]+)/reject)", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    post_gate_decision(app, req, res, false);
  }));
  server.Get("/api/gates", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {});
    send_json(res, query_json(app, "SELECT coalesce(jsonb_agg(to_jsonb(g) ORDER BY g.opened_at, g.run_id, g.node), '[]')::text"
                                   " FROM adagio.open_gates g"));
  }));

  server.Get("/api/events", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {"after", "run", "limit"});
    const auto after = int_param(req, "after", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
    const auto run = text_param(req, "run");
    const std::string run_id = run ? std::to_string(parse_id(*run, "run")) : "";
    const auto limit = int_param(req, "limit", 1, 1000).value_or(200);
    send_json(res, query_json(app,
                              "SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.id), '[]')::text "
                              "FROM adagio.events($1::bigint, nullif($2, '')::bigint, $3::int) e",
                              std::to_string(after), run_id, std::to_string(limit)));
  }));

  server.Get("/api/agents", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {"status"});
    const auto status = choice_param(req, "status", agent_statuses);
    send_json(res, query_json(app,
                              "SELECT coalesce(jsonb_agg(to_jsonb(a)), '[]')::text FROM adagio.list_agents() a "
                              "WHERE nullif($1, '') IS NULL OR a.status = $1",
                              status.value_or("")));
  }));

  server.Get("/api/workflows", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {});
    send_json(res, query_json(app, "SELECT coalesce(jsonb_agg(to_jsonb(w)), '[]')::text FROM adagio.list_workflows() w"));
  }));
  server.Get(R"(/api/workflows/([^/]+))", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {"version"});
    const std::string name = req.matches[1];
    const auto version = int_param(req, "version", 1, 2147483647);
    Json found = query_json(app, R"SQL(
      SELECT to_jsonb(w)::text FROM (
        SELECT name, version, graph, created_at, created_by FROM adagio.workflows
        WHERE name = $1 AND (nullif($2, '') IS NULL OR version = nullif($2, '')::int)
        ORDER BY version DESC LIMIT 1) w)SQL",
                            name, version ? std::to_string(*version) : std::string());
    if (found.is_null())
      throw HttpError(404, "workflow " + shown(name) + (version ? " version " + std::to_string(*version) : "") + " does not exist");
    send_json(res, found);
  }));

  server.Post("/api/validate", guarded([&app](const httplib::Request& req, httplib::Response& res) {
    expect_only(req, {});
    const Json body = parse_body(req);
    expect_fields(body, {"graph"});
    if (!body.contains("graph") || !body["graph"].is_object()) throw bad_request("\"graph\" must be a JSON object (a GraphSpec)");
    send_json(res, Json{{"graph", query_json(app, "SELECT adagio.validate_graph($1::jsonb)::text", body["graph"].dump())}});
  }));

  server.Get("/api/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(openapi_document(), "application/json");
  });

  server.Get("/healthz", guarded([&app](const httplib::Request&, httplib::Response& res) {
    query_json(app, "SELECT '{}'");
    send_json(res, Json{{"ok", true}});
  }));

  // Anything else under /api is a JSON 404, not the static file server's HTML.
  server.Get(R"(/api/.*)", [](const httplib::Request& req, httplib::Response& res) {
    send_error(res, 404, "no such endpoint: " + shown(req.path) + " (see /api/openapi.json)");
  });
}

}  // namespace adagio::dashboard
