#include "server/backup.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <vector>

#include "base/util.h"
#include "catalog/sqlite_backup.h"
#include "json/json.h"
#include "storage/columns.h"
#include "storage/text_index.h"

namespace arbor::ops {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

struct CopiedFile {
  std::string path;  // relative to the backup dir, '/'-separated
  std::uint64_t bytes = 0;
  std::string sha256;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Streams `src` into `dst` (when not empty) and hashes it; fsyncs the copy.
StatusOr<CopiedFile> CopyAndHash(const std::string& src, const std::string& dst) {
  Fd in{::open(src.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return Internal("cannot open " + src);
  Fd out;
  if (!dst.empty()) {
    out.fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out.fd < 0) return Internal("cannot create " + dst);
  }
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<unsigned char> buf(1 << 20);
  CopiedFile file;
  for (;;) {
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0) return Internal("cannot read " + src);
    if (n == 0) break;
    crypto_hash_sha256_update(&state, buf.data(), static_cast<unsigned long long>(n));
    file.bytes += static_cast<std::uint64_t>(n);
    for (ssize_t done = 0; out.fd >= 0 && done < n;) {
      ssize_t w = ::write(out.fd, buf.data() + done, static_cast<std::size_t>(n - done));
      if (w <= 0) return Internal("cannot write " + dst);
      done += w;
    }
  }
  if (out.fd >= 0 && ::fsync(out.fd) != 0) return Internal("cannot fsync " + dst);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  file.sha256 = HexEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
  return file;
}

// Collects the files of one backup as they are copied, then writes BACKUP.json last: a
// backup without its manifest is incomplete and restore refuses it.
class BackupWriter {
 public:
  BackupWriter(std::string data_dir, std::string out_dir)
      : data_(std::move(data_dir)), out_(std::move(out_dir)) {}

  Status Prepare() {
    std::error_code ec;
    if (fs::exists(out_, ec) && !fs::is_empty(out_, ec)) {
      return AlreadyExists("backup target " + out_ + " is not empty");
    }
    for (const char* sub : {"", "/wal", "/segments", "/blobs"}) {
      fs::create_directories(out_ + sub, ec);
      if (ec) return Internal("cannot create " + out_ + sub + ": " + ec.message());
    }
    return Status::Ok();
  }

  // Copies DATA_DIR/rel into the backup.
  Status Copy(const std::string& rel) {
    ASSIGN_OR_RETURN(CopiedFile f, CopyAndHash(data_ + "/" + rel, out_ + "/" + rel));
    f.path = rel;
    files_.push_back(std::move(f));
    return Status::Ok();
  }

  // Records a file already written into the backup (the catalog copy).
  Status Add(const std::string& rel) {
    ASSIGN_OR_RETURN(CopiedFile f, CopyAndHash(out_ + "/" + rel, ""));
    f.path = rel;
    files_.push_back(std::move(f));
    return Status::Ok();
  }

  // The segment files the manifest names, then the manifest itself.
  Status CopySegments() {
    const std::string manifest = data_ + "/segments/MANIFEST.json";
    if (!fs::exists(manifest)) return Status::Ok();  // nothing flushed yet
    ASSIGN_OR_RETURN(std::string text, ReadFile(manifest));
    ASSIGN_OR_RETURN(bj::value doc, json::Parse(text));
    const bj::value* segs = doc.is_object() ? doc.as_object().if_contains("segments") : nullptr;
    if (segs == nullptr || !segs->is_array()) return DataLoss("bad segments manifest");
    for (const bj::value& s : segs->as_array()) {
      const bj::value* n = s.is_object() ? s.as_object().if_contains("number") : nullptr;
      if (n == nullptr || !n->is_number()) return DataLoss("bad segments manifest");
      char name[40];
      std::snprintf(name, sizeof(name), "segments/seg-%010llu.arbseg",
                    static_cast<unsigned long long>(n->to_number<std::uint64_t>()));
      RETURN_IF_ERROR(Copy(name));
      // Its text index, when it has one (an accelerator: a restore without it still works).
      const std::string index = storage::TextIndexPathFor(name);
      if (fs::exists(data_ + "/" + index)) RETURN_IF_ERROR(Copy(index));
      // Its typed columns, likewise an accelerator (storage/columns.h).
      const std::string columns = storage::ColumnsPathFor(name);
      if (fs::exists(data_ + "/" + columns)) RETURN_IF_ERROR(Copy(columns));
    }
    return Copy("segments/MANIFEST.json");
  }

