// Tests of parsing adagio.claim() output into Claims/Tasks.
#include <gtest/gtest.h>

#include <adagio/worker/claim.hpp>
#include <stdexcept>

using namespace adagio::worker;
using nlohmann::json;

namespace {

const char* kExample = R"([
  {"node_id":123,"run_id":7,"name":"a","runtime":"exec",
   "metadata":{"command":["echo"],"args":["hi","there"]},
   "inputs":{"upstream_name":"its output text","other":"x"},
   "run_inputs":{"who":"world","n":3,"nested":{"k":[1,2]}},
   "attempt":2,
   "attempts":[{"attempt":1,"conclusion":"error","output":"...","agent_id":3,
                "started_at":"2024-01-01 00:00:00+00","finished_at":"2024-01-01 00:00:01+00"}],
   "claim_token":"0b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a11",
   "lease_expires_at":"2024-01-01 00:01:00+00"},
  {"node_id":124,"run_id":7,"name":"b","runtime":"debug","metadata":{},"inputs":{},"run_inputs":{},
   "attempt":1,"attempts":[],"claim_token":"1b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a12",
   "lease_expires_at":"2024-01-01 00:01:00+00"}
])";

}  // namespace

TEST(WorkerClaimParse, FullExample) {
  auto claims = parse_claims(json::parse(kExample));
  ASSERT_EQ(claims.size(), 2u);
  const Claim& c = claims[0];
  EXPECT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.claim_token, "0b8a4c1e-7f44-4a0e-9e55-0c1f0d3f7a11");
  EXPECT_EQ(c.lease_expires_at, "2024-01-01 00:01:00+00");
  EXPECT_EQ(c.task.node_id, 123);
  EXPECT_EQ(c.task.run_id, 7);
  EXPECT_EQ(c.task.node, "a");
  EXPECT_EQ(c.task.runtime, "exec");
  EXPECT_EQ(c.task.attempt, 2);
  EXPECT_EQ(c.task.metadata.at("command"), std::vector<std::string>{"echo"});
  EXPECT_EQ(c.task.metadata.at("args"), (std::vector<std::string>{"hi", "there"}));
  EXPECT_EQ(c.task.inputs.at("upstream_name"), "its output text");
  EXPECT_EQ(c.task.inputs.at("other"), "x");
  EXPECT_EQ(c.task.run_inputs["who"], "world");
  EXPECT_EQ(c.task.run_inputs["n"], 3);
  EXPECT_EQ(c.task.run_inputs["nested"]["k"][1], 2);
  ASSERT_EQ(c.attempts.size(), 1u);
  EXPECT_EQ(c.attempts[0]["conclusion"], "error");
  EXPECT_EQ(c.task.cancelled, nullptr);
  EXPECT_FALSE(c.task.is_cancelled());

  const Claim& d = claims[1];
  EXPECT_TRUE(d.error.empty());
  EXPECT_EQ(d.task.node, "b");
  EXPECT_EQ(d.task.runtime, "debug");
  EXPECT_TRUE(d.task.metadata.empty());
  EXPECT_TRUE(d.task.inputs.empty());
  EXPECT_TRUE(d.task.run_inputs.is_object());
  EXPECT_TRUE(d.task.run_inputs.empty());
}

TEST(WorkerClaimParse, EmptyAndNull) {
  EXPECT_TRUE(parse_claims(json::array()).empty());
  EXPECT_TRUE(parse_claims(json(nullptr)).empty());
}

TEST(WorkerClaimParse, NotAnArrayThrows) {
  EXPECT_THROW(parse_claims(json::object()), std::invalid_argument);
  EXPECT_THROW(parse_claims(json("x")), std::invalid_argument);
}

TEST(WorkerClaimParse, MissingOptionalFields) {
  json j = json::parse(R"([{"node_id":1,"run_id":2,"name":"n","runtime":"exec","claim_token":"t"}])");
  auto claims = parse_claims(j);
  ASSERT_EQ(claims.size(), 1u);
  const Claim& c = claims[0];
  EXPECT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.task.attempt, 1);
  EXPECT_TRUE(c.task.metadata.empty());
  EXPECT_TRUE(c.task.run_inputs.is_object());
  EXPECT_TRUE(c.attempts.is_array());
  EXPECT_EQ(c.lease_expires_at, "");
}

