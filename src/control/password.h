// Password hashing for local users: argon2id (libargon2) in its encoded form
// ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"), so the parameters travel with each hash and
// can be raised later without breaking stored ones.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace arbor::control {

// InvalidArgument for passwords outside limits::password_bytes_min..max.
Status CheckPasswordPolicy(std::string_view password);

// A fresh random salt each call.
StatusOr<std::string> HashPassword(std::string_view password);

// True when `password` matches `encoded`; false for a mismatch or a malformed hash.
bool VerifyPassword(const std::string& encoded, std::string_view password);

// Spends the time of one VerifyPassword, matching nothing: used for unknown or disabled
// users so that timing does not tell which emails have accounts.
void VerifyDummyPassword(std::string_view password);

}  // namespace arbor::control
