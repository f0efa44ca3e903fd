#include "storage/object_store.h"

#include <cctype>
#include <filesystem>

#include "base/util.h"

namespace arbor::storage {
namespace {

class LocalDirObjectStore final : public ObjectStore {
 public:
  explicit LocalDirObjectStore(std::string root) : root_(std::move(root)) {}

  Status Put(const std::string& key, std::string_view data) override {
    if (!IsValidObjectKey(key)) return InvalidArgument("invalid object key");
    std::filesystem::path path = std::filesystem::path(root_) / key;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Internal("cannot create " + path.parent_path().string());
    return WriteFileAtomic(path.string(), data);
  }

  StatusOr<std::string> Get(const std::string& key) override {
    if (!IsValidObjectKey(key)) return InvalidArgument("invalid object key");
    auto data = ReadFile((std::filesystem::path(root_) / key).string());
    if (!data.ok()) return NotFound("no object with key " + key);
    return data;
  }

  Status Delete(const std::string& key) override {
    if (!IsValidObjectKey(key)) return InvalidArgument("invalid object key");
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(root_) / key, ec);
    return Status::Ok();
  }

 private:
  std::string root_;
};

}  // namespace

bool IsValidObjectKey(std::string_view key) {
  if (key.empty() || key.size() > 512 || key.front() == '/') return false;
  std::size_t seg_start = 0;
  for (std::size_t i = 0; i <= key.size(); ++i) {
    if (i == key.size() || key[i] == '/') {
      std::string_view seg = key.substr(seg_start, i - seg_start);
      if (seg.empty() || seg == "." || seg == "..") return false;
      seg_start = i + 1;
      continue;
    }
    char c = key[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::unique_ptr<ObjectStore> NewLocalDirObjectStore(std::string root) {
  return std::make_unique<LocalDirObjectStore>(std::move(root));
}

}  // namespace arbor::storage
