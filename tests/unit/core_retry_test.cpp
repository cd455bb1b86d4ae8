// Retry rules: max_attempts counts the attempts allowed to END IN one conclusion, each
// non-success conclusion counted on its own; no entry means the first such attempt is final.
#include "adagio/graph_error.hpp"
#include "adagio/graph_json.hpp"
#include "adagio/validate.hpp"
#include "adagio/retry.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace adagio {
namespace {

NodeSpec node_with_retry(const char* retry_json) {
  return parse_graph(std::string(R"({"nodes":[{"name":"a","runtime":"exec","retry":)") + retry_json + "}]}")
      .nodes.at(0);
}

TEST(Retry, SuccessAlwaysSucceeds) {
  const NodeSpec node = node_with_retry(R"({"error":{"max_attempts":3}})");
  EXPECT_EQ(next_step(node, Conclusion::success, 1), NextStep::succeeded);
  EXPECT_EQ(next_step(node, Conclusion::success, 5), NextStep::succeeded);
  EXPECT_EQ(attempts_allowed(node, Conclusion::success), 1);
}

TEST(Retry, WithoutAnEntryTheFirstFailureIsFinal) {
  const NodeSpec node = node_with_retry("{}");
  EXPECT_EQ(attempts_allowed(node, Conclusion::fail), 1);
  EXPECT_EQ(attempts_allowed(node, Conclusion::error), 1);
  EXPECT_EQ(next_step(node, Conclusion::fail, 1), NextStep::failed);
  EXPECT_EQ(next_step(node, Conclusion::error, 1), NextStep::failed);
}

TEST(Retry, MaxAttemptsTwoRetriesOnceThenFails) {
  // The original Adagio example: two attempts may end in error.
  const NodeSpec node = node_with_retry(R"({"error":{"max_attempts":2}})");
  EXPECT_EQ(attempts_allowed(node, Conclusion::error), 2);
  EXPECT_EQ(next_step(node, Conclusion::error, 1), NextStep::retry);
  EXPECT_EQ(next_step(node, Conclusion::error, 2), NextStep::failed);
  EXPECT_EQ(next_step(node, Conclusion::error, 3), NextStep::failed);
}

TEST(Retry, MaxAttemptsOneNeverRetries) {
  const NodeSpec node = node_with_retry(R"({"fail":{"max_attempts":1}})");
  EXPECT_EQ(next_step(node, Conclusion::fail, 1), NextStep::failed);
}

TEST(Retry, AnEntryForOneConclusionDoesNotCoverTheOther) {
  const NodeSpec node = node_with_retry(R"({"error":{"max_attempts":5}})");
  EXPECT_EQ(attempts_allowed(node, Conclusion::fail), 1);
  EXPECT_EQ(next_step(node, Conclusion::fail, 1), NextStep::failed);
}

TEST(Retry, FailAndErrorAreCountedSeparately) {
  const NodeSpec node = node_with_retry(R"({"fail":{"max_attempts":3},"error":{"max_attempts":2}})");
  // Say the attempts went: fail, error, fail, error. Each count only includes its own conclusion.
  EXPECT_EQ(next_step(node, Conclusion::fail, 1), NextStep::retry);
  EXPECT_EQ(next_step(node, Conclusion::error, 1), NextStep::retry);
  EXPECT_EQ(next_step(node, Conclusion::fail, 2), NextStep::retry);
  EXPECT_EQ(next_step(node, Conclusion::error, 2), NextStep::failed);
  // Had the 4th attempt failed instead, fail would still have had one attempt left.
  EXPECT_EQ(next_step(node, Conclusion::fail, 3), NextStep::failed);
}

TEST(Retry, AnUnvalidatedMaxAttemptsStillAllowsTheAttemptMade) {
  NodeSpec node;
  node.retry[Conclusion::error] = RetryPolicy{0, std::nullopt};
  EXPECT_EQ(attempts_allowed(node, Conclusion::error), 1);
  EXPECT_EQ(next_step(node, Conclusion::error, 1), NextStep::failed);
}

TEST(Retry, TheAttemptJustMadeMustBeCounted) {
  const NodeSpec node = node_with_retry("{}");
  EXPECT_THROW(next_step(node, Conclusion::error, 0), std::invalid_argument);
  EXPECT_THROW(next_step(node, Conclusion::success, -1), std::invalid_argument);
}

TEST(Conclusion, ParsesLowerCaseNamesOnly) {
  EXPECT_EQ(parse_conclusion("success"), Conclusion::success);
  EXPECT_EQ(parse_conclusion("fail"), Conclusion::fail);
  EXPECT_EQ(parse_conclusion("error"), Conclusion::error);
  EXPECT_EQ(parse_conclusion("Error"), std::nullopt);
  EXPECT_EQ(parse_conclusion("failed"), std::nullopt);
  EXPECT_EQ(parse_conclusion(""), std::nullopt);
  for (Conclusion c : {Conclusion::success, Conclusion::fail, Conclusion::error})
    EXPECT_EQ(parse_conclusion(to_string(c)), c);
}

}  // namespace
}  // namespace adagio

