#include "call_arguments.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

namespace json = boost::json;
using namespace snorky::connector;

namespace {
struct CallArgumentsTest : ::testing::Test {
    std::map<std::string, std::string> env{{"SNORKY_BACKEND_KEY", "envkey"}};

    CallRequest parse(std::vector<std::string> args) {
        args.insert(args.begin(), "snorky-call");
        std::vector<const char*> argv;
        for (auto& a : args) argv.push_back(a.c_str());
        return parseCallArguments(static_cast<int>(argv.size()), argv.data(),
                                  [this](const char* name) -> std::optional<std::string> {
                                      auto it = env.find(name);
                                      if (it == env.end()) return std::nullopt;
                                      return it->second;
                                  });
    }
    CallArguments call(std::vector<std::string> args) {
        auto request = parse(std::move(args));
        EXPECT_TRUE(request.call.has_value());
        return request.call.value_or(CallArguments{});
    }
};
}  // namespace

TEST(ParamValueTest, JsonWhenItParsesElseString) {
    EXPECT_EQ(parseParamValue("42"), json::value(42));
    EXPECT_EQ(parseParamValue("-1.5"), json::value(-1.5));
    EXPECT_EQ(parseParamValue("true"), json::value(true));
    EXPECT_EQ(parseParamValue("null"), json::value(nullptr));
    EXPECT_EQ(parseParamValue(R"(["a",{"b":1}])"), json::parse(R"(["a",{"b":1}])"));
    EXPECT_EQ(parseParamValue(R"("42")"), json::value("42"));
    EXPECT_EQ(parseParamValue("Hello World"), json::value("Hello World"));
    EXPECT_EQ(parseParamValue("announcements"), json::value("announcements"));
    EXPECT_EQ(parseParamValue(""), json::value(""));
    EXPECT_EQ(parseParamValue("{broken"), json::value("{broken"));
    EXPECT_EQ(parseParamValue("1 2"), json::value("1 2"));
}

TEST_F(CallArgumentsTest, ServiceCommandAndPairs) {
    auto args = call({"pubsub_backend", "publish", "channel=announcements", "message=Hello World", "n=3"});
    EXPECT_EQ(args.service, "pubsub_backend");
    EXPECT_EQ(args.command, "publish");
    EXPECT_EQ(json::value(args.params), json::parse(R"({"channel":"announcements","message":"Hello World","n":3})"));
    EXPECT_EQ(args.url, kDefaultBackendUrl);
    EXPECT_EQ(args.key, "envkey");
}

TEST_F(CallArgumentsTest, ValueMayContainEqualsAndStartWithDash) {
    auto args = call({"s", "c", "expr=a=b", "n=-5"});
    EXPECT_EQ(args.params.at("expr"), "a=b");
    EXPECT_EQ(args.params.at("n"), -5);
}

TEST_F(CallArgumentsTest, ParamsObjectMergedWithPairsPairsWin) {
    auto args = call({"s", "c", "--params", R"({"a":1,"b":{"x":[1]}})", "a=2"});
    EXPECT_EQ(json::value(args.params), json::parse(R"({"a":2,"b":{"x":[1]}})"));
    args = call({"--params", R"({"a":1})", "s", "c"});
    EXPECT_EQ(json::value(args.params), json::parse(R"({"a":1})"));
}

TEST_F(CallArgumentsTest, OptionsOverrideEnvironment) {
    env["SNORKY_BACKEND_URL"] = "http://env-host:1/backend";
    EXPECT_EQ(call({"s", "c"}).url, "http://env-host:1/backend");
    auto args = call({"--url", "https://cli-host/backend", "--key", "clikey", "s", "c"});
    EXPECT_EQ(args.url, "https://cli-host/backend");
    EXPECT_EQ(args.key, "clikey");
}

TEST_F(CallArgumentsTest, Timeouts) {
    auto args = call({"--timeout", "1.5", "--connect-timeout", "0.25", "s", "c"});
    EXPECT_EQ(args.requestTimeout, std::chrono::milliseconds(1500));
    EXPECT_EQ(args.connectTimeout, std::chrono::milliseconds(250));
}

TEST_F(CallArgumentsTest, HelpIsNotACall) {
    auto request = parse({"--help"});
    EXPECT_FALSE(request.call.has_value());
    EXPECT_NE(request.help.find("SNORKY_BACKEND_KEY"), std::string::npos);
    EXPECT_NE(request.help.find("64"), std::string::npos);
}

TEST_F(CallArgumentsTest, UsageErrors) {
    std::vector<std::vector<std::string>> bad = {
        {},
        {"only_service"},
        {"s", "c", "novalue"},
        {"s", "c", "=value"},
        {"s", "c", "a=1", "a=2"},
        {"s", "c", "--params", "[1]"},
        {"s", "c", "--params", "{bad"},
        {"s", "c", "--unknown"},
        {"--url", "ftp://h/x", "s", "c"},
        {"--timeout", "0", "s", "c"},
        {"--timeout", "abc", "s", "c"},
    };
    for (const auto& args : bad) {
        EXPECT_THROW(parse(args), UsageError) << ::testing::PrintToString(args);
    }
}

TEST_F(CallArgumentsTest, MissingKeyIsAUsageError) {
    env.clear();
    try {
        parse({"s", "c"});
        FAIL() << "no exception";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("SNORKY_BACKEND_KEY"), std::string::npos);
    }
}
