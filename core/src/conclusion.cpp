#include "adagio/conclusion.hpp"

namespace adagio {

std::optional<Conclusion> parse_conclusion(std::string_view text) {
  if (text == "success") return Conclusion::success;
  if (text == "fail") return Conclusion::fail;
  if (text == "error") return Conclusion::error;
  return std::nullopt;
}

const char* to_string(Conclusion conclusion) {
  switch (conclusion) {
    case Conclusion::success:
      return "success";
    case Conclusion::fail:
      return "fail";
    case Conclusion::error:
      return "error";
  }
  return "unknown";  // only reachable through a cast of an invalid value
}

}  // namespace adagio
