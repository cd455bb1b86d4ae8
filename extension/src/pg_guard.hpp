// The boundary between C++ and Postgres, in both directions.
//
// Postgres reports errors with longjmp, which would skip C++ destructors; C++ reports them with
// exceptions, which must never unwind through Postgres frames. So:
//  * pg_guard() runs a Postgres call and turns an ERROR into a PgError exception. The callable must
//    keep only plain data on its own stack (no std::string, no containers).
//  * sql_entry() wraps every SQL-callable function: it runs the C++ body and, once the C++ stack
//    has unwound, re-raises whatever was thrown as a Postgres ERROR.
#pragma once

#include "pg_includes.hpp"

#include <exception>
#include <string>
#include <utility>

namespace adagio::pg {

// A Postgres ERROR caught by pg_guard, kept intact so it can be re-raised unchanged.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* data) : data_(data) {}
  const char* what() const noexcept override { return data_ && data_->message ? data_->message : "postgres error"; }
  ErrorData* data() const { return data_; }

 private:
  ErrorData* data_;  // palloc'd; lives until the transaction aborts
};

// An error the engine raises on purpose, with the SQLSTATE the caller sees.
class SqlError : public std::exception {
 public:
  SqlError(int sqlstate, std::string message, std::string detail = {}, std::string hint = {})
      : sqlstate_(sqlstate), message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  int sqlstate() const { return sqlstate_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }

 private:
  int sqlstate_;
  std::string message_;
  std::string detail_;
  std::string hint_;
};

template <typename Call>
void pg_guard(Call&& call) {
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile caught = nullptr;
  PG_TRY();
  {
    call();
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    caught = CopyErrorData();
    FlushErrorState();
  }
  PG_END_TRY();
  if (caught != nullptr) throw PgError(caught);
}

// Fixed-size copy of an exception's text: filled inside a catch block, where nothing may
// longjmp (that would leave the C++ runtime mid-catch), and raised after it.
struct PendingError {
  ErrorData* pg_error = nullptr;
  int sqlstate = 0;
  char message[2048] = {0};
  char detail[2048] = {0};
  char hint[1024] = {0};
};

void capture_current_exception(PendingError& pending) noexcept;
[[noreturn]] void raise_pending(const PendingError& pending);

template <typename Body>
Datum sql_entry(Body&& body) {
  PendingError pending;
  try {
    return body();
  } catch (...) {
    capture_current_exception(pending);
  }
  raise_pending(pending);
}

}  // namespace adagio::pg
