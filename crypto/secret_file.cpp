#include "crypto/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ikemesh::crypto {
namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

Error io_error(const std::string& path, const char* what, int err) {
    return Error{Errc::io_error, path + ": " + what + ": " + std::strerror(err)};
}

}  // namespace

Result<SecretBytes> read_secret_file_raw(const std::string& path) {
    Fd f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (f.fd < 0) return io_error(path, "open", errno);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return io_error(path, "stat", errno);
    if (!S_ISREG(st.st_mode)) return Error{Errc::io_error, path + ": not a regular file"};
    if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0)
        return Error{Errc::key_file_insecure, path +
                                                  ": must not be readable or writable by "
                                                  "group or others (chmod 600)"};
    if (st.st_size < 0 || static_cast<size_t>(st.st_size) > kMaxSecretFileSize)
        return Error{Errc::io_error, path + ": file too large for a secret"};
    SecretBytes buf(static_cast<size_t>(st.st_size));
    size_t got = 0;
    auto out = buf.mutable_view();
    while (got < out.size()) {
        ssize_t n = ::read(f.fd, out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error(path, "read", errno);
        }
        if (n == 0) break;  // the file shrank; use what is there
        got += static_cast<size_t>(n);
    }
    if (got != out.size()) return buf.slice(0, got);
    return buf;
}

Result<SecretBytes> read_secret_file(const std::string& path) {
    auto raw = read_secret_file_raw(path);
    if (!raw) return raw;
    auto v = raw->view();
    size_t n = v.size();
    if (n > 0 && v[n - 1] == '\n') {
        --n;
        if (n > 0 && v[n - 1] == '\r') --n;
    }
    if (n == v.size()) return raw;
    return raw->slice(0, n);
}

}  // namespace ikemesh::crypto
