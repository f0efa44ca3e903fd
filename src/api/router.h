// A route table: method + path pattern ("/v1/experiment/{}/fetch") -> handler.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/http.h"
#include "base/status.h"
#include "control/access.h"
#include "control/auth.h"

namespace arbor::api {

struct Call {
  const Request& request;
  const control::Principal& principal;  // empty org for public routes
  std::vector<std::string> params;      // the {} segments, in order
};

using RouteHandler = std::function<Response(const Call&)>;
// The objects a request acts on, for principals whose org role alone is not enough: their ACL
// grants there decide (api/access_policy.cc). Errors answer the request.
using ObjectResolver = std::function<StatusOr<std::vector<control::ObjectRef>>(const Call&)>;

struct Route {
  std::string method;
  std::string pattern;
  bool public_route = false;  // no API key needed (health, signed blob URLs)
  RouteHandler handler;
  // The lowest org role that may call it (control/access.h); checked once, in App::Dispatch.
  // kByMethod: read for GET, write otherwise, unless api/access_policy.cc says more.
  control::Need need = control::Need::kByMethod;
  ObjectResolver objects;  // empty: only the org role counts
  // The route writes rows only through App::WriteRows, which checks each row's object itself
  // (OTLP and Langfuse find the objects while decoding): Dispatch lets any member through.
  bool checks_rows = false;
};

class Router {
 public:
  void Add(Route route);
  // Finds the route for a request. `path_matched` tells 405 from 404 when none fits.
  const Route* Match(const std::string& method, const std::string& path,
                     std::vector<std::string>& params, bool& path_matched) const;
  const std::vector<Route>& routes() const { return routes_; }
  std::vector<Route>& mutable_routes() { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace arbor::api
