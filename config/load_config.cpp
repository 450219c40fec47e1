// load_config: the config directory on disk -> parse_config.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/config.hpp"

namespace ikemesh::config {
namespace {

namespace fs = std::filesystem;

// Reads a whole regular file with one open descriptor, so the mode checked is the mode of the
// file read.
Result<SourceFile> read_source(const fs::path& path, std::string name) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error{Errc::io_error, "cannot open " + path.string() + ": " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error{Errc::io_error, path.string() + " is not a regular file"};
    }
    if (static_cast<uint64_t>(st.st_size) > kMaxConfigFileBytes) {
        ::close(fd);
        return Error{Errc::io_error, path.string() + " is larger than " +
                                         std::to_string(kMaxConfigFileBytes) + " bytes"};
    }
    SourceFile file;
    file.name = std::move(name);
    file.readable_by_others = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
    file.text.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < file.text.size()) {
        ssize_t n = ::read(fd, file.text.data() + done, file.text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return Error{Errc::io_error,
                         "cannot read " + path.string() + ": " + std::strerror(err)};
        }
        if (n == 0) break;  // the file shrank while we read it
        done += static_cast<size_t>(n);
    }
    file.text.resize(done);
    ::close(fd);
    return file;
}

bool is_drop_in(const std::string& name) {
    constexpr std::string_view kSuffix = ".conf";
    return name.size() > kSuffix.size() && name[0] != '.' &&
           name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

void wipe(std::vector<SourceFile>& files) {
    // The texts may hold inline PSKs.
    for (auto& f : files)
        OPENSSL_cleanse(f.text.data(), f.text.size());
}

}  // namespace

Result<Config> load_config(const fs::path& dir, Diagnostics* diagnostics) {
    DiskFileAccess files;
    return load_config(dir, files, diagnostics);
}

Result<Config> load_config(const fs::path& dir, const FileAccess& files, Diagnostics* diagnostics) {
    std::vector<SourceFile> sources;
    auto main = read_source(dir / kMainFileName, kMainFileName);
    if (!main) {
        if (diagnostics) diagnostics->error(kMainFileName, 0, "", main.error().detail);
        return main.take_error();
    }
    sources.push_back(std::move(*main));

    Diagnostics read_errors;
    std::vector<std::string> names;
    std::error_code ec;
    fs::path peers_dir = dir / kPeersDirName;
    if (fs::is_directory(peers_dir, ec)) {
        fs::directory_iterator it(peers_dir, ec), end;
        while (!ec && it != end) {
            std::string name = it->path().filename().string();
            if (is_drop_in(name) && names.size() <= kMaxPeers) names.push_back(std::move(name));
            it.increment(ec);
        }
        if (ec) {
            read_errors.error(kPeersDirName, 0, "",
                              "cannot list " + peers_dir.string() + ": " + ec.message());
        }
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        std::string shown = std::string(kPeersDirName) + "/" + name;
        fs::path path = peers_dir / name;
        if (!fs::is_regular_file(path, ec)) continue;  // directories or dangling links
        auto file = read_source(path, shown);
        if (!file) {
            read_errors.error(shown, 0, "", file.error().detail);
            continue;
        }
        sources.push_back(std::move(*file));
    }

    ParseOptions options;
    options.base_dir = dir;
    options.files = &files;
    Diagnostics diag = read_errors;
    auto config = parse_config(sources.front(), std::span(sources).subspan(1), options, &diag);
    wipe(sources);
    if (diagnostics) diagnostics->append(diag);
    if (config && read_errors.has_errors()) {
        std::string detail;
        for (const auto& d : read_errors.items()) {
            if (!detail.empty()) detail += '\n';
            detail += d.to_string();
        }
        return Error{Errc::config_invalid, std::move(detail)};
    }
    if (!config && read_errors.has_errors()) {
        Error e = config.take_error();
        std::string detail;
        for (const auto& d : read_errors.items())
            detail += d.to_string() + "\n";
        e.detail = detail + e.detail;
        return e;
    }
    return config;
}

}  // namespace ikemesh::config
