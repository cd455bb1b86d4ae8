// What one execution printed that the worker has not sent yet (adagio.append_logs()). Executor
// threads append, the dispatcher takes about once a second. Capped per attempt, so that a chatty
// program can exhaust neither the worker's memory nor the table.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

namespace adagio::worker::detail {

class LogBuffer {
 public:
  explicit LogBuffer(std::size_t cap) : cap_(cap) {}

  void append(std::string_view text) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (truncated_) return;
    const std::size_t room = cap_ - total_;
    const std::size_t kept = text.size() < room ? text.size() : room;
    pending_.append(text.data(), kept);
    total_ += kept;
    if (kept < text.size()) {
      truncated_ = true;
      pending_ += "\n[log truncated: the worker keeps the first " + std::to_string(cap_) + " bytes of an attempt]\n";
    }
  }

  // What was appended since the last take, up to the last whole UTF-8 character: a character
  // split between two writes is sent whole with the next take.
  std::string take() {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::size_t whole = whole_utf8_prefix(pending_);
    std::string out = pending_.substr(0, whole);
    pending_.erase(0, whole);
    return out;
  }

  // Everything left, at the attempt's end (a split character there stays split).
  std::string take_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    out.swap(pending_);
    return out;
  }

  // The length of `s` without a trailing incomplete UTF-8 sequence (of at most three bytes).
  static std::size_t whole_utf8_prefix(const std::string& s) {
    std::size_t n = s.size();
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
      const auto c = static_cast<unsigned char>(s[n - back]);
      if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
      const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }

 private:
  std::mutex mutex_;
  std::string pending_;
  std::size_t total_ = 0;
  std::size_t cap_;
  bool truncated_ = false;
};

}  // namespace adagio::worker::detail
