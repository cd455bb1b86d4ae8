// The buffer between an execution's output and adagio.append_logs(): order, the per-attempt cap,
// and UTF-8 characters split between two writes.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "log_buffer.hpp"

using adagio::worker::detail::LogBuffer;

TEST(WorkerLogBuffer, TakesWhatWasAppendedInOrder) {
  LogBuffer logs(1 << 20);
  logs.append("one\n");
  logs.append("two\n");
  EXPECT_EQ(logs.take(), "one\ntwo\n");
  EXPECT_EQ(logs.take(), "");
  logs.append("three");
  EXPECT_EQ(logs.take_all(), "three");
}

TEST(WorkerLogBuffer, KeepsTheFirstCapBytesThenSaysSo) {
  LogBuffer logs(10);
  logs.append("12345678");
  logs.append("abcdef");
  logs.append("more");
  EXPECT_EQ(logs.take_all(), "12345678ab\n[log truncated: the worker keeps the first 10 bytes of an attempt]\n");
  logs.append("after");
  EXPECT_EQ(logs.take_all(), "") << "nothing after the cap";
}

TEST(WorkerLogBuffer, AUtf8CharacterSplitBetweenWritesIsSentWhole) {
  LogBuffer logs(1 << 20);
  const std::string euro = "\xE2\x82\xAC";  // U+20AC, three bytes
  logs.append("price " + euro.substr(0, 2));
  EXPECT_EQ(logs.take(), "price ");
  logs.append(euro.substr(2) + "5\n");
  EXPECT_EQ(logs.take(), euro + "5\n");
  EXPECT_EQ(LogBuffer::whole_utf8_prefix("a\xF0\x9F\x98"), 1u) << "three of a four-byte character wait";
  EXPECT_EQ(LogBuffer::whole_utf8_prefix("a\xF0\x9F\x98\x80"), 5u) << "a whole one goes";
  EXPECT_EQ(LogBuffer::whole_utf8_prefix("a\xC3"), 1u);
  EXPECT_EQ(LogBuffer::whole_utf8_prefix("\x80\x80\x80\x80"), 4u) << "stray continuation bytes are not held back forever";
}

TEST(WorkerLogBuffer, WritersOnOtherThreadsLoseNothing) {
  LogBuffer logs(1 << 20);
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&logs] {
      for (int i = 0; i < 1000; ++i) logs.append("x");
    });
  std::string taken;
  for (int i = 0; i < 100; ++i) taken += logs.take();
  for (auto& w : writers) w.join();
  taken += logs.take_all();
  EXPECT_EQ(taken, std::string(4000, 'x'));
}
