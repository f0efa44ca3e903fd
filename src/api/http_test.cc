#include "api/http.h"

#include <gtest/gtest.h>

#include "api/cors.h"
#include "api/router.h"

namespace arbor::api {
namespace {

TEST(Http, StatusMapping) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  Response r = Error(NotFound("x \"y\""));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"x \"y\""}})");
}

TEST(Http, QueryStringDecoding) {
  auto q = ParseQueryString("a=1&b=x%20y+z&c&d=%2F");
  EXPECT_EQ(q["a"], "1");
  EXPECT_EQ(q["b"], "x y z");
  EXPECT_EQ(q["c"], "");
  EXPECT_EQ(q["d"], "/");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
}

TEST(Router, MatchesPatternsAndTellsMethodFromPath) {
  Router r;
  r.Add({"GET", "/v1/{}/{}/fetch", false, nullptr});
  r.Add({"POST", "/logs3", false, nullptr});
  std::vector<std::string> params;
  bool path_matched = false;
  EXPECT_NE(r.Match("GET", "/v1/experiment/abc/fetch", params, path_matched), nullptr);
  EXPECT_EQ(params, (std::vector<std::string>{"experiment", "abc"}));
  EXPECT_EQ(r.Match("GET", "/logs3", params, path_matched), nullptr);
  EXPECT_TRUE(path_matched);
  EXPECT_EQ(r.Match("GET", "/nope", params, path_matched), nullptr);
  EXPECT_FALSE(path_matched);
}

TEST(Router, ALiteralSegmentBeatsAPlaceholder) {
  Router r;
  r.Add({"GET", "/v1/organization/{}", false, nullptr});
  r.Add({"GET", "/v1/organization/members", false, nullptr});
  std::vector<std::string> params;
  bool path_matched = false;
  const Route* got = r.Match("GET", "/v1/organization/members", params, path_matched);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->pattern, "/v1/organization/members");
  EXPECT_TRUE(params.empty());
  got = r.Match("GET", "/v1/organization/abc", params, path_matched);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(params, (std::vector<std::string>{"abc"}));
}

TEST(Cors, OnlyAllowedOriginsGetHeaders) {
  Request req;
  req.method = "OPTIONS";
  req.headers["origin"] = "https://www.braintrust.dev";
  Response pre = Preflight(req);
  EXPECT_EQ(pre.status, 204);
  bool allowed = false;
  for (auto& [k, v] : pre.headers)
    allowed |= k == "Access-Control-Allow-Origin" && v == req.headers["origin"];
  EXPECT_TRUE(allowed);
  req.headers["origin"] = "https://evil.example";
  for (auto& [k, v] : Preflight(req).headers) EXPECT_NE(k, "Access-Control-Allow-Origin");
  EXPECT_TRUE(IsAllowedOrigin("https://x.preview.braintrust.dev"));
  EXPECT_FALSE(IsAllowedOrigin("https://preview.braintrust.dev.evil.com"));
}

}  // namespace
}  // namespace arbor::api
