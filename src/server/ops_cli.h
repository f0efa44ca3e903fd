// The operator commands of the CLI: `arbor backup`, `arbor restore` and `arbor export`.
#pragma once

#include <ostream>
#include <string>

#include "base/status.h"

namespace arbor::ops {

// Online through the running server's admin socket when one serves `data_dir`, else offline
// (holding the data dir lock, so a server cannot start meanwhile).
Status BackupCommand(const std::string& data_dir, const std::string& out_dir,
                     const std::string& version);

Status RestoreCommand(const std::string& backup_dir, const std::string& data_dir);

struct ExportSpec {
  std::string object_type;  // "experiment" | "dataset" | "project_logs"
  std::string object_id;
  std::string url;       // set: ask this running server ...
  std::string api_key;   // ... with this key
  std::string data_dir;  // else: read this (stopped) data dir
};

// Writes the object's live rows (newest version of each, no deleted rows) as JSONL.
Status ExportCommand(const ExportSpec& spec, std::ostream& out);

}  // namespace arbor::ops
