// Validation of everything a request carries: path ids, query parameters and JSON bodies. A bad
// value becomes an HttpError with a message for the caller, never a SQL error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <httplib.h>

namespace adagio::dashboard {

class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

inline HttpError bad_request(const std::string& message) { return HttpError(400, message); }

// A positive bigint written in decimal; `what` names it in the error ("run id").
std::int64_t parse_id(const std::string& text, const std::string& what);

// Rejects parameters the endpoint does not know (a misspelt filter must not be silently ignored)
// and parameters given twice.
void expect_only(const httplib::Request& req, std::initializer_list<const char*> known);

std::optional<std::string> text_param(const httplib::Request& req, const char* name);
std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name, std::int64_t min,
                                      std::int64_t max);
std::optional<std::string> choice_param(const httplib::Request& req, const char* name,
                                        const std::vector<std::string>& allowed);
// An ISO 8601 date or timestamp (2026-11-22, 2026-11-22T15:04:05Z, ... +02:00).
std::optional<std::string> timestamp_param(const httplib::Request& req, const char* name);

// Quotes a value for an error message, shortened so a huge parameter does not echo back whole.
std::string shown(const std::string& value);

}  // namespace adagio::dashboard
