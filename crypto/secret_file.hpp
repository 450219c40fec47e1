// Reading secrets from files: pre-shared keys and private keys.
//
// A secret file must be a regular file that neither group nor others may read or write (mode
// 0600 or stricter); anything else is refused with Errc::key_file_insecure before a byte is
// read, the way ssh refuses loose private keys. The check and the read use the same open file
// descriptor, so the file cannot be swapped in between. Contents go straight into SecretBytes.
// This unit does not parse anything: PEM keys are parsed by PrivateKey (crypto/signature.hpp).
#pragma once

#include <string>

#include "common/result.hpp"
#include "crypto/secret.hpp"

namespace ikemesh::crypto {

// Files larger than this are refused (Errc::io_error): no PSK or key comes close.
inline constexpr size_t kMaxSecretFileSize = 1 << 20;

// The whole file, with one trailing newline ("\n" or "\r\n") removed so that a PSK written with
// `echo` or an editor means what it says. Errors: key_file_insecure, io_error.
Result<SecretBytes> read_secret_file(const std::string& path);

// The whole file, unmodified (for PEM private keys).
Result<SecretBytes> read_secret_file_raw(const std::string& path);

}  // namespace ikemesh::crypto
