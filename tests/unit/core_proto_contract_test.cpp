// proto/adagio.proto is the contract for the graph JSON; this keeps the hand-written parser from
// drifting away from it: each message's fields must be exactly the fields the parser accepts.
#include "adagio/conclusion.hpp"
#include "adagio/graph_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace adagio {
namespace {

using ::testing::UnorderedElementsAre;

std::string read_proto() {
  const std::string path = std::string(ADAGIO_SOURCE_DIR) + "/proto/adagio.proto";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The proto with comments removed, so commented-out or quoted field names cannot match.
std::string proto_without_comments() {
  static const std::regex comments(R"(//[^\n]*|/\*[\s\S]*?\*/)");
  return std::regex_replace(read_proto(), comments, "");
}

// Top-level blocks of one kind ("message" or "enum") by name; the model has no nested types.
std::map<std::string, std::string> blocks(const std::string& proto, const std::string& kind) {
  const std::regex block(kind + R"(\s+(\w+)\s*\{([^{}]*)\})");
  std::map<std::string, std::string> result;
  for (std::sregex_iterator it(proto.begin(), proto.end(), block), end; it != end; ++it)
    result[(*it)[1]] = (*it)[2];
  return result;
}

// Field names of a message body in field-number order.
std::vector<std::string> field_names(const std::string& body) {
  static const std::regex field(R"((?:repeated\s+)?(?:map\s*<[^>]*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;)");
  std::vector<std::pair<int, std::string>> numbered;
  for (std::sregex_iterator it(body.begin(), body.end(), field), end; it != end; ++it)
    numbered.emplace_back(std::stoi((*it)[2]), (*it)[1]);
  std::sort(numbered.begin(), numbered.end());
  std::vector<std::string> names;
  for (auto& [number, name] : numbered) names.push_back(name);
  return names;
}

TEST(ProtoContract, DeclaresTheGraphPackage) {
  const std::string proto = proto_without_comments();
  EXPECT_TRUE(std::regex_search(proto, std::regex(R"(syntax\s*=\s*"proto3"\s*;)")));
  EXPECT_TRUE(std::regex_search(proto, std::regex(R"(package\s+adagio\.v1\s*;)")));
}

TEST(ProtoContract, DeclaresExactlyTheMessagesTheParserReads) {
  std::vector<std::string> names;
  for (const auto& [name, body] : blocks(proto_without_comments(), "message")) names.push_back(name);
  EXPECT_THAT(names, UnorderedElementsAre("GraphSpec", "GraphPatch", "Node", "Edge", "MetadataValue", "RetryPolicy", "Backoff"));
}

TEST(ProtoContract, EachMessageHasExactlyTheFieldsTheParserAccepts) {
  const auto messages = blocks(proto_without_comments(), "message");
  for (const char* message : {"GraphSpec", "GraphPatch", "Node", "Edge", "MetadataValue", "RetryPolicy", "Backoff"}) {
    SCOPED_TRACE(message);
    ASSERT_EQ(messages.count(message), 1u);
    EXPECT_EQ(field_names(messages.at(message)), graph_json_fields(message));
  }
}

TEST(ProtoContract, ConclusionEnumMatchesTheConclusionNames) {
  const auto enums = blocks(proto_without_comments(), "enum");
  ASSERT_EQ(enums.count("Conclusion"), 1u);
  static const std::regex value(R"((\w+)\s*=\s*(\d+)\s*;)");
  const std::string& body = enums.at("Conclusion");
  std::vector<std::string> names;
  for (std::sregex_iterator it(body.begin(), body.end(), value), end; it != end; ++it) {
    std::string name = (*it)[1];
    if (name == "CONCLUSION_UNSPECIFIED") continue;  // proto3's required zero value, never sent
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    EXPECT_TRUE(parse_conclusion(name).has_value()) << name;
    names.push_back(name);
  }
  EXPECT_THAT(names, UnorderedElementsAre(to_string(Conclusion::success), to_string(Conclusion::fail),
                                          to_string(Conclusion::error)));
}

TEST(ProtoContract, OnlyModelMessagesHaveFieldLists) {
  EXPECT_THROW(graph_json_fields("Conclusion"), std::invalid_argument);
  EXPECT_THROW(graph_json_fields("node"), std::invalid_argument);
}

}  // namespace
}  // namespace adagio
