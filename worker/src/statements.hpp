// The worker's SQL statements, by name. Normally each is prepared once per connection and run by
// name. Behind a pooler in transaction mode (PgBouncer before 1.21) a connection's transactions
// land on different server connections, which do not share prepared statements, so there each
// statement is sent with its text (an unnamed statement, planned on every call).
#pragma once

#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace adagio::worker::detail {

struct Statement {
  const char* name;
  const char* text;
};

inline constexpr Statement worker_statements[] = {
    {"adagio_register", "SELECT adagio.register_agent($1::text, $2::text[], $3::jsonb)"},
    {"adagio_claim", "SELECT adagio.claim($1::bigint, $2::int)::text"},
    {"adagio_complete", "SELECT adagio.complete($1::uuid, $2::text, $3::text)::text"},
    {"adagio_complete_many", "SELECT adagio.complete_many($1::uuid[], $2::text[], $3::text[])::text"},
    // Report and claim in one round trip and one transaction: the nodes the reports made ready
    // come back already claimed for us, and the queue fills the slots left.
    {"adagio_complete_and_claim",
     "SELECT adagio.complete_and_claim($4::bigint, $5::int, $1::uuid[], $2::text[], $3::text[])::text"},
    {"adagio_heartbeat", "SELECT adagio.heartbeat($1::bigint, $2::uuid[])::text"},
    {"adagio_deregister", "SELECT adagio.deregister_agent($1::bigint)"},
    {"adagio_patch_run_from_node", "SELECT adagio.patch_run_from_node($1::uuid, $2::jsonb)::text"},
    {"adagio_append_logs", "SELECT adagio.append_logs($1::uuid[], $2::text[])"},
};

class Statements {
 public:
  explicit Statements(bool prepared) : prepared_(prepared) {}

  // Declares every statement on `conn` (libpqxx prepares each on its first use).
  void prepare(pqxx::connection_base& conn) const {
    if (!prepared_) return;
    for (const Statement& s : worker_statements) conn.prepare(s.name, s.text);
  }

  template <typename... Args>
  pqxx::result run(pqxx::transaction_base& tx, std::string_view name, Args&&... args) const {
    if (prepared_) return tx.exec_prepared(std::string(name), std::forward<Args>(args)...);
    return tx.exec_params(text_of(name), std::forward<Args>(args)...);
  }

 private:
  static std::string text_of(std::string_view name) {
    for (const Statement& s : worker_statements)
      if (name == s.name) return s.text;
    throw std::logic_error("no worker statement named " + std::string(name));
  }

  bool prepared_;
};

}  // namespace adagio::worker::detail