// Backoff: the wait before each retry grows geometrically and is capped.
TEST(RetryDelay, GrowsByTheMultiplierUpToTheCap) {
  adagio::NodeSpec node = adagio::parse_graph(
      R"({"nodes":[{"name":"n","runtime":"debug","retry":{"error":{"max_attempts":9,
          "backoff":{"initial_delay_seconds":0.5,"multiplier":3,"max_delay_seconds":10}}}}]})").nodes.at(0);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 1), 0.5);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 2), 1.5);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 3), 4.5);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 4), 10.0);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::fail, 1), 0.0) << "no policy, no wait";
}

TEST(RetryDelay, AHugeMultiplierStopsAtTheCap) {
  adagio::NodeSpec node = adagio::parse_graph(
      R"({"nodes":[{"name":"n","runtime":"debug","retry":{"error":{"max_attempts":900,
          "backoff":{"initial_delay_seconds":2,"multiplier":1e300,"max_delay_seconds":60}}}}]})").nodes.at(0);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 1), 2.0);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 3), 60.0) << "1e600 overflows to inf";
  node.retry.at(adagio::Conclusion::error).backoff->initial_delay_seconds = 0;
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 3), 0.0) << "0 x inf is no wait, not NaN";
}

TEST(RetryDelay, NoBackoffMeansReadyAtOnce) {
  adagio::NodeSpec node = adagio::parse_graph(
      R"({"nodes":[{"name":"n","runtime":"debug","retry":{"error":{"max_attempts":3}}}]})").nodes.at(0);
  EXPECT_DOUBLE_EQ(adagio::retry_delay_seconds(node, adagio::Conclusion::error, 1), 0.0);
}

TEST(RetryDelay, BackoffAndLeaseRoundTripAndAreValidated) {
  const char* text = R"({"nodes":[{"name":"n","runtime":"debug","lease_seconds":5,"metadata":{},"retry":{"error":{"max_attempts":2,
      "backoff":{"initial_delay_seconds":1.5,"multiplier":2.5,"max_delay_seconds":8.5}}}}],"edges":[]})";
  adagio::Graph graph = adagio::parse_graph(text);
  EXPECT_EQ(adagio::to_json(graph), nlohmann::json::parse(text));
  EXPECT_THROW(adagio::validate(adagio::parse_graph(
                   R"({"nodes":[{"name":"n","runtime":"d","retry":{"error":{"max_attempts":2,"backoff":{"multiplier":0.5}}}}]})")),
               adagio::GraphError);
  EXPECT_THROW(adagio::parse_graph(R"({"nodes":[{"name":"n","runtime":"d","lease_seconds":0}]})"), adagio::GraphError);
}

// A wait the database cannot add to a timestamp is refused up front, with the numbers as written.
TEST(RetryDelay, BackoffIsAtMostAYear) {
  auto check = [](const char* backoff) {
    adagio::validate(adagio::parse_graph(std::string(R"({"nodes":[{"name":"n","runtime":"d","retry":{"error":{"max_attempts":2,"backoff":)") +
                                         backoff + "}}}]}"));
  };
  EXPECT_NO_THROW(check(R"({"initial_delay_seconds":31536000,"max_delay_seconds":31536000})"));
  try {
    check(R"({"initial_delay_seconds":1e300,"max_delay_seconds":1e300})");
    ADD_FAILURE() << "a backoff of 1e300 s was accepted";
  } catch (const adagio::GraphError& e) {
    EXPECT_STREQ(e.what(), "node \"n\": retry \"error\": backoff: max_delay_seconds must be at most 31536000 (365 days), got 1e+300");
  }
  try {
    check(R"({"initial_delay_seconds":-1})");
    ADD_FAILURE() << "a negative delay was accepted";
  } catch (const adagio::GraphError& e) {
    EXPECT_STREQ(e.what(), "node \"n\": retry \"error\": backoff: initial_delay_seconds must be at least 0, got -1");
  }
}
