#include "server/user_cli.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "base/util.h"
#include "control/users.h"
#include "json/json.h"

namespace arbor::serve {
namespace {

// Reads one line from `in`, without echo when it is the terminal.
std::string ReadSecretLine(std::istream& in) {
  const bool tty = &in == &std::cin && isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    std::cerr << "password: " << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(in, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << std::endl;
  }
  return line;
}

StatusOr<std::string> Password(const std::function<std::string(const std::string&)>& flag,
                               std::istream& in) {
  std::string file = flag("password-file");
  std::string password;
  if (file.empty() || file == "-") {
    password = ReadSecretLine(in);
  } else {
    ASSIGN_OR_RETURN(password, ReadFile(file));
  }
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  return password;
}

StatusOr<catalog::Org> OrgNamed(catalog::Catalog& cat, const std::string& name) {
  if (!name.empty()) return cat.FindOrgByName(name);
  ASSIGN_OR_RETURN(auto orgs, cat.ListOrgs());
  if (orgs.empty()) return NotFound("no org yet: run `arbor serve` once or `arbor orgs create`");
  return orgs.front();
}

boost::json::object Describe(const catalog::User& u, const catalog::Org& org,
                             const std::string& role) {
  return {{"id", u.id},      {"email", u.email}, {"name", u.name},
          {"org", org.name}, {"role", role},     {"disabled", u.disabled}};
}

}  // namespace

Status UserCommand(catalog::Catalog& cat, const std::string& verb,
                   const std::function<std::string(const std::string&)>& flag, std::istream& in,
                   std::ostream& out) {
  control::Users users(cat);
  const std::string email = flag("email");
  if (verb == "list") {
    ASSIGN_OR_RETURN(catalog::Org org, OrgNamed(cat, flag("org")));
    ASSIGN_OR_RETURN(auto members, cat.ListOrgMembers(org.id));
    for (const auto& m : members) {
      ASSIGN_OR_RETURN(catalog::User u, cat.GetUser(m.user_id));
      out << json::Serialize(Describe(u, org, m.role)) << std::endl;
    }
    return Status::Ok();
  }
  if (email.empty()) return InvalidArgument("--email is required");
  if (verb == "create") {
    ASSIGN_OR_RETURN(catalog::Org org, OrgNamed(cat, flag("org")));
    const std::string role = flag("role").empty() ? "owner" : flag("role");
    if (auto existing = cat.FindUserByEmail(email); existing.ok()) {
      // One account, several orgs: a known email joins the org; its password stays.
      RETURN_IF_ERROR(users.AddToOrg(org.id, existing->id, role));
      out << json::Serialize(Describe(*existing, org, role)) << std::endl;
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::string password, Password(flag, in));
    ASSIGN_OR_RETURN(catalog::User u,
                     users.CreateUser(org.id, email, flag("name"), password, role));
    out << json::Serialize(Describe(u, org, role)) << std::endl;
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(catalog::User u, cat.FindUserByEmail(email));
  if (verb == "disable" || verb == "enable") return users.SetDisabled(u.id, verb == "disable");
  if (verb == "set-password") {
    ASSIGN_OR_RETURN(std::string password, Password(flag, in));
    return users.SetPassword(u.id, password);
  }
  return InvalidArgument("unknown `arbor user` command '" + verb + "'");
}

}  // namespace arbor::serve
