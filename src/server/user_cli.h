// `arbor user ...`: local users managed offline (or next to a running server: the catalog is
// SQLite in WAL mode, shared safely between processes), so an operator can create the first
// user of an org.
#pragma once

#include <functional>
#include <istream>
#include <ostream>
#include <string>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::serve {

// `verb` is create | disable | enable | set-password | list; `flag` looks up --name values.
// Passwords come from --password-file (trailing newline dropped) or one line of `in`.
Status UserCommand(catalog::Catalog& catalog, const std::string& verb,
                   const std::function<std::string(const std::string&)>& flag, std::istream& in,
                   std::ostream& out);

}  // namespace arbor::serve
