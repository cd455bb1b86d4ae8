// Reading what a user hands the CLI: a graph file (or - for stdin) and run inputs.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace adagio::cli {

// The whole file, or standard input for "-". Throws CliError(usage) if it cannot be read.
std::string read_file_or_stdin(const std::string& path);

// read_file_or_stdin(), checked to be JSON: throws CliError(invalid_input) "<path> is not JSON".
std::string read_json_file_or_stdin(const std::string& path);

// Run inputs from --inputs JSON (an object, or @FILE) and --input KEY=VALUE pairs (VALUE parsed
// as JSON when it is JSON, else taken as a string). Throws CliError(usage) naming the bad part.
nlohmann::json run_inputs(const std::string& inputs_json, const std::vector<std::string>& pairs);

// The inputs of many runs: one JSON object per line of a file (or of standard input for "-"),
// blank lines skipped. Throws CliError(usage) naming the first bad line.
std::vector<nlohmann::json> run_inputs_lines(const std::string& path);

}  // namespace adagio::cli