TEST(WorkerClaimParse, LenientValues) {
  json j = json::parse(R"({"node_id":"11","run_id":2,"name":"n","runtime":"exec","claim_token":"t",
    "metadata":{"command":"echo","n":5,"flags":[true,"x",null],"none":null},
    "inputs":{"s":"text","num":4,"nul":null},
    "run_inputs":null})");
  Claim c = parse_claim(j);
  EXPECT_EQ(c.task.node_id, 11);
  EXPECT_EQ(c.task.metadata.at("command"), std::vector<std::string>{"echo"});
  EXPECT_EQ(c.task.metadata.at("n"), std::vector<std::string>{"5"});
  EXPECT_EQ(c.task.metadata.at("flags"), (std::vector<std::string>{"true", "x"}));
  EXPECT_TRUE(c.task.metadata.at("none").empty());
  EXPECT_EQ(c.task.inputs.at("s"), "text");
  EXPECT_EQ(c.task.inputs.at("num"), "4");
  EXPECT_EQ(c.task.inputs.at("nul"), "");
  EXPECT_TRUE(c.task.run_inputs.is_object());
}

TEST(WorkerClaimParse, ParseClaimThrowsOnMalformed) {
  EXPECT_THROW(parse_claim(json::array()), std::invalid_argument);
  EXPECT_THROW(parse_claim(json::parse(R"({"node_id":1,"run_id":2,"name":"n","runtime":"exec"})")),
               std::invalid_argument);  // no token
  EXPECT_THROW(parse_claim(json::parse(R"({"node_id":1,"name":"n","runtime":"exec","claim_token":"t"})")),
               std::invalid_argument);  // no run_id
  EXPECT_THROW(parse_claim(json::parse(
                   R"({"node_id":1,"run_id":2,"name":"n","runtime":"exec","claim_token":"t","metadata":[1]})")),
               std::invalid_argument);
  EXPECT_THROW(parse_claim(json::parse(R"({"node_id":1,"run_id":"x","name":"n","runtime":"exec","claim_token":"t"})")),
               std::invalid_argument);
}

TEST(WorkerClaimParse, MalformedElementDoesNotSpoilOthers) {
  json j = json::parse(R"([
    {"node_id":1,"run_id":2,"name":"bad","runtime":"exec","claim_token":"tok-bad","inputs":"oops"},
    {"node_id":3,"run_id":2,"name":"good","runtime":"exec","claim_token":"tok-good"},
    42
  ])");
  auto claims = parse_claims(j);
  ASSERT_EQ(claims.size(), 3u);
  EXPECT_FALSE(claims[0].error.empty());
  EXPECT_EQ(claims[0].claim_token, "tok-bad");
  EXPECT_EQ(claims[0].task.node, "bad");
  EXPECT_EQ(claims[0].task.run_id, 2);
  EXPECT_TRUE(claims[1].error.empty());
  EXPECT_EQ(claims[1].task.node, "good");
  EXPECT_FALSE(claims[2].error.empty());
  EXPECT_TRUE(claims[2].claim_token.empty());
}

TEST(WorkerClaimParse, TimeoutSeconds) {
  auto with = [](const char* timeout) {
    return json::parse(std::string(R"({"node_id":1,"run_id":1,"name":"n","runtime":"debug","claim_token":"t","timeout_seconds":)") +
                       timeout + "}");
  };
  const Claim bounded = parse_claim(with("90"));
  ASSERT_TRUE(bounded.task.timeout.has_value());
  EXPECT_EQ(bounded.task.timeout->count(), 90);
  EXPECT_FALSE(parse_claim(with("null")).task.timeout.has_value()) << "null: no timeout";
  EXPECT_FALSE(parse_claim(json::parse(R"({"node_id":1,"run_id":1,"name":"n","runtime":"debug","claim_token":"t"})"))
                   .task.timeout.has_value())
      << "absent (an older extension): no timeout";
  EXPECT_THROW(parse_claim(with("0")), std::invalid_argument);
  EXPECT_THROW(parse_claim(with("\"soon\"")), std::invalid_argument);
}
