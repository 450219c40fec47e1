// Helpers for tests that run real sockets: an io_context on a background thread, a way to run a
// function on it and wait for the answer, a temporary directory, and bounded polling.
#pragma once

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <thread>

namespace ikemesh::daemon::test {

class IoThread {
  public:
    IoThread() : guard_(io.get_executor()) {}
    ~IoThread() { stop(); }

    void start() {
        thread_ = std::thread([this] { io.run(); });
    }
    void stop() {
        if (!thread_.joinable()) return;
        guard_.reset();
        boost::asio::post(io, [this] { io.stop(); });
        thread_.join();
    }
    bool running() const { return thread_.joinable(); }
    // Runs `f` on the io thread (or right here if it was never started) and returns its result.
    template <typename F>
    auto call(F f) -> decltype(f()) {
        if (!running()) return f();
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        boost::asio::post(io, [&task] { task(); });
        return fut.get();
    }

    boost::asio::io_context io;

  private:
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::thread thread_;
};

// Polls `cond` every few milliseconds for at most `limit`; returns its last value.
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return cond();
}

class TempDir {
  public:
    TempDir() {
        std::string tmpl = "/tmp/ikemesh-test-XXXXXX";
        char* p = mkdtemp(tmpl.data());
        if (p) path = p;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
    std::string path;
};

}  // namespace ikemesh::daemon::test
