// Blob storage for attachments and overflow payloads. LocalDir now; S3 later.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace arbor::storage {

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual Status Put(const std::string& key, std::string_view data) = 0;
  virtual StatusOr<std::string> Get(const std::string& key) = 0;
  virtual Status Delete(const std::string& key) = 0;
};

// Keys are relative paths of [A-Za-z0-9._-] segments; anything else is rejected.
bool IsValidObjectKey(std::string_view key);

std::unique_ptr<ObjectStore> NewLocalDirObjectStore(std::string root);

}  // namespace arbor::storage
