// A worker binary of your own: the built-in runtimes plus two functions.
// Nodes with runtime "uppercase" get their argument (metadata "text", else
// their upstream inputs) upper-cased; "wordcount" counts the words of theirs.
#include <adagio/worker/runtime.hpp>
#include <cctype>
#include <sstream>

using namespace adagio::worker;

// The node's text: metadata "text" if given, else all upstream outputs.
static std::string text_of(const Task& t) {
  if (auto it = t.metadata.find("text"); it != t.metadata.end() && !it->second.empty()) return it->second.front();
  std::string all;
  for (const auto& [upstream, output] : t.inputs) all += output;
  return all;
}

int main(int argc, char** argv) {
  Registry registry = builtin_runtimes();
  registry.add("uppercase", [](const Task& t) {
    std::string s = text_of(t);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Result{Conclusion::success, s};
  });
  registry.add("wordcount", [](const Task& t) {
    std::istringstream in(text_of(t));
    std::size_t n = 0;
    for (std::string w; in >> w;) ++n;
    return Result{n > 0 ? Conclusion::success : Conclusion::fail, std::to_string(n)};
  });
  return run_worker_main(argc, argv, registry);
}
