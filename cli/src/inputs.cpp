#include "inputs.hpp"

#include "database.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace adagio::cli {

std::string read_file_or_stdin(const std::string& path) {
  if (path == "-") {
    std::ostringstream text;
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw CliError(exit_code::usage, "cannot read " + path + ": " + std::strerror(errno));
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::string read_json_file_or_stdin(const std::string& path) {
  std::string text = read_file_or_stdin(path);
  if (nlohmann::json::parse(text, nullptr, false).is_discarded())
    throw CliError(exit_code::invalid_input, (path == "-" ? std::string("standard input") : path) + " is not JSON");
  return text;
}

nlohmann::json run_inputs(const std::string& inputs_json, const std::vector<std::string>& pairs) {
  nlohmann::json inputs = nlohmann::json::object();
  if (!inputs_json.empty()) {
    const std::string text = inputs_json[0] == '@' ? read_file_or_stdin(inputs_json.substr(1)) : inputs_json;
    try {
      inputs = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw CliError(exit_code::usage, "--inputs is not JSON: " + std::string(e.what()));
    }
    if (!inputs.is_object()) throw CliError(exit_code::usage, "--inputs must be a JSON object, got: " + inputs.dump());
  }
  for (const std::string& pair : pairs) {
    const auto equals = pair.find('=');
    if (equals == std::string::npos || equals == 0)
      throw CliError(exit_code::usage, "--input " + pair + ": expected KEY=VALUE");
    const std::string value = pair.substr(equals + 1);
    nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
    inputs[pair.substr(0, equals)] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
  return inputs;
}

std::vector<nlohmann::json> run_inputs_lines(const std::string& path) {
  std::istringstream text(read_file_or_stdin(path));
  std::vector<nlohmann::json> all;
  std::string line;
  for (long number = 1; std::getline(text, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json inputs = nlohmann::json::parse(line, nullptr, false);
    if (inputs.is_discarded() || !inputs.is_object())
      throw CliError(exit_code::usage, path + " line " + std::to_string(number) + ": expected a JSON object of run inputs");
    all.push_back(std::move(inputs));
  }
  return all;
}

}  // namespace adagio::cli
