#include "pg_guard.hpp"

#include "adagio/graph_error.hpp"

#include <cstdio>
#include <cstring>

namespace adagio::pg {
namespace {

void copy_text(char* into, std::size_t size, const char* text) noexcept {
  strlcpy(into, text ? text : "", size);
}

int sqlstate_for(GraphErrorKind kind) noexcept {
  switch (kind) {
    case GraphErrorKind::malformed_json:
      return ERRCODE_INVALID_TEXT_REPRESENTATION;
    case GraphErrorKind::cycle:
      return ERRCODE_INVALID_PARAMETER_VALUE;
    case GraphErrorKind::invalid_graph:
      break;
  }
  return ERRCODE_INVALID_PARAMETER_VALUE;
}

}  // namespace

void capture_current_exception(PendingError& pending) noexcept {
  try {
    throw;
  } catch (const PgError& e) {
    pending.pg_error = e.data();
  } catch (const SqlError& e) {
    pending.sqlstate = e.sqlstate();
    copy_text(pending.message, sizeof pending.message, e.what());
    copy_text(pending.detail, sizeof pending.detail, e.detail().c_str());
    copy_text(pending.hint, sizeof pending.hint, e.hint().c_str());
  } catch (const GraphError& e) {
    pending.sqlstate = sqlstate_for(e.kind());
    copy_text(pending.message, sizeof pending.message, "invalid graph: ");
    std::strncat(pending.message, e.what(), sizeof pending.message - std::strlen(pending.message) - 1);
  } catch (const std::bad_alloc&) {
    pending.sqlstate = ERRCODE_OUT_OF_MEMORY;
    copy_text(pending.message, sizeof pending.message, "out of memory in adagio");
  } catch (const std::exception& e) {
    pending.sqlstate = ERRCODE_INTERNAL_ERROR;
    copy_text(pending.message, sizeof pending.message, "adagio internal error: ");
    std::strncat(pending.message, e.what(), sizeof pending.message - std::strlen(pending.message) - 1);
  } catch (...) {
    pending.sqlstate = ERRCODE_INTERNAL_ERROR;
    copy_text(pending.message, sizeof pending.message, "adagio internal error: unknown exception");
  }
}

void raise_pending(const PendingError& pending) {
  if (pending.pg_error != nullptr) ReThrowError(pending.pg_error);
  ereport(ERROR, (errcode(pending.sqlstate), errmsg("%s", pending.message),
                  pending.detail[0] ? errdetail("%s", pending.detail) : 0,
                  pending.hint[0] ? errhint("%s", pending.hint) : 0));
  pg_unreachable();
}

}  // namespace adagio::pg
