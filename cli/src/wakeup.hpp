// LISTEN on a channel only to be woken: the callers re-read the database after any notification,
// so the payload does not matter and a lost notification only delays them until their next poll.
#pragma once

#include <pqxx/pqxx>

#include <string>

namespace adagio::cli {

class Wakeup final : public pqxx::notification_receiver {
 public:
  Wakeup(pqxx::connection_base& connection, const std::string& channel)
      : pqxx::notification_receiver(connection, channel) {}
  void operator()(const std::string&, int) override {}
};

}  // namespace adagio::cli
