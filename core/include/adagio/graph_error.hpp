#pragma once

#include <stdexcept>
#include <string>

namespace adagio {

enum class GraphErrorKind {
  malformed_json,  // the text is not JSON at all
  invalid_graph,   // JSON of the wrong shape, or a graph breaking a rule
  cycle,           // the edges form a cycle (including a self-loop)
};

// Thrown by parsing, validation and topology. what() is the message alone, naming the bad part
// precisely (e.g. `edge b -> zz: destination "zz" is not a node`), with no prefix.
class GraphError : public std::runtime_error {
 public:
  GraphError(GraphErrorKind kind, std::string message);
  GraphErrorKind kind() const;

 private:
  GraphErrorKind kind_;
};

}  // namespace adagio
