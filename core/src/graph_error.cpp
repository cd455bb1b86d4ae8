#include "adagio/graph_error.hpp"

#include <utility>

namespace adagio {

GraphError::GraphError(GraphErrorKind kind, std::string message)
    : std::runtime_error(std::move(message)), kind_(kind) {}

GraphErrorKind GraphError::kind() const { return kind_; }

}  // namespace adagio
