// Test helper: runs a piece of a test in a child process inside a fresh network namespace, so
// XFRM policies, states and interfaces made by the test never touch the host's namespace and
// vanish with the child. The child reports failures as text through a pipe; the parent turns
// them into Catch2 failures. Needs root (CAP_SYS_ADMIN for unshare, CAP_NET_ADMIN for XFRM).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

namespace ikemesh::kernel::test {

// Collects failures inside the child (Catch2 assertions must not run there).
class Checks {
  public:
    bool check(bool ok, const std::string& what) {
        if (!ok) failures_ += "  " + what + "\n";
        return ok;
    }
    const std::string& failures() const { return failures_; }

  private:
    std::string failures_;
};

// Runs `cmd` through the shell; its exit status (-1 if it could not run).
inline int shell(const std::string& cmd) {
    int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Runs `cmd` and returns its standard output.
inline std::string shell_output(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return out;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
        out.append(buf.data(), n);
    ::pclose(p);
    return out;
}

// Forks, enters a new network namespace with loopback up, runs `body`, and returns what it
// reported ("" = all checks passed). A crash or exception in the child is reported too.
inline std::string in_new_netns(const std::function<void(Checks&)>& body) {
    if (::geteuid() != 0) return "network namespace tests need root";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        ::close(fds[0]);
        Checks checks;
        if (::unshare(CLONE_NEWNET) != 0) {
            checks.check(false, std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
        } else if (shell("ip link set lo up") != 0) {
            checks.check(false, "ip link set lo up failed (is iproute2 installed?)");
        } else {
            try {
                body(checks);
            } catch (const std::exception& e) {
                checks.check(false, std::string("exception: ") + e.what());
            }
        }
        const std::string& out = checks.failures();
        size_t off = 0;
        while (off < out.size()) {
            ssize_t w = ::write(fds[1], out.data() + off, out.size() - off);
            if (w <= 0) break;
            off += static_cast<size_t>(w);
        }
        ::_exit(out.empty() ? 0 : 1);
    }
    ::close(fds[1]);
    std::string report;
    std::array<char, 4096> buf;
    ssize_t n;
    while ((n = ::read(fds[0], buf.data(), buf.size())) > 0) {
        report.append(buf.data(), static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status))
        return report + "  child died (signal " + std::to_string(WTERMSIG(status)) + ")\n";
    if (WEXITSTATUS(status) != 0 && report.empty()) return "child failed without a report";
    return report;
}

}  // namespace ikemesh::kernel::test
