// `arbor backup` / `arbor restore`: a consistent copy of a data dir, online or offline, with a
// manifest of every file's size and SHA-256 that restore checks before writing anything.
// Design and guarantees: docs/operations/backups.md.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/flusher.h"

namespace arbor::ops {

inline constexpr char kBackupManifestName[] = "BACKUP.json";
inline constexpr int kBackupFormatVersion = 1;

// Takes DATA_DIR/LOCK (flock, exclusive, non-blocking) for the life of the process and
// returns its fd: one `arbor serve` (or offline backup/export) per data dir.
// FailedPrecondition when another process holds it.
StatusOr<int> LockDataDir(const std::string& data_dir);

// Online: run inside the server. Cuts the WAL and copies, with flushes and compactions held
// off, the manifest's segments and the WAL files below the cut, then the catalog (SQLite
// online backup, taken after the cut so every object a copied row names is in it), the URL
// signing key and blobs. Every write acknowledged before the call is in the copy.
Status BackupOnline(const std::string& data_dir, storage::Flusher& flusher,
                    const std::string& out_dir, const std::string& arbor_version);

// Offline: the caller holds the data dir lock (no server runs); copies everything.
Status BackupOffline(const std::string& data_dir, const std::string& out_dir,
                     const std::string& arbor_version);

// Checks every file of a backup against its manifest (size and SHA-256). DataLoss on any
// difference, missing file or unsafe path.
Status VerifyBackup(const std::string& backup_dir);

// Verifies, then copies the backup into `data_dir`, which must not exist or be empty.
Status Restore(const std::string& backup_dir, const std::string& data_dir);

}  // namespace arbor::ops
