// The access-control surface (protocol §5): /v1/role and /v1/group (routes_rbac.cc),
// /v1/acl (routes_acl.cc), /v1/organization/members and /v1/service_token
// (routes_members.cc). What each route needs is set in access_policy.cc.
#pragma once

#include <string>

#include "api/router.h"
#include "catalog/catalog.h"
#include "control/access.h"
#include "control/auth.h"

namespace arbor::api {

void AddRbacRoutes(Router& router, catalog::Catalog& catalog, control::Access& access);
void AddAclRoutes(Router& router, catalog::Catalog& catalog, control::Access& access);
void AddMemberRoutes(Router& router, catalog::Catalog& catalog, control::Auth& auth);

// One JSON object per route: method, pattern, public, need (read|write|admin|owner) and
// project_scoped (ACL grants on the request's projects can stand in for the org role). What
// `arbor routes` prints and the route-walking test walks.
boost::json::array RouteTable(const Router& router);

// Ok when `subject` is a member of the org or one of its live API keys (a service account).
Status CheckSubject(catalog::Catalog& catalog, const std::string& org_id,
                    const std::string& subject);

}  // namespace arbor::api
