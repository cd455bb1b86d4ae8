// A plain text table: columns padded to their widest cell, a header row, no borders; the shape
// of `psql`'s aligned output and of `kubectl get`, easy to read and to grep.
#pragma once

#include <string>
#include <vector>

namespace adagio::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // A row's cells may carry terminal colour codes: widths are measured without them.
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of text: UTF-8 code points, not counting ANSI escape sequences.
std::size_t display_width(const std::string& text);
// The first line of text, cut to at most `width` display columns with an ellipsis.
std::string one_line(const std::string& text, std::size_t width);

}  // namespace adagio::cli
