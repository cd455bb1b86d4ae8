// A node's timeout_seconds: parsed, kept in the canonical form, bounded.
#include <gtest/gtest.h>

#include <adagio/graph_error.hpp>
#include <adagio/graph_json.hpp>
#include <adagio/validate.hpp>
#include <string>

namespace {

std::string refusal(const std::string& timeout) {
  try {
    adagio::validate(adagio::parse_graph(R"({"nodes":[{"name":"slow","runtime":"d","timeout_seconds":)" + timeout + "}]}"));
  } catch (const adagio::GraphError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(NodeTimeout, RoundTripsAndIsOptional) {
  const char* text = R"({"nodes":[{"name":"n","runtime":"debug","metadata":{},"retry":{},"timeout_seconds":90}],"edges":[]})";
  const adagio::Graph graph = adagio::parse_graph(text);
  ASSERT_TRUE(graph.nodes.at(0).timeout_seconds.has_value());
  EXPECT_EQ(*graph.nodes.at(0).timeout_seconds, 90);
  EXPECT_EQ(adagio::to_json(graph), nlohmann::json::parse(text));
  const adagio::Graph plain = adagio::parse_graph(R"({"nodes":[{"name":"n","runtime":"debug"}]})");
  EXPECT_FALSE(plain.nodes.at(0).timeout_seconds.has_value());
  EXPECT_FALSE(adagio::to_json(plain)["nodes"][0].contains("timeout_seconds")) << "absent stays absent";
}

TEST(NodeTimeout, FromOneSecondToThirtyDays) {
  EXPECT_EQ(refusal("1"), "");
  EXPECT_EQ(refusal("2592000"), "");
  const std::string expected = "node \"slow\": timeout_seconds must be an integer from 1 to 2592000 (30 days), got ";
  EXPECT_EQ(refusal("0"), expected + "0");
  EXPECT_EQ(refusal("2592001"), expected + "2592001");
  EXPECT_EQ(refusal("1.5"), expected + "1.5");
  EXPECT_EQ(refusal("\"60\""), expected + "\"60\"");
  EXPECT_EQ(refusal("-5"), expected + "-5");
}

TEST(NodeTimeout, ValidateChecksAGraphBuiltInCode) {
  adagio::Graph graph = adagio::parse_graph(R"({"nodes":[{"name":"n","runtime":"debug"}]})");
  graph.nodes[0].timeout_seconds = 0;
  EXPECT_THROW(adagio::validate(graph), adagio::GraphError);
  graph.nodes[0].timeout_seconds = adagio::max_timeout_seconds;
  EXPECT_NO_THROW(adagio::validate(graph));
}