  // WAL files numbered below `below` (every one when 0).
  Status CopyWal(std::uint64_t below) {
    std::vector<std::pair<std::uint64_t, std::string>> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(data_ + "/wal", ec)) {
      std::string name = e.path().filename().string();
      if (name.size() != 14 || !name.ends_with(".wal")) continue;
      files.emplace_back(std::strtoull(name.c_str(), nullptr, 10), name);
    }
    if (ec) return Internal("cannot list " + data_ + "/wal: " + ec.message());
    for (const auto& [number, name] : files) {
      if (below == 0 || number < below) RETURN_IF_ERROR(Copy("wal/" + name));
    }
    return Status::Ok();
  }

  // Blobs are written once (atomic rename) and never changed: a plain walk is consistent.
  Status CopyBlobs() {
    std::error_code ec;
    if (!fs::exists(data_ + "/blobs")) return Status::Ok();
    for (auto it = fs::recursive_directory_iterator(data_ + "/blobs", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string rel = fs::relative(it->path(), data_).generic_string();
      if (it->is_directory()) {
        fs::create_directories(out_ + "/" + rel, ec);
      } else if (it->is_regular_file() && !rel.ends_with(".tmp")) {
        RETURN_IF_ERROR(Copy(rel));
      }
    }
    if (ec) return Internal("cannot copy blobs: " + ec.message());
    return Status::Ok();
  }

  Status CopyCatalogAndKeys() {
    RETURN_IF_ERROR(catalog::BackupSqliteFile(data_ + "/catalog.db", out_ + "/catalog.db"));
    RETURN_IF_ERROR(Add("catalog.db"));
    if (fs::exists(data_ + "/url-signing.key")) RETURN_IF_ERROR(Copy("url-signing.key"));
    return Status::Ok();
  }

  Status Finish(const std::string& mode, const std::string& version, std::uint64_t cut_tag) {
    bj::array files;
    for (const CopiedFile& f : files_) {
      files.push_back(
          bj::object{{"path", f.path}, {"bytes", std::to_string(f.bytes)}, {"sha256", f.sha256}});
    }
    bj::object manifest{{"format", "arbor-backup"},
                        {"format_version", kBackupFormatVersion},
                        {"arbor_version", version},
                        {"mode", mode},
                        {"created", FormatIsoTime(NowMicros())},
                        {"wal_cut_xact", std::to_string(cut_tag)},
                        {"files", std::move(files)}};
    for (const char* sub : {"/wal", "/segments", "/blobs", ""}) {
      RETURN_IF_ERROR(FsyncDirectory(out_ + sub));
    }
    return WriteFileAtomic(out_ + "/" + kBackupManifestName, json::Serialize(manifest) + "\n");
  }

 private:
  std::string data_;
  std::string out_;
  std::vector<CopiedFile> files_;
};

bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(p)) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

StatusOr<std::vector<CopiedFile>> ReadManifest(const std::string& dir) {
  auto text = ReadFile(dir + "/" + kBackupManifestName);
  if (!text.ok()) return DataLoss("no " + std::string(kBackupManifestName) + " in " + dir);
  auto doc = json::Parse(*text);
  if (!doc.ok() || !doc->is_object()) return DataLoss("backup manifest is not JSON");
  const bj::object& m = doc->as_object();
  const bj::value* fmt = m.if_contains("format_version");
  const bj::value* format = m.if_contains("format");
  if (format == nullptr || !format->is_string() || format->as_string() != "arbor-backup" ||
      fmt == nullptr || !fmt->is_int64() || fmt->as_int64() != kBackupFormatVersion) {
    return DataLoss("not an arbor backup (format version " + std::to_string(kBackupFormatVersion) +
                    ")");
  }
  const bj::value* files = m.if_contains("files");
  if (files == nullptr || !files->is_array()) return DataLoss("backup manifest has no files");
  std::vector<CopiedFile> out;
  for (const bj::value& v : files->as_array()) {
    const bj::object* f = v.if_object();
    if (f == nullptr || !f->contains("path") || !f->at("path").is_string() ||
        !f->contains("bytes") || !f->at("bytes").is_string() || !f->contains("sha256") ||
        !f->at("sha256").is_string()) {
      return DataLoss("bad file entry in backup manifest");
    }
    CopiedFile c{.path = std::string(f->at("path").as_string()),
                 .bytes = std::strtoull(f->at("bytes").as_string().c_str(), nullptr, 10),
                 .sha256 = std::string(f->at("sha256").as_string())};
    if (!SafeRelativePath(c.path)) return DataLoss("unsafe path in backup manifest: " + c.path);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

StatusOr<int> LockDataDir(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Internal("cannot create data dir " + data_dir + ": " + ec.message());
  const std::string path = data_dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FailedPrecondition("data dir " + data_dir + " is in use by another arbor process");
  }
  return fd;
}

Status BackupOnline(const std::string& data_dir, storage::Flusher& flusher,
                    const std::string& out_dir, const std::string& arbor_version) {
  BackupWriter w(data_dir, out_dir);
  RETURN_IF_ERROR(w.Prepare());
  std::uint64_t cut_tag = 0;
  RETURN_IF_ERROR(flusher.WithCut([&](const storage::WalRotation& cut) -> Status {
    cut_tag = cut.tag;
    RETURN_IF_ERROR(w.CopySegments());
    return w.CopyWal(cut.first_file);
  }));
  RETURN_IF_ERROR(w.CopyCatalogAndKeys());
  RETURN_IF_ERROR(w.CopyBlobs());
  return w.Finish("online", arbor_version, cut_tag);
}

Status BackupOffline(const std::string& data_dir, const std::string& out_dir,
                     const std::string& arbor_version) {
  if (!fs::exists(data_dir + "/catalog.db")) {
    return NotFound("no arbor data dir at " + data_dir + " (catalog.db missing)");
  }
  BackupWriter w(data_dir, out_dir);
  RETURN_IF_ERROR(w.Prepare());
  RETURN_IF_ERROR(w.CopySegments());
  RETURN_IF_ERROR(w.CopyWal(0));
  RETURN_IF_ERROR(w.CopyCatalogAndKeys());
  RETURN_IF_ERROR(w.CopyBlobs());
  return w.Finish("offline", arbor_version, 0);
}

Status VerifyBackup(const std::string& backup_dir) {
  ASSIGN_OR_RETURN(std::vector<CopiedFile> files, ReadManifest(backup_dir));
  bool has_catalog = false;
  for (const CopiedFile& f : files) {
    auto got = CopyAndHash(backup_dir + "/" + f.path, "");
    if (!got.ok()) return DataLoss("backup file missing or unreadable: " + f.path);
    if (got->bytes != f.bytes || got->sha256 != f.sha256) {
      return DataLoss("backup file " + f.path + " is damaged (size or SHA-256 differs)");
    }
    has_catalog = has_catalog || f.path == "catalog.db";
  }
  if (!has_catalog) return DataLoss("backup has no catalog.db");
  return Status::Ok();
}

Status Restore(const std::string& backup_dir, const std::string& data_dir) {
  std::error_code ec;
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec)) {
    return AlreadyExists("restore target " + data_dir + " is not empty");
  }
  RETURN_IF_ERROR(VerifyBackup(backup_dir));
  ASSIGN_OR_RETURN(std::vector<CopiedFile> files, ReadManifest(backup_dir));
  for (const char* sub : {"", "/wal", "/segments", "/blobs"}) {
    fs::create_directories(data_dir + sub, ec);
    if (ec) return Internal("cannot create " + data_dir + sub + ": " + ec.message());
  }
  for (const CopiedFile& f : files) {
    fs::create_directories(fs::path(data_dir + "/" + f.path).parent_path(), ec);
    ASSIGN_OR_RETURN(CopiedFile got,
                     CopyAndHash(backup_dir + "/" + f.path, data_dir + "/" + f.path));
    // Checked again while copying: the backup may have changed since VerifyBackup.
    if (got.sha256 != f.sha256) return DataLoss("backup file " + f.path + " changed");
  }
  for (const char* sub : {"/wal", "/segments", "/blobs", ""}) {
    RETURN_IF_ERROR(FsyncDirectory(data_dir + sub));
  }
  return Status::Ok();
}

}  // namespace arbor::ops
