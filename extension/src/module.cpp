// Module entry: the magic block and the settings.
#include "pg_includes.hpp"

namespace adagio::pg {
int default_lease_seconds = 30;
}

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void);

void _PG_init(void) {
  DefineCustomIntVariable("adagio.default_lease",
                          "Lease given to a claim when the claimer does not ask for one.",
                          "A worker that has not heartbeated within its lease loses the claim.",
                          &adagio::pg::default_lease_seconds, 30, 1, 24 * 3600, PGC_USERSET, GUC_UNIT_S,
                          nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("adagio");
}

}  // extern "C"
