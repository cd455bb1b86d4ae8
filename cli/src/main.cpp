// adagio: drive and watch workflows from a terminal. Each subcommand is one SQL call (or a few)
// against the adagio extension; `adagio worker` runs the stock worker.
#include "commands.hpp"

#include <adagio/worker/runtime.hpp>
#include <adagio/worker/worker.hpp>

#include <iostream>

namespace {

// `adagio worker ...` hands every argument after "worker" to the stock worker's own parser.
int run_worker(const adagio::cli::Context& context, std::vector<std::string> args) {
  bool has_dsn = false;
  for (const std::string& a : args) has_dsn = has_dsn || a == "--dsn" || a.rfind("--dsn=", 0) == 0;
  const std::string dsn = adagio::cli::resolve_dsn(context.connection);
  if (!has_dsn && !dsn.empty()) args.insert(args.begin(), {"--dsn", dsn});
  std::vector<std::string> owned{"adagio worker"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  const adagio::worker::Registry registry = adagio::worker::builtin_runtimes();
  return adagio::worker::run_worker_main(static_cast<int>(owned.size()), argv.data(), registry);
}

// Prints "adagio: <message>" and its hint; returns the error's exit code.
int report(const adagio::cli::Context& context, const adagio::cli::CliError& error) {
  const adagio::cli::Style err = context.err();
  std::cerr << err.red("adagio: ") << error.what() << "\n";
  if (!error.hint().empty()) std::cerr << err.dim("hint: " + error.hint()) << "\n";
  return error.code();
}

// After "A subcommand is required": the word in the command's place that named none, with the
// command it was given to and the ones that exist; empty when no such word was given.
std::string unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  std::string path = "adagio";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.rfind("-", 0) == 0) {  // a global option's value follows it unless given with '='
      if (level == &app && word.find('=') == std::string::npos && (word == "--dsn" || word == "--service" || word == "--color")) ++i;
      continue;
    }
    CLI::App* next = nullptr;
    for (CLI::App* sub : level->get_subcommands(nullptr))
      if (sub->get_name() == word) next = sub;
    if (next) {
      level = next;
      path += " " + word;
      continue;
    }
    if (level->get_require_subcommand_min() == 0) return {};
    std::string names;
    for (CLI::App* sub : level->get_subcommands(nullptr)) names += (names.empty() ? "" : ", ") + sub->get_name();
    return "unknown command \"" + word + "\" for \"" + path + "\"; the commands are: " + names;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace adagio::cli;
  Context context;
  CLI::App app{"adagio: start, inspect and follow workflow runs in PostgreSQL", "adagio"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("adagio ") + adagio::worker::worker_version);
  app.add_option("--dsn", context.connection.dsn,
                 "libpq connection string or URI (default: $ADAGIO_DSN, else PGHOST, PGPORT, PGDATABASE, PGUSER...)")
      ->envname("ADAGIO_DSN");
  app.add_option("--service", context.connection.service, "connection service name from pg_service.conf");
  app.add_option("--color", context.color, "colour: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.fallthrough();

  add_run_commands(app, context);
  add_events_command(app, context);
  add_logs_command(app, context);
  add_info_commands(app, context);
  add_gate_commands(app, context);
  add_dashboard_command(app, context);
  auto* worker = app.add_subcommand("worker", "run a worker with the built-in runtimes (exec, debug); see --help");
  worker->prefix_command();
  worker->allow_extras();
  worker->fallthrough(false);
  worker->set_help_flag();  // --help goes to the worker, which lists its own flags

  try {
    app.parse(argc, argv);
    if (worker->parsed()) return run_worker(context, worker->remaining());
  } catch (const CLI::ParseError& e) {
    if (dynamic_cast<const CLI::RequiredError*>(&e)) {
      const std::string unknown = unknown_command(app, argc, argv);
      if (!unknown.empty()) {
        std::cerr << "adagio: " << unknown << "\n";
        return exit_code::usage;
      }
    }
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_code::usage;
  } catch (const CliError& e) {
    return report(context, e);
  } catch (const pqxx::broken_connection& e) {
    std::cerr << "adagio: lost the connection to the database: " << server_message(e.what()) << "\n";
    return exit_code::database;
  } catch (const pqxx::sql_error& e) {
    return report(context, to_cli_error(e));
  } catch (const pqxx::transaction_rollback& e) {  // not an sql_error in libpqxx 6
    return report(context, to_cli_error(e));
  } catch (const std::exception& e) {
    std::cerr << "adagio: " << e.what() << "\n";
    return exit_code::database;
  }
  return context.exit_code;
}
