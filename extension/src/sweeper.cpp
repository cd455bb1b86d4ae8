// The sweeper background worker: one per database named in adagio.sweeper_databases, each
// calling adagio.sweep() every adagio.sweep_interval, and with adagio.retention set, purging the
// runs that finished longer ago. Its lifecycle follows pg_cron's launcher:
// SIGHUP reloads the settings, SIGTERM ends it (the postmaster starts it again after
// bgw_restart_time unless the server is shutting down), postmaster death ends it, and an error in
// one sweep is logged and the next sweep runs. Only plain data lives on these stack frames: the
// C++ of a sweep runs inside adagio.sweep() behind its own boundary.
#include "pg_includes.hpp"
#include "settings.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
}

#include <csignal>

namespace {

volatile sig_atomic_t reload_requested = false;

void on_sighup(SIGNAL_ARGS) {
  int saved_errno = errno;
  reload_requested = true;
  SetLatch(MyLatch);
  errno = saved_errno;
}

// True when the extension exists in this database: before CREATE EXTENSION the sweeper idles.
bool extension_installed() {
  int rc = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'adagio'", true, 1);
  return rc == SPI_OK_SELECT && SPI_processed > 0;
}

// Runs one statement returning one value in a transaction of its own, and copies that value's
// text into result (empty when the extension is not installed). An error is logged and rolled
// back, and false returned: the next sweep gets a fresh transaction.
bool run_in_transaction(const char* sql, char* result, size_t result_size) {
  MemoryContext caller_context = CurrentMemoryContext;
  volatile bool ok = true;
  result[0] = '\0';
  PG_TRY();
  {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "adagio sweeper: SPI_connect failed");
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, sql);
    if (extension_installed()) {
      int rc = SPI_execute(sql, false, 1);
      if (rc == SPI_OK_SELECT && SPI_processed == 1) {
        char* value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
        if (value != nullptr) strlcpy(result, value, result_size);
      }
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, nullptr);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    HOLD_INTERRUPTS();
    EmitErrorReport();
    AbortCurrentTransaction();
    FlushErrorState();
    RESUME_INTERRUPTS();
    pgstat_report_activity(STATE_IDLE, nullptr);
    ok = false;
  }
  PG_END_TRY();
  return ok;
}

void sweep_once() {
  char summary[1024];
  if (run_in_transaction("SELECT adagio.sweep()::text", summary, sizeof summary) && summary[0] != '\0' &&
      strstr(summary, "\"orphaned\": 0") == nullptr)
    ereport(LOG, (errmsg("adagio sweeper: %s", summary)));
}

// Retention (adagio.retention): finished runs older than it go, a batch per transaction, so that
// no transaction holds many row locks or leaves autovacuum one huge delete to follow. Full batches
// repeat, up to ten per sweep and for about one sweep interval, so that a backlog (retention just
// turned on, or shortened) drains over a few sweeps without one sweep running for long.
void purge_once() {
  if (adagio::pg::retention_seconds <= 0) return;
  char sql[160], purged[32];
  snprintf(sql, sizeof sql, "SELECT adagio.purge_runs(pg_catalog.make_interval(secs => %d), %d)",
           adagio::pg::retention_seconds, adagio::pg::retention_batch);
  // Within one sweep interval of time, too: the next sweep (lapsed leases, due retries) must not
  // wait long behind a backlog of history.
  const TimestampTz started = GetCurrentTimestamp();
  for (int batch = 0; batch < 10; ++batch) {
    if (!run_in_transaction(sql, purged, sizeof purged) || purged[0] == '\0') return;
    const long long count = strtoll(purged, nullptr, 10);
    if (count > 0) ereport(DEBUG1, (errmsg("adagio sweeper: purged %lld finished runs", count)));
    if (count < adagio::pg::retention_batch) return;
    if (TimestampDifferenceExceeds(started, GetCurrentTimestamp(), adagio::pg::sweep_interval_ms)) return;
    CHECK_FOR_INTERRUPTS();
  }
}

}  // namespace

extern "C" {

PGDLLEXPORT void adagio_sweeper_main(Datum main_arg);

void adagio_sweeper_main(Datum main_arg) {
  pqsignal(SIGHUP, on_sighup);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();

  char database[BGW_EXTRALEN];
  strlcpy(database, MyBgworkerEntry->bgw_extra, sizeof database);
  BackgroundWorkerInitializeConnection(database, nullptr, 0);
  // The sweeper runs as the bootstrap superuser: resolve every name in its statements in
  // pg_catalog alone, never through a search_path a database owner set (ALTER DATABASE ... SET),
  // where a function or operator of theirs could win overload resolution and run as superuser.
  SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
  pgstat_report_appname("adagio sweeper");
  ereport(LOG, (errmsg("adagio sweeper started for database \"%s\"", database)));

  for (;;) {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, adagio::pg::sweep_interval_ms,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
    if (reload_requested) {
      reload_requested = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
    sweep_once();
    purge_once();
  }
}

}  // extern "C"

namespace adagio::pg {

// Called from _PG_init while shared_preload_libraries is processed.
void register_sweepers() {
  if (sweeper_databases == nullptr || sweeper_databases[0] == '\0') return;
  char* names = pstrdup(sweeper_databases);
  List* databases = NIL;
  if (!SplitIdentifierString(names, ',', &databases))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid adagio.sweeper_databases: \"%s\"", sweeper_databases),
                    errhint("list database names separated by commas")));
  ListCell* cell;
  foreach (cell, databases) {
    const char* database = static_cast<const char*>(lfirst(cell));
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 1;
    strlcpy(worker.bgw_library_name, "adagio", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, "adagio_sweeper_main", BGW_MAXLEN);
    snprintf(worker.bgw_name, BGW_MAXLEN, "adagio sweeper for %s", database);
    strlcpy(worker.bgw_type, "adagio sweeper", BGW_MAXLEN);
    strlcpy(worker.bgw_extra, database, BGW_EXTRALEN);
    RegisterBackgroundWorker(&worker);
  }
}

}  // namespace adagio::pg
