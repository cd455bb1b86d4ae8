// What every command shares: how to connect, whether to colour, and the exit code it sets.
#pragma once

#include "adagio/cli/style.hpp"
#include "database.hpp"

#include <unistd.h>

namespace adagio::cli {

struct Context {
  ConnectionOptions connection;
  std::string color = "auto";  // --color: auto, always or never
  int exit_code = exit_code::ok;

  Style out() const { return Style::for_fd(STDOUT_FILENO, color_mode()); }
  Style err() const { return Style::for_fd(STDERR_FILENO, color_mode()); }
  ColorMode color_mode() const {
    return color == "always" ? ColorMode::always : color == "never" ? ColorMode::never : ColorMode::automatic;
  }
  std::unique_ptr<pqxx::connection> connect() const { return adagio::cli::connect(connection); }
};

}  // namespace adagio::cli
