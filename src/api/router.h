// A route table: method + path pattern ("/v1/experiment/{}/fetch") -> handler.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/http.h"
#include "control/auth.h"

namespace arbor::api {

struct Call {
  const Request& request;
  const control::Principal& principal;  // empty org for public routes
  std::vector<std::string> params;      // the {} segments, in order
};

using RouteHandler = std::function<Response(const Call&)>;

struct Route {
  std::string method;
  std::string pattern;
  bool public_route = false;  // no API key needed (health, signed blob URLs)
  RouteHandler handler;
};

class Router {
 public:
  void Add(Route route);
  // Finds the route for a request. `path_matched` tells 405 from 404 when none fits.
  const Route* Match(const std::string& method, const std::string& path,
                     std::vector<std::string>& params, bool& path_matched) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace arbor::api
